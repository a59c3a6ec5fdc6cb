#!/usr/bin/env python3
"""Benchmark: this checkout's `buildtool scan` against another checkout's, side by side.

Run on demand (not a test)::

    git -C . archive main | (mkdir -p /tmp/main && tar x -C /tmp/main)
    python bench/bench_compare.py --baseline /tmp/main [--root CONFIGURED_ASTERISK_ROOT] [--repeat 10]

For a change that must not slow the scanner down: each command runs as a whole
process under both checkouts, alternately (so a busy machine weighs on both
alike), with the same interpreter; the figure is CPU time (user + system of the
process), best of ``--repeat``, which a shared machine's load moves far less
than wall time. Commands: ``buildtool scan`` of an empty directory (start-up),
of a 500-module synthetic tree (``synth_tree.py``, 16.7 MB) and, with
``--root``, of a real Asterisk root. Prints a markdown table with the ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth_tree import generate_tree  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_of(command: list[str], cwd: Path) -> float:
    before = _children_cpu()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[:6])} failed in {cwd}: {done.stderr.decode()[-800:]}")
    return _children_cpu() - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, type=Path, help="the other checkout (its buildtool/ is run)")
    parser.add_argument("--root", type=Path, help="a configured Asterisk root to scan too")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    checkouts = {"baseline": args.baseline.resolve(), "this checkout": HERE.parent}
    for where in checkouts.values():
        if not (where / "buildtool" / "__main__.py").is_file():
            raise SystemExit(f"{where} holds no buildtool/ package")
    with tempfile.TemporaryDirectory(prefix="bench_compare.") as tmp:
        work = Path(tmp)
        facts = generate_tree(work / "tree", 500, seed=0, with_bodies=True)
        (work / "empty").mkdir()
        commands = {
            "`buildtool scan` of an empty directory (start-up)": ["scan", str(work / "empty")],
            f"`buildtool scan --format json`, 500 synthetic modules ({facts['bytes'] / 1e6:.1f} MB)":
                ["scan", "--format", "json", "--catalog", facts["catalog"], *facts["directories"]],
        }
        if args.root:
            commands[f"`buildtool scan ROOT`, {args.root.resolve().name}"] = ["scan", str(args.root.resolve())]
        best: dict[tuple[str, str], float] = {}
        for _ in range(args.repeat):
            for label, command in commands.items():
                for name, where in checkouts.items():
                    # -m with the checkout as working directory: its buildtool/ comes first on sys.path
                    seconds = cpu_of([sys.executable, "-m", "buildtool", *command], where)
                    best[(label, name)] = min(best.get((label, name), float("inf")), seconds)
    print(f"baseline {checkouts['baseline']}, best of {args.repeat}, interleaved, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| command | baseline CPU s | this checkout CPU s | this / baseline |")
    print("|---|---:|---:|---:|")
    for label in commands:
        base, this = best[(label, "baseline")], best[(label, "this checkout")]
        print(f"| {label} | {base:.3f} | {this:.3f} | {this / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

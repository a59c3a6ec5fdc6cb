#!/usr/bin/env python3
"""Body edits interleaved across kept bench_edit.py trees: a change's before and after, side by side.

Run on demand (not a test), after two or more ``python bench/bench_edit.py --keep DIR`` runs, e.g. one
from a checkout before a change and one after it (the same ``--modules`` and bodies, so the same leaf)::

    python bench/bench_edit_compare.py [--rounds 30] DIR...

In each round every tree's ``build`` gets the same body edit of the leaf module and its undo (two
``ninja`` runs), and so does the plain project of the last DIR (``plain-build``); the order alternates
between rounds, so a busy machine disturbs every tree alike. Each ``.ninja_log`` is recompacted first
(ninja lets it grow to three times its entries, which costs every run). Prints the minimum and median
wall and CPU (user + sys of ninja and everything it ran) per tree and each tree's ratio to the plain
project. No floor: bench_edit.py has it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import NINJA, _env, leaf_module  # noqa: E402
from bench_edit import COMPILE, REGENERATE  # noqa: E402

BODY = ("static int unload_module(void)\n{", "static int unload_module(void)\n{\n\t/* edited */")


def ninja(build: Path) -> tuple[float, float]:
    """One ``ninja`` run after an edit: wall and CPU seconds; it must compile one module and not re-configure."""
    start = time.perf_counter()
    process = subprocess.Popen([NINJA, "-C", str(build)], env=_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0 or len(COMPILE.findall(out)) != 1 or REGENERATE in out:
        raise SystemExit(f"{build}: not one compile without a re-configure:\n{out[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="directories of `bench_edit.py --keep DIR` runs")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    works = [Path(d).resolve() for d in args.dirs]
    leaf = leaf_module(works[-1] / "src")
    trees = [(str(w), w / "build", w / "src" / "modules" / f"{leaf}.c") for w in works]
    trees.append(("plain", works[-1] / "plain-build", works[-1] / "plain" / "modules" / f"{leaf}.c"))
    for _, build, source in trees:
        if BODY[0] not in source.read_text():
            raise SystemExit(f"{source}: not the leaf bench_edit.py edits")
        subprocess.run([NINJA, "-C", str(build)], env=_env(), stdout=subprocess.DEVNULL, check=True)
        subprocess.run([NINJA, "-C", str(build), "-t", "recompact"], env=_env(), stdout=subprocess.DEVNULL, check=True)
    samples: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label, _, _ in trees}
    for r in range(args.rounds):
        for label, build, source in (trees if r % 2 == 0 else trees[::-1]):
            original = source.read_text()
            for text in (original.replace(*BODY, 1), original):
                source.write_text(text)
                wall, cpu = ninja(build)
                samples[label][0].append(wall)
                samples[label][1].append(cpu)

    def best(values: list[float]) -> float:
        return min(values)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    plain_wall, plain_cpu = samples["plain"]
    print(f"Body edit of {leaf}, {2 * args.rounds} ninja runs per tree, interleaved.\n")
    print("| tree | wall best / median (ms) | CPU best / median (ms) | wall ratio best / median | CPU ratio best |")
    print("|---|---:|---:|---:|---:|")
    for label, _, _ in trees:
        wall, cpu = samples[label]
        print(f"| {label} | {best(wall) * 1000:.1f} / {median(wall) * 1000:.1f} | "
              f"{best(cpu) * 1000:.1f} / {median(cpu) * 1000:.1f} | "
              f"{best(wall) / best(plain_wall):.3f}x / {median(wall) / median(plain_wall):.3f}x | "
              f"{best(cpu) / best(plain_cpu):.3f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

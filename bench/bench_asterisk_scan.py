#!/usr/bin/env python3
"""Benchmark: `buildtool scan ROOT` on a real Asterisk tree against Asterisk's own ways of reading it.

Run on demand (not a test)::

    python bench/bench_asterisk_scan.py [--root CONFIGURED_ROOT] [--repeat 5]

Without ``--root`` it extracts ``../shared/asterisk/asterisk-*.tar.xz`` (beside
the repository) and runs ``./configure --without-pjproject-bundled
--without-pjproject`` first (not timed). The root is copied to a temporary
directory, so nothing of the given root is written. Measured side by side,
best of ``--repeat`` whole processes:

- ``buildtool scan ROOT`` (every member read, parsed and classified; text summary);
- ``buildtool scan --format xml -o FILE ROOT`` (the menuselect-tree written too);
- ``make menuselect-tree`` from a clean state (its per-directory ``.moduleinfo``
  and ``.makeopts`` caches and the tree removed before each run, not timed);
- Asterisk's awk-per-file extraction: ``for f in SOURCES; do awk -f
  build_tools/get_moduleinfo $f; done`` over every member source, in one ``sh``.

Prints a markdown table with each wall time and CPU time (user + system of
every process the command ran) and their ratios to make and to awk. On a
shared machine CPU time is the steadier figure; compare rows of one run.
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "asterisk"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_of(repeat: int, command: list[str], cwd: Path, before=None) -> tuple[float, float]:
    """Best wall time and best CPU time (user + system of every process it ran) over ``repeat`` runs.
    CPU time barely moves with the machine's load; wall time does."""
    best = best_cpu = float("inf")
    for _ in range(repeat):
        if before:
            before()
        cpu = _children_cpu()
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command[:4])} failed: {done.stderr.decode()[-800:]}")
        best = min(best, elapsed)
        best_cpu = min(best_cpu, _children_cpu() - cpu)
    return best, best_cpu


def prepare(root: str | None, work: Path) -> Path:
    if root:
        dest = work / "root"
        shutil.copytree(root, dest, symlinks=True)
        if not (dest / "makeopts").exists():
            raise SystemExit(f"{root} is not configured: run ./configure there first")
        return dest
    tarballs = sorted(SHARED.glob("asterisk-*.tar.*"))
    if not tarballs:
        raise SystemExit(f"no --root given and no tarball in {SHARED}")
    subprocess.run(["tar", "xf", str(tarballs[-1]), "-C", str(work)], check=True)
    (dest,) = [p for p in work.iterdir() if p.is_dir()]
    print(f"configuring {dest.name} (not timed) ...", file=sys.stderr)
    subprocess.run(["./configure", "--without-pjproject-bundled", "--without-pjproject"], cwd=dest, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="a configured Asterisk root (copied; default: extract the shared tarball)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-asterisk-") as tmp:
        work = Path(tmp)
        root = prepare(args.root, work)
        sys.path.insert(0, str(REPO))
        from buildtool.asterisk import root as asterisk_root

        found = asterisk_root.read(str(root))
        sources = sorted(os.path.relpath(m.path, root) for m in found.members if m.kind == "source")

        def clean() -> None:
            for pattern in ("menuselect-tree", "*/.*.moduleinfo", "*/.moduleinfo", "*/.*.makeopts", "*/.makeopts"):
                for path in glob.glob(str(root / pattern)):
                    os.unlink(path)

        tool = [sys.executable, "-m", "buildtool"]
        out = work / "tree.xml"
        rows = [
            ("buildtool scan ROOT", best_of(args.repeat, tool + ["scan", str(root)], REPO)),
            ("buildtool scan --format xml -o F ROOT",
             best_of(args.repeat, tool + ["scan", "--format", "xml", "-o", str(out), str(root)], REPO)),
            ("make menuselect-tree (clean)", best_of(args.repeat, ["make", "menuselect-tree"], root, clean)),
            (f"awk -f get_moduleinfo per file ({len(sources)} files)",
             best_of(args.repeat, ["sh", "-c", 'for f in "$@"; do awk -f build_tools/get_moduleinfo "$f"; done',
                                   "sh", *sources], root)),
        ]
        identical = out.read_bytes() == (root / "menuselect-tree").read_bytes()
    make_time, make_cpu = rows[2][1]
    awk_time, awk_cpu = rows[3][1]
    print(f"Asterisk root: {root.name}, {len(found.members)} members, best of {args.repeat}, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| command | wall s | / make | / awk per file | CPU s | CPU / make | CPU / awk per file |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (seconds, cpu) in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / make_time:.3f} | {seconds / awk_time:.3f} "
              f"| {cpu:.3f} | {cpu / make_cpu:.3f} | {cpu / awk_cpu:.3f} |")
    print(f"\nmenuselect-tree byte-identical to make's: {'yes' if identical else 'NO'}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())

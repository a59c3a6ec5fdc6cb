#!/usr/bin/env python3
"""Asterisk's own build with injected data against the stock build, on the real snapshot.

Run on demand (not a test; about 12 minutes on 2 cores)::

    python bench/bench_asterisk_build.py [--edits 5] [--keep DIR]

Extracts ``../shared/asterisk/asterisk-*.tar.xz`` (beside the repository),
configures it once and copies the configured tree, then in one run:

- full ``make -j2``: the stock copy, then the copy after ``buildtool
  asterisk-setup`` (every module compiled with its MODULEINFO injected);
- a one-module body edit (a comment line appended to ``apps/app_stack.c``),
  then ``make -j2`` from the top, in each tree, ``--edits`` times
  alternating; best of each (the injected tree also runs the header rule:
  one ``buildtool asterisk-setup --module`` process);

Floors (issue 8): full build at most 1.05x stock, one-module edit at most
1.2x stock. Prints a markdown table and exits 1 when a floor is missed. The
machine is shared and noisy: the full builds are one round each, so run it
when nothing else runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Compile without ccache: a warm cache would time ccache, not the compiler (meson wraps
# the compiler in ccache whenever it is on PATH; bench/bench_cache.py measures ccache itself).
os.environ["CCACHE_DISABLE"] = "1"

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import asterisk_tree as at  # noqa: E402  (the tests' harness: extract, configure)

FLOOR_FULL = 1.05
FLOOR_EDIT = 1.2
JOBS = f"-j{os.cpu_count() or 2}"


def timed_make(root: Path, log: Path) -> float:
    start = time.perf_counter()
    at.run(["make", JOBS], root, log, 3600)
    return time.perf_counter() - start


def edit(root: Path, round_: int) -> None:
    source = root / "apps" / "app_stack.c"
    with open(source, "a", encoding="latin-1") as handle:
        handle.write(f"/* benchmark edit {round_} */\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--keep", metavar="DIR", help="work here and keep the trees")
    args = parser.parse_args()
    if at.skip_reason():
        print(at.skip_reason(), file=sys.stderr)
        return 2
    base = Path(args.keep or tempfile.mkdtemp(prefix="bench-asterisk-"))
    base.mkdir(parents=True, exist_ok=True)
    stock = at.extract(base / "stock")
    at.configure(stock, base / "configure.log")
    injected = base / "injected" / stock.name
    shutil.copytree(stock, injected, symlinks=True)
    subprocess.run([sys.executable, "-m", "buildtool", "asterisk-setup", str(injected)], check=True,
                   capture_output=True)

    full_stock = timed_make(stock, base / "stock.log")
    full_injected = timed_make(injected, base / "injected.log")
    edits = {"stock": [], "injected": []}
    for round_ in range(args.edits):
        for name, root in (("stock", stock), ("injected", injected)):
            edit(root, round_)
            edits[name].append(timed_make(root, base / f"edit-{name}.log"))
    best_stock, best_injected = min(edits["stock"]), min(edits["injected"])
    rows = [
        ("full make", full_stock, full_injected, FLOOR_FULL),
        ("one-module body edit, make (best of %d)" % args.edits, best_stock, best_injected, FLOOR_EDIT),
    ]
    print("| build | stock | injected | ratio | floor |")
    print("|---|---:|---:|---:|---|")
    missed = False
    for label, a, b, floor in rows:
        ratio = b / a
        missed |= ratio > floor
        print(f"| {label} | {a:.2f} s | {b:.2f} s | {ratio:.3f}x | {'met' if ratio <= floor else '**missed**'} "
              f"(<= {floor}x) |")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Start-up benchmark: `buildtool scan` on a real Asterisk tree against Asterisk's own extraction, and `--version`.

Run on demand (not a test)::

    python bench/bench_startup.py [--root ASTERISK_SOURCE] [--rounds 15] [--scan-root]

The tree is the shared snapshot (``/work/shared/asterisk/asterisk-22.10.1.tar.xz``,
extracted into a temporary directory) unless ``--root`` names one. Measured
whole-process, interleaved, best of ``--rounds``:

- Asterisk's way: one ``awk -f build_tools/get_moduleinfo FILE`` per module
  source, in one ``sh`` loop (what its Makefiles run), over the module
  directories below;
- ``buildtool scan --format json`` over the same directories with the tree's
  catalogues (``build_tools/menuselect-deps.in``, ``build_tools/cflags.xml``);
  with ``--scan-root``, ``buildtool scan --no-cache --format json ROOT`` instead
  (the scanner finds directories and catalogues itself; cold, every run:
  ``bench/bench_asterisk_scan.py`` measures the scan cache beside it);
- ``buildtool --version``, and ``python -c pass`` (the interpreter's own
  start-up, for scale).

Floors (issue 9): scan / awk <= 0.15, ``--version`` < 40 ms. Prints a table and
exits 1 when a floor is missed. CPU time (user + sys of the process and its
children, best of the rounds) is shown beside wall time: other jobs on a shared
machine disturb it far less.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

SNAPSHOT = Path("/work/shared/asterisk/asterisk-22.10.1.tar.xz")
MODULE_DIRS = ("apps", "bridges", "cdr", "cel", "channels", "codecs", "formats", "funcs", "pbx", "res", "addons",
               "tests")
CATALOGS = ("build_tools/menuselect-deps.in", "build_tools/cflags.xml")
SCAN_FLOOR, VERSION_FLOOR = 0.15, 0.040


def _buildtool() -> str:
    local = Path(sys.executable).parent / "buildtool"
    return str(local) if local.exists() else (shutil.which("buildtool") or "buildtool")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s of the process and its children)."""
    cpu = _cpu()
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, _cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="an Asterisk source tree (default: the shared snapshot, extracted)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--scan-root", action="store_true", help="run `buildtool scan ROOT` (no explicit directories)")
    args = parser.parse_args()
    work = None
    root = args.root
    if root is None:
        work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
        with tarfile.open(SNAPSHOT) as archive:
            archive.extractall(work, filter="data")
        root = next(work.iterdir())
    try:
        dirs = [d for d in MODULE_DIRS if (root / d).is_dir()]
        files = sorted(str(p.relative_to(root)) for d in dirs for p in (root / d).iterdir()
                       if p.suffix in (".c", ".cc") and p.is_file())
        tool = _buildtool()
        # Bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set and no __pycache__,
        # every run would compile each module it imports again.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parent.parent
                                                                         / "buildtool")], check=True)
        awk = ["sh", "-c", 'for f in "$@"; do awk -f build_tools/get_moduleinfo "$f"; done', "sh", *files]
        if args.scan_root:
            scan = [tool, "scan", "--no-cache", "--format", "json", str(root)]
        else:
            scan = [tool, "scan", "--format", "json"]
            for catalog in CATALOGS:
                scan += ["--catalog", catalog]
            scan += dirs
        checked = subprocess.run(scan, cwd=root, capture_output=True, text=True)
        if checked.returncode not in (0, 1) or not checked.stdout.startswith("{"):
            raise SystemExit(f"scan failed ({checked.returncode}):\n{checked.stderr[-3000:]}")
        errors = checked.stderr.count(": error:")
        commands = {"awk": awk, "scan": scan, "version": [tool, "--version"], "python": [sys.executable, "-c", "pass"]}
        best = {name: float("inf") for name in commands}
        cpu = {name: float("inf") for name in commands}
        order = list(commands)
        for r in range(args.rounds):
            for name in order[r % len(order):] + order[:r % len(order)]:
                wall, used = timed(commands[name], root)
                best[name] = min(best[name], wall)
                cpu[name] = min(cpu[name], used)
        ratio = best["scan"] / best["awk"]
        ok = ratio <= SCAN_FLOOR and best["version"] < VERSION_FLOOR
        print(f"\nStart-up benchmark: {root.name}, {len(files)} module sources in {len(dirs)} directories; "
              f"best of {args.rounds} interleaved runs; scan reported {errors} error diagnostics.\n")
        print("| measurement | wall (ms) | baseline wall (ms) | wall ratio | CPU ratio | floor |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| `buildtool scan` ({'ROOT' if args.scan_root else 'directories + catalogues'}) vs one "
              f"`awk -f get_moduleinfo` per file | {best['scan'] * 1000:.0f} | {best['awk'] * 1000:.0f} | "
              f"{ratio:.3f}x | {cpu['scan'] / cpu['awk']:.3f}x | {SCAN_FLOOR}x (wall) |")
        print(f"| `buildtool --version` (python -c pass as baseline) | {best['version'] * 1000:.1f} | "
              f"{best['python'] * 1000:.1f} | {best['version'] / best['python']:.2f}x | "
              f"{cpu['version'] / cpu['python']:.2f}x | < {VERSION_FLOOR * 1000:.0f} ms |")
        print(f"\nFloors: scan <= {SCAN_FLOOR}x awk, --version < {VERSION_FLOOR * 1000:.0f} ms. "
              f"{'All met.' if ok else 'NOT MET.'}")
        return 0 if ok else 1
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Benchmark: `buildtool scan ROOT` on a real Asterisk tree, cold and from its cache, against Asterisk's own ways.

Run on demand (not a test)::

    python bench/bench_asterisk_scan.py [--root ASTERISK_ROOT] [--repeat 7]

Without ``--root`` it extracts ``../shared/asterisk/asterisk-*.tar.xz`` (beside
the repository). The root is copied to a temporary directory, so nothing of the
given root is written, and ``./configure --without-pjproject-bundled
--without-pjproject`` runs there when it has no ``makeopts`` yet (not timed:
``make menuselect-tree`` needs it; the scan does not). Measured side by side,
interleaved, best of ``--repeat`` whole processes:

- ``buildtool scan --no-cache ROOT`` (cold: every Makefile evaluated, every member
  read, parsed and classified; text summary) and ``buildtool scan ROOT`` answered
  from its cache (warm: ``$XDG_CACHE_HOME`` pointed at a directory of this run,
  filled by one run first; every input is checked again, see
  ``buildtool/asterisk/scancache.py``), and once with ``--cache-dir DIR`` (a hit
  found after argparse has parsed the arguments);
- the same two with ``--format xml -o FILE`` (the menuselect-tree written too);
- ``make menuselect-tree`` from a clean state (its per-directory ``.moduleinfo``
  and ``.makeopts`` caches and the tree removed before each run, not timed);
- Asterisk's awk-per-file extraction: ``for f in SOURCES; do awk -f
  build_tools/get_moduleinfo $f; done`` over every member source, in one ``sh``;
- ``buildtool --version`` and ``python -c pass`` (the interpreter alone).

Prints a markdown table with each wall time and CPU time (user + system of
every process the command ran) and their ratios to make and to awk. On a
shared machine CPU time is the steadier figure; compare rows of one run. The
package is byte-compiled first (``compileall``), as pip does at install: where
``PYTHONDONTWRITEBYTECODE`` is set, each run would otherwise compile every
module it imports.
Floors (issue 9): the scan, whole process, at most 0.15x the awk loop (wall);
``--version`` under 40 ms. Exits 1 when the warm scan or ``--version`` misses its
floor, or an output differs (warm from cold, the XML from make's bytes); the
cold scan's ratio is printed beside it.
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


def run_once(command: list[str], cwd: Path, before=None, env=None) -> tuple[float, float]:
    """Wall time and CPU time (user + system of every process it ran) of one run; it must succeed."""
    if before:
        before()
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed: {done.stderr.decode()[-800:]}")
    return elapsed, _children_cpu() - cpu


def interleaved(repeat: int, commands: dict[str, tuple]) -> dict[str, tuple[float, float]]:
    """Best wall and best CPU time of each command over ``repeat`` rounds, each round in a rotated order,
    so that a burst of load on a shared machine falls on every command alike."""
    best = {name: (float("inf"), float("inf")) for name in commands}
    order = list(commands)
    for r in range(repeat):
        for name in order[r % len(order):] + order[:r % len(order)]:
            wall, cpu = run_once(*commands[name])
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def prepare(root: str | None, work: Path) -> Path:
    if root:
        dest = work / "root"
        shutil.copytree(root, dest, symlinks=True)
    else:
        tarballs = sorted(SHARED.glob("asterisk-*.tar.*"))
        if not tarballs:
            raise SystemExit(f"no --root given and no tarball in {SHARED}")
        subprocess.run(["tar", "xf", str(tarballs[-1]), "-C", str(work)], check=True)
        (dest,) = [p for p in work.iterdir() if p.is_dir()]
    if not (dest / "makeopts").exists():
        print(f"configuring {dest.name} (not timed) ...", file=sys.stderr)
        subprocess.run(["./configure", "--without-pjproject-bundled", "--without-pjproject"], cwd=dest, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return dest


SCAN_FLOOR, VERSION_FLOOR = 0.15, 0.040


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="an Asterisk source root (copied; default: extract the shared tarball)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-asterisk-") as tmp:
        work = Path(tmp)
        root = prepare(args.root, work)
        sys.path.insert(0, str(REPO))
        from buildtool.asterisk import root as asterisk_root
        from buildtool.asterisk import scancache

        # Bytecode as an installed package has it (pip compiles at install): with PYTHONDONTWRITEBYTECODE
        # set and no __pycache__, every run would compile each module it imports again (~80 ms of a cold scan).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "buildtool")], check=True)
        found = asterisk_root.read(str(root))
        sources = sorted(os.path.relpath(m.path, root) for m in found.members if m.kind == "source")

        def clean() -> None:
            for pattern in ("menuselect-tree", "*/.*.moduleinfo", "*/.moduleinfo", "*/.*.makeopts", "*/.makeopts"):
                for path in glob.glob(str(root / pattern)):
                    os.unlink(path)

        # make writes its .moduleinfo caches into the tree: run it once now, so that the cache
        # entries below are filled against the tree as it stays (clean() removes them again, and
        # they are no input of the scan: make's own files are not read by it).
        subprocess.run(["make", "menuselect-tree"], cwd=root, check=True, stdout=subprocess.DEVNULL)
        clean()
        # The cache in its default place ($XDG_CACHE_HOME/buildtool), here a directory of this run:
        # a hit there is found before the arguments are parsed; with --cache-dir, after.
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "xdg")}
        cache = work / "xdg" / "buildtool"
        tool = [sys.executable, "-m", "buildtool"]
        out_cold, out_warm = work / "cold.xml", work / "warm.xml"
        cold = tool + ["scan", "--no-cache", str(root)]
        warm = tool + ["scan", str(root)]
        warm_dir = tool + ["scan", "--cache-dir", str(work / "cache"), str(root)]
        cold_xml = tool + ["scan", "--no-cache", "--format", "xml", "-o", str(out_cold), str(root)]
        warm_xml = tool + ["scan", "--format", "xml", "-o", str(out_warm), str(root)]
        # A file changed within the cache's racy window is not trusted: wait it out once, then fill the cache.
        time.sleep(scancache.RACY_NS / 1e9 + 0.2)
        for command in (warm, warm_xml, warm_dir):
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        entries = len(list(cache.glob("scan-*.cache"))) + len(list((work / "cache").glob("scan-*.cache")))
        if entries != 3:
            raise SystemExit(f"the cache was not filled ({entries} entries)")
        same_text = (subprocess.run(cold, capture_output=True).stdout
                     == subprocess.run(warm, capture_output=True, env=env).stdout
                     == subprocess.run(warm_dir, capture_output=True).stdout)
        commands = {
            "`buildtool scan ROOT`, cold (`--no-cache`)": (cold, REPO),
            "`buildtool scan ROOT`, warm (from its cache)": (warm, REPO, None, env),
            "`buildtool scan --format xml -o F ROOT`, cold": (cold_xml, REPO),
            "`buildtool scan --format xml -o F ROOT`, warm": (warm_xml, REPO, None, env),
            "`make menuselect-tree` (its caches removed)": (["make", "menuselect-tree"], root, clean),
            f"`for f in SOURCES; do awk -f build_tools/get_moduleinfo $f; done` ({len(sources)} files)":
                (["sh", "-c", 'for f in "$@"; do awk -f build_tools/get_moduleinfo "$f"; done', "sh", *sources],
                 root),
            "`buildtool --version`": (tool + ["--version"], REPO),
            "`python -c pass` (the interpreter alone)": ([sys.executable, "-c", "pass"], REPO),
            "`buildtool scan --cache-dir DIR ROOT`, warm (the arguments parsed first)": (warm_dir, REPO),
        }
        best = interleaved(args.repeat, commands)
        make_bytes = (root / "menuselect-tree").read_bytes()
        identical = out_cold.read_bytes() == make_bytes and out_warm.read_bytes() == make_bytes
    names = list(commands)
    make_time, make_cpu = best[names[4]]
    awk_time, awk_cpu = best[names[5]]
    print(f"Asterisk root: {root.name}, {len(found.members)} members, best of {args.repeat} interleaved rounds, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| command | wall s | / make | / awk per file | CPU s | CPU / make | CPU / awk per file |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names[:6] + names[8:]:
        seconds, cpu = best[name]
        print(f"| {name} | {seconds:.3f} | {seconds / make_time:.3f} | {seconds / awk_time:.3f} "
              f"| {cpu:.3f} | {cpu / make_cpu:.3f} | {cpu / awk_cpu:.3f} |")
    for name in names[6:8]:
        print(f"| {name} | {best[name][0]:.4f} | | | {best[name][1]:.4f} | | |")
    warm_ratio = best[names[1]][0] / awk_time
    cold_ratio = best[names[0]][0] / awk_time
    version = best[names[6]][0]
    print(f"\nmenuselect-tree (cold and warm) byte-identical to make's: {'yes' if identical else 'NO'}; "
          f"warm text output equal to cold: {'yes' if same_text else 'NO'}")
    print(f"Floors: scan <= {SCAN_FLOOR}x the awk loop (wall): warm {warm_ratio:.3f}x "
          f"({'met' if warm_ratio <= SCAN_FLOOR else 'NOT met'}), cold {cold_ratio:.3f}x "
          f"({'met' if cold_ratio <= SCAN_FLOOR else 'not met'}); --version < {VERSION_FLOOR * 1000:.0f} ms: "
          f"{version * 1000:.1f} ms ({'met' if version < VERSION_FLOOR else 'NOT met'})")
    ok = identical and same_text and warm_ratio <= SCAN_FLOOR and version < VERSION_FLOOR
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

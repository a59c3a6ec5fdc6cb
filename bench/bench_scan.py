#!/usr/bin/env python3
"""Benchmark: `buildtool scan` against Asterisk-style one-awk-process-per-file extraction.

Run on demand (not a test)::

    python bench/bench_scan.py [--sizes 500 5000] [--repeat 3] [--seed 0]

For each size it generates a synthetic tree (bench/synth_tree.py) in a temporary
directory and measures, best of ``--repeat`` runs:

- the whole process ``python -m buildtool scan --format json`` (start-up, every
  file read, every block parsed and classified, JSON written);
- one ``awk '/\\/\\*\\*\\* MODULEINFO/,/\\*\\*\\*\\//' FILE`` per file from a
  single ``sh`` loop, the way Asterisk's Makefiles extract blocks (block
  extraction only; no XML parsed);
- the scan's peak RSS (``ru_maxrss`` of a child that runs nothing else);
- time per MB of source for both, and the scan's net time per MB (minus the
  start-up time of a scan over an empty directory), to show linear growth.

It prints a markdown table and PASS/FAIL for the floors: scan/awk <= 0.25 at
every size, peak RSS < 150 MB at the largest size, and no super-linear growth:
net scan time per MB at the largest size at most 1.5x the smallest's (it may
be lower: fixed costs beyond bare start-up still amortize over more modules).
Timings on a loaded machine are noisy; compare rows from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth_tree import generate_tree  # noqa: E402

AWK_PROGRAM = r"/\/\*\*\* MODULEINFO/,/\*\*\*\//"
RATIO_FLOOR = 0.25
RSS_FLOOR_MB = 150.0
LINEAR_LIMIT = 1.5

_RSS_PROBE = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def best_of(repeat: int, command: list[str], **kw) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
        elapsed = time.perf_counter() - start
        if result.returncode not in (0, 1):
            raise SystemExit(f"command failed ({result.returncode}): {' '.join(command[:6])}...\n"
                             + result.stderr.decode(errors="replace"))
        best = min(best, elapsed)
    return best


def scan_command(catalog: str, paths: list[str]) -> list[str]:
    return [sys.executable, "-m", "buildtool", "scan", "--format", "json", "--catalog", catalog, *paths]


def awk_command(files: list[str]) -> list[str]:
    script = f"for f in \"$@\"; do awk '{AWK_PROGRAM}' \"$f\"; done"
    return ["sh", "-c", script, "sh", *files]


def peak_rss_mb(command: list[str]) -> float:
    out = subprocess.run([sys.executable, "-c", _RSS_PROBE, *command], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024.0  # Linux: KiB


def check_outputs(catalog: str, facts: dict) -> None:
    """The two extractions agree on what they found (so the race is fair)."""
    scan = subprocess.run(scan_command(catalog, facts["directories"]), capture_output=True, text=True)
    tree = json.loads(scan.stdout)
    if len(tree["modules"]) != len(facts["sources"]) or tree["diagnostics"]:
        raise SystemExit(f"scan disagrees with the generated tree: {len(tree['modules'])} modules, "
                         f"{len(tree['diagnostics'])} diagnostics")
    awk = subprocess.run(awk_command(facts["sources"]), capture_output=True, text=True, check=True)
    if awk.stdout.count("/*** MODULEINFO") != len(facts["sources"]):
        raise SystemExit("awk did not find one block per file")


def measure(size: int, repeat: int, seed: int, workdir: Path) -> dict:
    root = workdir / f"tree{size}"
    facts = generate_tree(root, size, seed=seed, with_bodies=True)
    megabytes = facts["bytes"] / 1e6
    catalog = facts["catalog"]
    check_outputs(catalog, facts)
    empty = workdir / "empty"
    empty.mkdir(exist_ok=True)
    env = dict(os.environ, LC_ALL="C")
    startup = best_of(repeat, scan_command(catalog, [str(empty)]))
    scan_s = best_of(repeat, scan_command(catalog, facts["directories"]))
    awk_s = best_of(repeat, awk_command(facts["sources"]), env=env)
    rss = peak_rss_mb(scan_command(catalog, facts["directories"]))
    return {
        "modules": size,
        "megabytes": megabytes,
        "startup_s": startup,
        "scan_s": scan_s,
        "awk_s": awk_s,
        "ratio": scan_s / awk_s,
        "rss_mb": rss,
        "scan_ms_per_mb": 1000 * scan_s / megabytes,
        "net_scan_ms_per_mb": 1000 * max(scan_s - startup, 0.0) / megabytes,
        "awk_ms_per_mb": 1000 * awk_s / megabytes,
    }


def report(rows: list[dict]) -> bool:
    print("| modules | source MB | scan (s) | awk per file (s) | scan/awk | scan peak RSS (MB) "
          "| scan ms/MB | scan net ms/MB | awk ms/MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['modules']:,} | {r['megabytes']:.1f} | {r['scan_s']:.3f} | {r['awk_s']:.3f} | {r['ratio']:.3f} "
              f"| {r['rss_mb']:.1f} | {r['scan_ms_per_mb']:.2f} | {r['net_scan_ms_per_mb']:.2f} "
              f"| {r['awk_ms_per_mb']:.2f} |")
    print(f"\nscan start-up (empty directory): {min(r['startup_s'] for r in rows):.3f} s\n")
    ok = True
    checks = []
    for r in rows:
        checks.append((f"scan/awk <= {RATIO_FLOOR} at {r['modules']:,} modules ({r['ratio']:.3f})",
                       r["ratio"] <= RATIO_FLOOR))
    largest = max(rows, key=lambda r: r["modules"])
    checks.append((f"peak RSS < {RSS_FLOOR_MB:.0f} MB at {largest['modules']:,} modules ({largest['rss_mb']:.1f} MB)",
                   largest["rss_mb"] < RSS_FLOOR_MB))
    if len(rows) > 1:
        smallest = min(rows, key=lambda r: r["modules"])
        growth = largest["net_scan_ms_per_mb"] / smallest["net_scan_ms_per_mb"]
        checks.append((f"linear growth: net scan ms/MB at {largest['modules']:,} modules = {growth:.2f}x the "
                       f"{smallest['modules']:,}-module figure (limit {LINEAR_LIMIT}x)",
                       growth <= LINEAR_LIMIT))
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {text}")
        ok &= passed
    return ok


def long_blocks(repeat: int) -> bool:
    """One module whose block holds 50,000 to 200,000 tags (a hostile but possible input), in this
    process: the time must grow linearly with the tags (it was quadratic in two places)."""
    sys.path.insert(0, str(HERE.parent))
    from buildtool.scan import scan

    forms = {"one tag a line": lambda i: f"\t<use>n{i}</use>\n",
             "stray text after each": lambda i: f"\t<use>n{i}</use>, x{i}\n"}
    ok = True
    print("\n| block (CPU time of scan(), in process) | 50,000 tags (s) | 100,000 (s) | 200,000 (s) | 200k / 50k (4.0 = linear) |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench_scan_long.") as tmp:
        for label, tag in forms.items():
            times = []
            for n in (50_000, 100_000, 200_000):
                body = "".join(tag(i) for i in range(n))
                Path(tmp, "res_long.c").write_text(f"/*** MODULEINFO\n{body}\t<support_level>core</support_level>\n ***/\n")
                best = float("inf")
                for _ in range(repeat):
                    t0 = time.process_time()  # CPU time: this row is about growth, not start-up
                    scan([tmp])
                    best = min(best, time.process_time() - t0)
                times.append(best)
            growth = times[2] / times[0]
            ok &= growth < 6.0  # 4.0 is linear; 16.0 quadratic; the rest is the collector and the caches
            print(f"| {label} | {times[0]:.2f} | {times[1]:.2f} | {times[2]:.2f} | {growth:.1f} |")
    print(f"long blocks: {'PASS' if ok else 'FAIL'} (growth < 6x for 4x the tags)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description="buildtool scan vs one awk per file")
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", metavar="DIR", help="generate the trees here and keep them")
    args = parser.parse_args()
    os.chdir(HERE.parent)  # so `python -m buildtool` finds this checkout even when not installed
    with tempfile.TemporaryDirectory(prefix="bench_scan.") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, best of {args.repeat}\n")
        rows = [measure(size, args.repeat, args.seed, workdir) for size in args.sizes]
    ok = report(rows)
    ok &= long_blocks(args.repeat)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Benchmark: full ``buildtool check --binaries --xmldoc`` on a generated tree of built modules.

Run on demand (not a test)::

    python bench/bench_check.py [--modules 1000] [--seed 0] [--tiny] [--repeat 3] [--keep DIR]

It generates a synthetic tree (bench/synth_tree.py: realistic sizes and
dependencies; ``--tiny`` for small bodies), writes every module's header with
``buildtool generate``, builds every module with gcc in parallel (the flags
``buildtool cflags`` gives: ``-I include -I GEN -DAST_MODULE=... -DAST_MODULEINFO_HEADER=...``),
writes the xmldoc document with ``buildtool xmldoc``, then measures, best of
``--repeat`` runs:

- the whole command ``python -m buildtool check --binaries OUT --xmldoc DOC``
  (process start-up included): floor under 3 s for 1,000 modules;
- each stage in-process (``buildtool.check.run``): scan (scan + graph), binary
  read (records compared with the sources), symbols, xmldoc (document read and
  compared, hashes verified), as total and per module.

Prints a markdown table and PASS/FAIL for the floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Compile without ccache: a warm cache would time ccache, not the compiler (meson wraps
# the compiler in ccache whenever it is on PATH; bench/bench_cache.py measures ccache itself).
os.environ["CCACHE_DISABLE"] = "1"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from synth_tree import generate_tree  # noqa: E402

FLOOR_SECONDS = 3.0


def buildtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "buildtool", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


def prepare(work: Path, n: int, seed: int, tiny: bool, jobs: int) -> dict:
    facts = generate_tree(work / "src", n, seed, with_bodies=not tiny)
    gen, out = work / "gen", work / "out"
    done = buildtool("generate", "--catalog", facts["catalog"], "--out-dir", gen, "--errors-in-headers",
                     *facts["directories"])
    if done.returncode != 0:
        raise SystemExit(f"generate failed:\n{done.stderr}")
    out.mkdir(parents=True, exist_ok=True)
    cc = shutil.which("gcc") or shutil.which("cc")

    def compile_one(source: str) -> None:
        name = Path(source).stem
        command = [cc, "-shared", "-fPIC", "-O0", f"-I{ROOT / 'include'}", f"-I{gen}", f'-DAST_MODULE="{name}"',
                   f'-DAST_MODULEINFO_HEADER="{name}.modinfo.h"', "-o", str(out / f"{name}.so"), source]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{source}: {result.stderr[:2000]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(compile_one, facts["sources"]))
    build_seconds = time.perf_counter() - start
    doc = work / "core-en_US.xml"
    done = buildtool("xmldoc", "--catalog", facts["catalog"], "-o", doc, *facts["directories"])
    if done.returncode not in (0, 1):
        raise SystemExit(f"xmldoc failed:\n{done.stderr}")
    facts.update(out=out, doc=doc, build_seconds=build_seconds)
    return facts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="tiny module bodies (faster to build)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", metavar="DIR", help="build the tree here and keep it")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-check-"))
    try:
        facts = prepare(work, args.modules, args.seed, args.tiny, args.jobs)
        n = len(facts["sources"])
        print(f"{n} modules ({facts['bytes'] / 1e6:.1f} MB of source) built in {facts['build_seconds']:.1f} s "
              f"with {args.jobs} jobs")
        command = ["check", "--catalog", facts["catalog"], "--binaries", facts["out"], "--xmldoc", facts["doc"],
                   "--format", "json", "-o", work / "report.json", *facts["directories"]]
        walls = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = buildtool(*command)
            walls.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise SystemExit(f"check failed ({done.returncode}):\n{done.stderr}")
        import json

        summary = json.loads((work / "report.json").read_text())["summary"]

        from buildtool import catalog
        from buildtool.check import Options, run

        stages: dict[str, float] = {}
        for _ in range(args.repeat):
            result = run(Options(paths=facts["directories"], catalog=catalog.load_all([facts["catalog"]]),
                                 binaries=str(facts["out"]), xmldoc=str(facts["doc"])))
            for stage, seconds in result.timings.items():
                stages[stage] = min(stages.get(stage, float("inf")), seconds)
        wall = min(walls)
        print()
        print("| stage | total (s) | per module (us) |")
        print("| --- | ---: | ---: |")
        names = {"scan": "scan (sources + graph)", "binaries": "binary read (records vs sources)",
                 "symbols": "symbols", "xmldoc": "xmldoc (read, compare, verify hashes)"}
        for stage, seconds in stages.items():
            print(f"| {names.get(stage, stage)} | {seconds:.3f} | {seconds / n * 1e6:.0f} |")
        print(f"| in-process total | {sum(stages.values()):.3f} | {sum(stages.values()) / n * 1e6:.0f} |")
        print(f"| whole command (`buildtool check --binaries --xmldoc`, process start-up included) | "
              f"{wall:.3f} | {wall / n * 1e6:.0f} |")
        print()
        print(f"findings: {summary['errors']} errors, {summary['warnings']} warnings, {summary['notes']} notes "
              f"({', '.join(f'{k} {v}' for k, v in summary['codes'].items()) or 'none'})")
        verdict = "PASS" if wall < FLOOR_SECONDS else "FAIL"
        print(f"{verdict}: whole command {wall:.2f} s for {n} modules (floor: under {FLOOR_SECONDS:.0f} s)")
        return 0 if verdict == "PASS" else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Build benchmark: the cost of injecting MODULEINFO data into a meson/ninja build.

Run on demand (not a test)::

    python bench/bench_build.py [--sizes 200 1000] [--rounds 2] [--keep DIR]

For each size it generates a tree of tiny modules (bench/synth_tree.py, tiny
bodies; a small built-in generator when that script is absent), puts them in a
copy of this project as modules/, and measures in one run:

- ``meson setup`` and full ``ninja`` time with injection (``-Dinjection=true``)
  and without (``-Dinjection=false``: the same build, every generated header
  has empty fields and no MODULEINFO is read at build time); best of
  ``--rounds`` fresh build directories each, alternating;
- the no-op ``ninja`` time (best and median of 10) on the injected build;
- how many modules ninja recompiles after one MODULEINFO edit in a leaf
  module (one nothing requires), counted from ninja's own output, and after
  one body edit.

Floors (issue 3): ratio at most 1.10x, no-op under 0.1 s at 1,000 modules,
exactly one module rebuilt after the leaf edit. Prints a markdown table and
exits 1 when a floor is missed.

Every library the synthetic tree names is mapped to zlib in the catalogue (the
one library certain to be on the machine), and every build option is enabled,
so every module is built and linked.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

# Compile without ccache: a warm cache would time ccache, not the compiler (meson wraps
# the compiler in ccache whenever it is on PATH; bench/bench_cache.py measures ccache itself).
os.environ["CCACHE_DISABLE"] = "1"

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMPILE = re.compile(r"Compiling C object modules/([A-Za-z0-9_]+)\.so\.p/")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env


def _tool(name: str) -> str:
    local = BIN / name
    return str(local) if local.exists() else (shutil.which(name) or name)


MESON, NINJA = _tool("meson"), _tool("ninja")


LAST_CPU = [0.0]  # CPU seconds (user + sys, all descendants) of the last _run


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], cwd: Path | None = None) -> tuple[float, str]:
    cpu = _cpu()
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    LAST_CPU[0] = _cpu() - cpu
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return elapsed, result.stdout + result.stderr


# --- the tree -----------------------------------------------------------------

def _fallback_tree(out: Path, n: int) -> dict:
    """A small generator for when bench/synth_tree.py is absent: a layered DAG of tiny modules."""
    import random

    rng = random.Random(0)
    names: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        name = f"{('res', 'app', 'func', 'chan')[i % 4]}_synth{i:04d}"
        deps = sorted(set(rng.sample(names, min(len(names), rng.choice((0, 0, 1, 1, 2, 3))))))
        block = "".join(f"\t<depend>{d}</depend>\n" for d in deps)
        (out / f"{name}.c").write_text(
            f"/*** MODULEINFO\n{block}\t<support_level>extended</support_level>\n ***/\n\n"
            '#include "asterisk/module.h"\n\n'
            "static int load_module(void)\n{\n\treturn AST_MODULE_LOAD_SUCCESS;\n}\n\n"
            "static int unload_module(void)\n{\n\treturn 0;\n}\n\n"
            f'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Synthetic {i}");\n')
        names.append(name)
    catalog = out / "catalog.toml"
    catalog.write_text('options = ["TEST_FRAMEWORK"]\nbuiltins = ["cdr"]\n[libraries]\nzlib = "zlib"\n')
    return {"sources": [str(out / f"{n}.c") for n in names], "catalog": str(catalog), "generator": "fallback"}


def make_tree(root: Path, n: int, with_bodies: bool = False) -> tuple[Path, list[str], str]:
    """A project copy whose modules/ holds ``n`` synthetic modules; returns (source dir, options, generator)."""
    src = root / "src"
    src.mkdir(parents=True)
    for name in ("meson.build", "meson.options"):
        shutil.copy2(REPO / name, src / name)
    for name in ("core", "include", "tools"):
        shutil.copytree(REPO / name, src / name)
    modules = src / "modules"
    modules.mkdir()
    shutil.copy2(REPO / "modules" / "meson.build", modules / "meson.build")
    raw = root / "raw"
    try:
        sys.path.insert(0, str(REPO / "bench"))
        from synth_tree import generate_tree  # type: ignore

        facts = generate_tree(raw, n, seed=0, with_bodies=with_bodies)
        generator = "bench/synth_tree.py"
    except ImportError:
        facts = _fallback_tree(raw, n)
        generator = "fallback"
    for source in facts["sources"]:
        shutil.copy2(source, modules / Path(source).name)
    data = tomllib.loads(Path(facts["catalog"]).read_text())
    options = list(data.get("options", []))
    lines = [f"{key} = [" + ", ".join(f'"{v}"' for v in data.get(key, [])) + "]"
             for key in ("options", "builtins", "interfaces", "platforms")]
    lines.append("[libraries]")
    lines += [f'{name} = "zlib"' for name in sorted(data.get("libraries", {}))]
    (modules / "catalog.toml").write_text("\n".join(lines) + "\n")
    (modules / "modules.conf").write_text("[modules]\nautoload = yes\n")
    return src, ["-Dbuild_options=" + ",".join(options)] if options else [], generator


def leaf_module(src: Path) -> str:
    """A module that no other module names (required or optional), preferring the last by name."""
    texts = {p.stem: p.read_text(errors="replace") for p in (src / "modules").glob("*.c")}
    named = set()
    for text in texts.values():
        block = text.split("/*** MODULEINFO", 1)[-1].split("***/", 1)[0]
        named |= set(re.findall(r">\s*([A-Za-z0-9_]+)\s*</", block))
    leaves = sorted(n for n in texts if n not in named)
    return leaves[-1]


# --- measurements --------------------------------------------------------------

def full_build(src: Path, build: Path, injection: bool, options: list[str]) -> tuple[float, float, int, float]:
    """(setup wall s, build wall s, modules compiled, setup + build CPU s)."""
    if build.exists():
        shutil.rmtree(build)
    setup, _ = _run([MESON, "setup", str(build), str(src), f"-Dinjection={'true' if injection else 'false'}",
                     *options])
    cpu = LAST_CPU[0]
    compile_time, out = _run([NINJA, "-C", str(build)])
    return setup, compile_time, len(COMPILE.findall(out)), cpu + LAST_CPU[0]


def noop_times(build: Path, runs: int = 10) -> list[float]:
    times = []
    for _ in range(runs):
        elapsed, out = _run([NINJA, "-C", str(build)])
        if "no work to do" not in out:
            raise SystemExit(f"no-op ninja did work:\n{out}")
        times.append(elapsed)
    return times


def edit_and_count(src: Path, build: Path, module: str, old: str, new: str) -> tuple[int, float, list[str]]:
    path = src / "modules" / f"{module}.c"
    text = path.read_text()
    assert old in text, (module, old)
    path.write_text(text.replace(old, new, 1))
    elapsed, out = _run([NINJA, "-C", str(build)])
    return len(COMPILE.findall(out)), elapsed, sorted(set(COMPILE.findall(out)))


def bench_size(root: Path, n: int, rounds: int) -> dict:
    src, options, generator = make_tree(root, n)
    results = {True: [], False: []}
    for r in range(rounds):
        for injection in ((True, False) if r % 2 == 0 else (False, True)):
            results[injection].append(full_build(src, root / f"build-{'inj' if injection else 'plain'}",
                                                 injection, options))
    best = {k: (min(x[0] for x in v), min(x[1] for x in v), v[0][2], min(x[3] for x in v))
            for k, v in results.items()}
    build = root / "build-inj"  # the last injected build stays
    if not (build / "build.ninja").exists():
        full_build(src, build, True, options)
    noop = noop_times(build)
    leaf = leaf_module(src)
    leaf_count, leaf_time, leaf_rebuilt = edit_and_count(
        src, build, leaf, "<support_level>", '<use type="module">' + leaf_module_other(src, leaf)
        + "</use>\n\t<support_level>")
    body_count, body_time, _ = edit_and_count(src, build, leaf, "static int unload_module(void)\n{",
                                              "static int unload_module(void)\n{\n\t/* edited */")
    return {
        "n": n, "generator": generator, "built": best[True][2], "built_plain": best[False][2],
        "setup_inj": best[True][0], "setup_plain": best[False][0],
        "build_inj": best[True][1], "build_plain": best[False][1],
        "cpu_inj": best[True][3], "cpu_plain": best[False][3],
        "noop_best": min(noop), "noop_median": statistics.median(noop),
        "leaf": leaf, "leaf_count": leaf_count, "leaf_time": leaf_time, "leaf_rebuilt": leaf_rebuilt,
        "body_count": body_count, "body_time": body_time,
    }


def leaf_module_other(src: Path, leaf: str) -> str:
    """Some other module for the leaf to <use> (its injected optional_modules change, nobody else's)."""
    return sorted(p.stem for p in (src / "modules").glob("*.c") if p.stem != leaf)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--rounds", type=int, default=2, help="fresh full builds per variant (best is kept)")
    parser.add_argument("--keep", metavar="DIR", help="work here and keep the trees and builds")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-build-"))
    rows = []
    try:
        for n in args.sizes:
            root = work / f"tree-{n}"
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            print(f"... {n} modules", file=sys.stderr, flush=True)
            rows.append(bench_size(root, n, args.rounds))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    cpus = os.cpu_count()
    print(f"\nBuild benchmark: meson {subprocess.run([MESON, '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"ninja {subprocess.run([NINJA, '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"{cpus} CPUs; tree from {rows[0]['generator'] if rows else '-'}; best of {args.rounds} fresh builds.\n")
    print("| modules | built | setup inj / plain (s) | full build inj / plain (s) | wall ratio | "
          "CPU inj / plain (s) | CPU ratio | no-op ninja best / median (s) | "
          "leaf MODULEINFO edit: rebuilt (s) | leaf body edit: rebuilt (s) |")
    print("|---:|---:|---|---|---:|---|---:|---|---|---|")
    ok = True
    for r in rows:
        total_inj = r["setup_inj"] + r["build_inj"]
        total_plain = r["setup_plain"] + r["build_plain"]
        ratio = total_inj / total_plain
        cpu_ratio = r["cpu_inj"] / r["cpu_plain"]
        print(f"| {r['n']} | {r['built']} | {r['setup_inj']:.2f} / {r['setup_plain']:.2f} | "
              f"{r['build_inj']:.2f} / {r['build_plain']:.2f} | {ratio:.3f}x | "
              f"{r['cpu_inj']:.1f} / {r['cpu_plain']:.1f} | {cpu_ratio:.3f}x | "
              f"{r['noop_best']:.3f} / {r['noop_median']:.3f} | {r['leaf_count']} ({r['leaf_time']:.2f}) | "
              f"{r['body_count']} ({r['body_time']:.2f}) |")
        ok &= ratio <= 1.10 and cpu_ratio <= 1.10 and r["leaf_count"] == 1 and r["built"] == r["built_plain"]
        if r["n"] >= 1000:
            ok &= r["noop_median"] < 0.1
    print("\nWall times are best of the rounds; CPU is user+sys of meson, ninja and every compiler (best of "
          "the rounds), which other jobs on the machine disturb far less.")
    print("Floors: ratio <= 1.10x (wall and CPU); no-op < 0.1 s at 1,000 modules; exactly 1 module rebuilt after a leaf "
          f"MODULEINFO edit. {'All met.' if ok else 'NOT MET.'}")
    print("Edit timings: no reconfigure (bench/bench_edit.py compares them with a plain meson project).")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

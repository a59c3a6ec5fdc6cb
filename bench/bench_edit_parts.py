#!/usr/bin/env python3
"""Where an edit's time goes: each part of buildtool's edit loop on its own, in a kept bench_edit tree.

Run on demand (not a test), after ``python bench/bench_edit.py --keep DIR``::

    python bench/bench_edit_parts.py DIR [--rounds 15]

Prints the minimum wall and CPU time (user + sys of the process tree) of: the
interpreter the per-module step's Python runs (``python -I -S``), the same with
the step's imports, lxml's and jinja2's imports alone, the native per-module
step when the block is unchanged (a body edit) and when it changed (it runs the
Python part for that module), the tree step, and a no-op ``ninja`` in the
buildtool build and in the plain project (the difference is what the larger
build.ninja and .ninja_log cost every run). No floor: bench_edit.py has them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import NINJA, REPO, _env, leaf_module  # noqa: E402


def measure(label: str, cmd: list[str], rounds: int, cwd: Path, before=None) -> None:
    walls, cpus = [], []
    for _ in range(rounds):
        if before:
            before()
        start_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - start)
        end_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(end_cpu.ru_utime + end_cpu.ru_stime - start_cpu.ru_utime - start_cpu.ru_stime)
    print(f"| {label} | {min(walls) * 1000:.1f} | {min(cpus) * 1000:.1f} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="the directory of `bench_edit.py --keep DIR` (src, build, plain-build)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    work = Path(args.dir).resolve()
    build, modules = work / "build", work / "build" / "modules"
    steps = json.loads((modules / "modinfo-steps.json").read_text())
    path = ":".join(steps["python_path"])
    leaf = leaf_module(work / "src")
    source = os.path.relpath(work / "src" / "modules" / f"{leaf}.c", build)
    buildstep = str(REPO / "buildtool" / "buildstep.py")
    python = [sys.executable, "-I", "-S"]
    with_path = f"import sys; sys.path[:0] = {path.split(':')!r}; "
    subprocess.run([NINJA, "-C", str(build)], env=_env(), check=True, capture_output=True)

    def forget_block() -> None:  # what a MODULEINFO edit leaves: the step's record of the block differs
        (modules / f"{leaf}.modinfo.block").unlink(missing_ok=True)

    print(f"Edit-loop parts, {len(steps['modules'])} modules, leaf {leaf}; minimum of {args.rounds} runs.\n")
    print("| part | wall (ms) | CPU (ms) |\n|---|---:|---:|")
    r = args.rounds
    measure("`python -I -S -c pass`", python + ["-c", "pass"], r, build)
    measure("the same, with the step's imports", python + ["-c", with_path + (
        "import json, buildtool.modstep, buildtool.scan, buildtool.resolve, buildtool.mesonplan, "
        "buildtool.commands.common")], r, build)
    measure("the same, lxml.etree alone", python + ["-c", with_path + "import lxml.etree"], r, build)
    measure("the same, jinja2 alone (not imported by the step)", python + ["-c", with_path + "import jinja2"], r, build)
    step = [str(build / "tools" / "modinfo-step"), source, "modules", leaf]
    measure("native step, block unchanged (body edit)", step, r, build)
    measure("native step, block changed (runs the Python part)", step, r, build, forget_block)
    measure("tree step", python + [buildstep, "tree", "modules", str(work / "parts-scan-tree.json"),
                                    str(work / "parts-tree.json"), ""], r, build)
    measure("no-op `ninja`, buildtool build", [NINJA, "-C", str(build)], r, build)
    measure("no-op `ninja`, plain project", [NINJA, "-C", str(work / "plain-build")], r, build)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

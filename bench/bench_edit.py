#!/usr/bin/env python3
"""Edit-loop benchmark: ninja after one edit, against a plain meson project with the same sources.

Run on demand (not a test)::

    python bench/bench_edit.py [--modules 1000] [--rounds 5] [--tiny] [--keep DIR] [--no-fresh]

It generates a tree (bench/synth_tree.py: realistic bodies, median ~25 KB, as
a module author edits them; ``--tiny`` for near-empty bodies, where a compile
costs least and buildtool's share of an edit is largest) in a copy of this
project, builds it, and generates a *plain* meson project from the same
sources: every module a ``shared_module`` listed statically, compiled with the
same flags and the same generated headers (written once, beforehand), no build
step of buildtool at all. Then, in interleaved rounds (best of ``--rounds``):

- **body edit** of a leaf module (nothing requires it): ``ninja`` in both;
- **plan-preserving MODULEINFO edit**: the leaf gains ``<use type="module">``
  of a module that is built anyway (its injected data changes, the plan does
  not); the same text edit in the plain project; answered by the step server
  (``buildtool/stepserver.py``; the first such edit of a run starts it), and
  once more with ``BUILDTOOL_STEP_SERVER=0`` (a new Python process each time,
  what the first edit after the server left costs; no floor);

each edit then undone (the undo is timed as another sample). From ninja's own
output it checks that nothing re-configured and exactly one module was
compiled. Last, a **plan-changing edit** (the leaf gains a ``<depend>`` on a
module): the next ``ninja`` must stop with the module step's message and the one
after must re-configure and build, and every ``.so`` must equal, byte for byte,
a fresh build of the edited tree (``--no-fresh`` skips that comparison).

Floors (issue 9): body edit <= 1.2x plain, MODULEINFO edit <= 1.5x plain,
the plan-changing edit re-configures and equals a fresh build. Prints a table,
exits 1 when a floor is missed.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import MESON, NINJA, _env, leaf_module, make_tree  # noqa: E402

COMPILE = re.compile(r"Compiling C object (?:modules/)?([A-Za-z0-9_]+)\.so\.p/")  # (the plain project: no modules/)
REGENERATE = "Regenerating build files"


LAST_CPU = [0.0]  # user + sys CPU seconds of the last run's process tree


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], check: bool = True, env: dict[str, str] | None = None) -> tuple[float, str, int]:
    cpu = _cpu()
    start = time.perf_counter()
    result = subprocess.run(cmd, env=dict(_env(), **(env or {})), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    LAST_CPU[0] = _cpu() - cpu
    if check and result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return elapsed, result.stdout + result.stderr, result.returncode


def _str(value: str) -> str:
    """A meson string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def plain_project(src: Path, build: Path, dest: Path) -> None:
    """A meson project that lists the same sources statically, with the injected build's own flags.

    The flags and headers come from the injected build (its compile_commands.json and
    generated headers), so both compile exactly the same thing; only buildtool's
    steps are missing.
    """
    modules = dest / "modules"
    modules.mkdir(parents=True)
    shutil.copytree(src / "include", dest / "include")
    gen = dest / "gen"
    gen.mkdir()
    for header in (build / "modules").glob("*.modinfo*.h"):
        shutil.copy2(header, gen / header.name)
    commands = {Path(c["file"]).name: c["command"]
                for c in json.loads((build / "compile_commands.json").read_text())
                if "/modules/" in c["file"] or c["file"].startswith("../modules/")}
    lines = ["project('plain', 'c', default_options: ['c_std=gnu11', 'warning_level=2', 'buildtype=debugoptimized'])",
             "inc = include_directories('include', 'gen')", "z = dependency('zlib')"]
    for name, command in sorted(commands.items()):
        shutil.copy2(src / "modules" / name, modules / name)
        args = [a for a in shlex.split(command)
                if (a.startswith("-D") and not a.startswith("-D_FILE_OFFSET_BITS")) or a.startswith("-ffile-prefix-map")]
        needs_zlib = any(a.startswith("-DHAVE_") for a in args)
        lines.append(f"shared_module({_str(Path(name).stem)}, {_str('modules/' + name)}, name_prefix: '', "
                     f"include_directories: inc, c_args: [{', '.join(map(_str, args))}], "
                     f"link_args: ['-Wl,--build-id=sha1'], dependencies: {'[z]' if needs_zlib else '[]'})")
    (dest / "meson.build").write_text("\n".join(lines) + "\n")


def edit(path: Path, old: str, new: str) -> str:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))
    return text


def ninja_after(build: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    elapsed, out, _ = run([NINJA, "-C", str(build)], env=env)
    return elapsed, out


NO_SERVER = {"BUILDTOOL_STEP_SERVER": "0"}  # the step's Python part as a new process every time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", metavar="DIR")
    parser.add_argument("--tiny", action="store_true", help="near-empty module bodies (the worst case for ratios)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: reuse the tree and builds already in DIR (no fresh full builds)")
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh-build byte comparison")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-edit-"))
    reuse = args.reuse and (work / "build" / "build.ninja").exists()
    if work.exists() and args.keep and not reuse:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    ok = True
    try:
        print(f"... {args.modules} modules: setup and full builds", file=sys.stderr, flush=True)
        build = work / "build"
        if reuse:  # the tree and builds of an earlier --keep run (full builds of 1,000 large modules are long)
            src = work / "src"
        else:
            src, options, _ = make_tree(work, args.modules, with_bodies=not args.tiny)
            (work / "bodies").write_text("tiny\n" if args.tiny else "realistic\n")
            run([MESON, "setup", str(build), str(src), *options])
        run([NINJA, "-C", str(build)])
        plain_src, plain_build = work / "plain", work / "plain-build"
        if not (plain_build / "build.ninja").exists():
            shutil.rmtree(plain_src, ignore_errors=True)
            plain_project(src, build, plain_src)
            run([MESON, "setup", str(plain_build), str(plain_src)])
        print("... plain project build", file=sys.stderr, flush=True)
        run([NINJA, "-C", str(plain_build)])
        print("... edit rounds", file=sys.stderr, flush=True)
        leaf = leaf_module(src)
        other = sorted(p.stem for p in (src / "modules").glob("*.c") if p.stem != leaf)[0]
        body = ("static int unload_module(void)\n{", "static int unload_module(void)\n{\n\t/* edited */")
        info = ("<support_level>", f'<use type="module">{other}</use>\n\t<support_level>')
        times: dict[tuple[str, str], list[float]] = {}
        cpus: dict[tuple[str, str], list[float]] = {}
        problems: list[str] = []
        for r in range(args.rounds):
            for kind, (old, new), env in (("body", body, None), ("moduleinfo", info, None),
                                          ("moduleinfo_direct", info, NO_SERVER)):
                order = (("inj", src, build), ("plain", plain_src, plain_build))
                for variant, tree, bdir in (order if r % 2 == 0 else order[::-1]):
                    path = tree / "modules" / f"{leaf}.c"
                    original = edit(path, old, new)
                    for step in ("edit", "undo"):
                        if step == "undo":
                            path.write_text(original)
                        elapsed, out = ninja_after(bdir, env)
                        compiled = COMPILE.findall(out)
                        if REGENERATE in out or compiled != [leaf]:
                            problems.append(f"{variant} {kind} {step}: reconfigured={REGENERATE in out}, "
                                            f"compiled={compiled}")
                        times.setdefault((kind, variant), []).append(elapsed)
                        cpus.setdefault((kind, variant), []).append(LAST_CPU[0])

        bodies = (work / "bodies").read_text().strip() if (work / "bodies").exists() else "?"
        print(f"\nEdit-loop benchmark: {len(list((src / 'modules').glob('*.c')))} modules ({bodies} bodies), "
              f"leaf {leaf} ({(src / 'modules' / (leaf + '.c')).stat().st_size} bytes); best of {2 * args.rounds} ninja runs "
              "(edit and undo, interleaved with the plain project).\n")
        print("| edit | buildtool meson build (s) | plain meson project (s) | wall ratio | CPU buildtool / plain (s) "
              "| CPU ratio | floor (wall) |")
        print("|---|---:|---:|---:|---|---:|---:|")
        for kind, floor in (("body", 1.2), ("moduleinfo", 1.5)):
            inj, plain = min(times[(kind, "inj")]), min(times[(kind, "plain")])
            cinj, cplain = min(cpus[(kind, "inj")]), min(cpus[(kind, "plain")])
            ratio = inj / plain
            ok &= ratio <= floor
            label = "body edit" if kind == "body" else "MODULEINFO edit, plan unchanged"
            print(f"| {label} | {inj:.3f} | {plain:.3f} | {ratio:.2f}x | {cinj:.3f} / {cplain:.3f} | "
                  f"{cinj / cplain:.2f}x | {floor}x |")
        inj, plain = min(times[("moduleinfo_direct", "inj")]), min(times[("moduleinfo_direct", "plain")])
        cinj, cplain = min(cpus[("moduleinfo_direct", "inj")]), min(cpus[("moduleinfo_direct", "plain")])
        print(f"| the same, no step server (`BUILDTOOL_STEP_SERVER=0`: as the first such edit after a start) | "
              f"{inj:.3f} | {plain:.3f} | {inj / plain:.2f}x | {cinj:.3f} / {cplain:.3f} | {cinj / cplain:.2f}x | |")

        # The plan-changing edit.
        path = src / "modules" / f"{leaf}.c"
        before = edit(path, "<support_level>", f"<depend>{other}</depend>\n\t<support_level>")
        sys.stdout.flush()
        _, first, code = run([NINJA, "-C", str(build)], check=False)
        stopped = code != 0 and "the module plan changed" in first and not COMPILE.findall(first)
        elapsed, second, code2 = run([NINJA, "-C", str(build)], check=False)
        reconfigured = code2 == 0 and REGENERATE in second
        same = None
        if not args.no_fresh:
            fresh = work / "fresh"
            shutil.rmtree(fresh, ignore_errors=True)
            options = json.loads((build / "meson-info" / "intro-buildoptions.json").read_text())
            build_options = next(o["value"] for o in options if o["name"] == "build_options")
            run([MESON, "setup", str(fresh), str(src), "-Dbuild_options=" + ",".join(build_options)])
            run([NINJA, "-C", str(fresh)])
            a = {p.name: p.read_bytes() for p in (build / "modules").glob("*.so")}
            b = {p.name: p.read_bytes() for p in (fresh / "modules").glob("*.so")}
            same = a == b and len(a) > 0
        ok &= stopped and reconfigured and same is not False
        path.write_text(before)  # undo it (the plan changes back: two ninja runs), so --reuse finds the tree as made
        run([NINJA, "-C", str(build)], check=False)
        run([NINJA, "-C", str(build)])
        print(f"| plan-changing edit (+<depend>) | first ninja stops with the plan message: {stopped} | "
              f"next ninja re-configures and builds ({elapsed:.2f} s): {reconfigured} | | "
              f".so bytes equal a fresh build: {'skipped' if same is None else same} | | |")
        for p in problems:
            print("problem:", p)
        ok &= not problems
        print(f"\nFloors: body <= 1.2x, MODULEINFO <= 1.5x plain, no reconfigure and one module compiled per edit, "
              f"plan change re-configures and equals a fresh build. {'All met.' if ok else 'NOT MET.'}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""The injected meson build through ccache and distcc: full builds side by side (issue 14).

Run on demand (not a test; about a minute on 2 cores for the bundled tree)::

    python bench/bench_cache.py [--rounds 3] [--synthetic N]

On the bundled ``modules/`` (or, with ``--synthetic N``, a tree of N generated modules with
realistic bodies, ``bench/synth_tree.py``), each round, with a fresh build directory for every
build (``ninja`` timed; ``meson setup`` is not):

- **ccache cold vs warm**: a build with an empty private ``CCACHE_DIR``, then another build
  directory with the cache it filled (every compile must hit: ccache's own statistics);
- **local vs distcc**: plain ``gcc``, then ``CC="distcc gcc"`` with two ``distccd`` on 127.0.0.1
  (two ports, two slots each, started and stopped here), both with the flags that give distcc
  the local bytes (``-gno-column-info -ftrack-macro-expansion=0``); the modules must be equal
  byte for byte and every compile must appear in a daemon's log;
- **what distcc leaves on this machine**: plain distcc preprocesses locally (the forced and
  generated headers are read here, never on a daemon) and sends the ``.i``. Every compile
  command of the local build is run once as is and once as ``-E``, one after the other; the
  CPU time of the preprocessing against the whole compile is the share no daemon can take.

Both "hosts" are this machine, so distcc cannot be faster here: its row measures the overhead
of sending (local preprocessing, transfer, the daemons' own work), not a farm's speed-up.
Prints a markdown table; exits 0 unless a correctness check fails (no speed floor is set).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))
from bench_build import MESON, NINJA, _env, make_tree  # noqa: E402
from ccache_distcc import (DISTCC_SAME_BYTES_FLAGS, DistccDaemons, ccache, ccache_counters, ccache_env,  # noqa: E402
                           distcc_env, hits, missing_programs)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {shlex.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def build(src: Path, build_dir: Path, env: dict[str, str], options: list[str]) -> float:
    """``meson setup`` (not timed), then the whole ``ninja``: its wall time."""
    run([MESON, "setup", str(build_dir), str(src), *options], env)
    if "CCACHE_DIR" in env:
        ccache(env, "--zero-stats")  # configure's compiler checks are not the build
    return run([NINJA, "-C", str(build_dir)], env)


def binaries(build_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(build_dir.glob("modules/*.so"))}


def compile_commands(build_dir: Path) -> list[dict]:
    return json.loads((build_dir / "compile_commands.json").read_text())


def preprocess_only(words: list[str]) -> list[str]:
    """A compile command as the ``-E`` that distcc runs here: no object, no dependency file."""
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
        elif word not in ("-MD", "-MMD", "-c"):
            out.append(word)
    return out + ["-E", "-o", os.devnull]


def client_side_share(build_dir: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(CPU s of every compile, CPU s of their preprocessing, compiles), run one at a time."""
    entries = compile_commands(build_dir)
    scratch = Path(tempfile.mkdtemp(prefix="bench-cache-obj-"))
    try:
        compile_cpu = preprocess_cpu = 0.0
        for entry in entries:
            words = shlex.split(entry["command"])
            at = words.index("-o")
            whole = words[:at + 1] + [str(scratch / "out.o")] + words[at + 2:]
            before = _cpu()
            run(whole, env, Path(entry["directory"]))
            middle = _cpu()
            run(preprocess_only(words), env, Path(entry["directory"]))
            compile_cpu += middle - before
            preprocess_cpu += _cpu() - middle
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return compile_cpu, preprocess_cpu, len(entries)


def project(work: Path, synthetic: int) -> tuple[Path, list[str], str]:
    if synthetic:
        return make_tree(work / "tree", synthetic, with_bodies=True)
    src = work / "bundled"
    src.mkdir(parents=True)
    for name in ("meson.build", "meson.options"):
        shutil.copy2(REPO / name, src / name)
    for name in ("modules", "core", "include", "tools"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    return src, [], "the bundled modules/"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every build; best of each (default 3)")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="a generated tree of N modules with realistic bodies instead of the bundled one")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args()
    # A timeout's SIGTERM must still stop the daemons and remove the work directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    missing = missing_programs("ccache", "distcc", "distccd")
    if missing:
        print(f"not installed: {', '.join(missing)} (Debian packages ccache and distcc)", file=sys.stderr)
        return 2

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-cache-"))
    work.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    times: dict[str, list[float]] = {k: [] for k in ("cold", "warm", "local", "distcc")}
    try:
        src, options, generator = project(work, args.synthetic)
        distcc_options = options + ["-Dc_args=" + " ".join(DISTCC_SAME_BYTES_FLAGS)]
        plain_env = dict(_env(), CC="gcc", CCACHE_DISABLE="1")
        compiles = 0
        with DistccDaemons(work / "daemons", verbose=False) as daemons:
            for round_ in range(args.rounds):
                cache_dir = work / f"ccache-{round_}"
                env = ccache_env(_env(), cache_dir)  # meson finds ccache on PATH and wraps the compiler
                times["cold"].append(build(src, work / f"cold-{round_}", env, options))
                times["warm"].append(build(src, work / f"warm-{round_}", env, options))
                counters = ccache_counters(env)
                compiles = len(compile_commands(work / f"warm-{round_}"))
                if hits(counters) != compiles or counters.get("cache_miss", 0):
                    problems.append(f"round {round_}: warm build hit {hits(counters)} of {compiles} compiles")
                if binaries(work / f"warm-{round_}") != binaries(work / f"cold-{round_}"):
                    problems.append(f"round {round_}: warm build's modules differ from the cold build's")
                shutil.rmtree(cache_dir)

                local, remote = work / f"local-{round_}", work / f"distcc-{round_}"
                times["local"].append(build(src, local, plain_env, distcc_options))
                denv = distcc_env(dict(_env(), CC="distcc gcc"), daemons, work / "distcc-state")
                run([MESON, "setup", str(remote), str(src), *distcc_options], denv)
                since = daemons.log_sizes()
                times["distcc"].append(run([NINJA, "-C", str(remote)], denv))
                sent = sorted(job for jobs in daemons.jobs(since) for job in jobs)
                expected = sorted(entry["file"] for entry in compile_commands(remote))
                if sent != expected:
                    problems.append(f"round {round_}: {len(sent)} compiles reached the daemons, {len(expected)} ran")
                if binaries(remote) != binaries(local):
                    problems.append(f"round {round_}: distcc's modules differ from the local build's")
                for done in (work / f"cold-{round_}", work / f"warm-{round_}", remote):
                    shutil.rmtree(done)
        compile_cpu, preprocess_cpu, measured = client_side_share(work / f"local-{args.rounds - 1}", plain_env)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    best = {k: min(v) for k, v in times.items()}
    versions = {name: subprocess.run([name, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
                for name in ("ccache", "distcc", "gcc")}
    print(f"\nccache and distcc benchmark: {generator}, {compiles} compiles per build, best of {args.rounds} "
          f"rounds; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    print("; ".join(versions.values()) + "\n")
    print("| what | baseline | s | measured | s | ratio |")
    print("|---|---|---:|---|---:|---:|")
    print(f"| full `ninja`, new build directory | ccache cold (empty cache) | {best['cold']:.2f} | ccache warm "
          f"(every compile a hit) | {best['warm']:.2f} | **{best['warm'] / best['cold']:.2f}x** |")
    print(f"| full `ninja`, new build directory | local `gcc` | {best['local']:.2f} | `distcc gcc`, 2 daemons on "
          f"127.0.0.1 (2 slots each) | {best['distcc']:.2f} | **{best['distcc'] / best['local']:.2f}x** |")
    print(f"| CPU of the {measured} compiles, one at a time | whole compile | {compile_cpu:.2f} | its `-E` "
          f"(what distcc runs here) | {preprocess_cpu:.2f} | **{preprocess_cpu / compile_cpu:.2f}x** |")
    print("\nEvery round: warm hits for every compile and equals the cold build's bytes; every distcc compile "
          "reached a daemon and its modules equal the local build's. The daemons run on this machine, so "
          "distcc's ratio is its overhead, not a farm's speed-up.")
    if problems:
        print("\nCorrectness checks FAILED:\n" + "\n".join(f"- {p}" for p in problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

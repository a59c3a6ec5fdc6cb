"""The bundled tree, with injected data, through Debian's ccache and distcc (issue 14).

ccache: a second clean build in another build directory, and in another checkout at another
path, hits the cache for every compile (ccache's own statistics and its log, compile by
compile) and gives the same bytes; a MODULEINFO edit misses for exactly the module whose data
changed. distcc: two daemons on 127.0.0.1 compile every module sent by ``CC="distcc gcc"``,
never seeing a generated header, and the modules equal a local build's byte for byte.
Every build here has its own CCACHE_DIR under tmp; the daemons are started and stopped here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ccache_distcc import (DISTCC_SAME_BYTES_FLAGS, DistccDaemons, ccache, ccache_counters, ccache_env,
                           ccache_outcomes, distcc_env, hits, missing_programs)
from helpers.build import meson, ninja, project_copy, tool_env

MISSING = missing_programs("ccache", "distcc", "distccd")
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (Debian packages "
                                                      "ccache and distcc; the README's test command installs them)")


def _setup(source: Path, build: Path, env: dict[str, str], *options: str) -> str:
    done = subprocess.run([meson(), "setup", str(build), str(source), *options], cwd=source, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _ninja(build: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([ninja(), "-C", str(build), *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _compile_commands(build: Path) -> list[dict]:
    return json.loads((build / "compile_commands.json").read_text())


def _binaries(build: Path) -> dict[str, bytes]:
    found = sorted(build.glob("modules/*.so")) + [build / "core" / "libastcore.so"]
    return {p.relative_to(build).as_posix(): p.read_bytes() for p in found}


def _module_of(output: str) -> str:
    """``modules/res_pjsip.so.p/res_pjsip.c.o`` -> ``res_pjsip``."""
    return Path(output).name.split(".")[0]


class CachedBuild:
    """One clean build through ccache: its compiles, ccache's counters and per-compile outcomes."""

    def __init__(self, source: Path, build: Path, cache_dir: Path):
        self.build = build
        logs = build.parent / f"{build.name}.ccache-logs"
        env = ccache_env(tool_env(), cache_dir, log_dir=logs)
        self.setup_output = _setup(source, build, env)
        ccache(env, "--zero-stats")  # configure's compiler checks are not the build's compiles
        shutil.rmtree(logs, ignore_errors=True)
        _ninja(build, env)
        self.counters = ccache_counters(env)
        self.outcomes = ccache_outcomes(logs)
        shutil.rmtree(logs)
        self.compiles = [entry["output"] for entry in _compile_commands(build)]


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    base = tmp_path_factory.mktemp("ccache")
    cache_dir = base / "cache"
    one = project_copy(base / "one" / "src")
    two = project_copy(base / "another-checkout" / "at-a-longer-path" / "src")
    runs = {
        "cold": CachedBuild(one, one / "build", cache_dir),
        "another build directory": CachedBuild(one, one / "build-again", cache_dir),
        "another checkout": CachedBuild(two, two / "build", cache_dir),
    }
    # A MODULEINFO edit in a module others require: an optional module it uses (the plan stays).
    source = one / "modules" / "res_pjsip.c"
    text = source.read_text()
    edited = text.replace("/*** MODULEINFO\n", "/*** MODULEINFO\n\t<use type=\"module\">res_statsd</use>\n", 1)
    assert edited != text
    source.write_text(edited)
    runs["after a MODULEINFO edit"] = CachedBuild(one, one / "build-edited", cache_dir)
    return runs


def test_meson_wraps_the_compiler_in_ccache(cached):
    line = next(l for l in cached["cold"].setup_output.splitlines() if l.startswith("C compiler for the host machine"))
    assert "ccache" in line, line


def test_module_compiles_carry_no_absolute_path_but_the_prefix_maps(cached):
    """Why no base_dir is needed: meson writes relative paths, and every absolute one is a
    -ffile-prefix-map (which ccache applies to the directory it hashes, and leaves out of the hash)."""
    run = cached["cold"]
    roots = (str(run.build.parent), str(run.build))
    checked = 0
    for entry in _compile_commands(run.build):
        for word in entry["command"].split():
            if any(root in word for root in roots):
                assert word.startswith("-ffile-prefix-map="), (entry["output"], word)
        checked += 1
    assert checked == len(run.compiles) >= 21
    for header in run.build.glob("modules/*.modinfo*.h"):
        assert str(run.build.parent) not in header.read_text(), header


def test_a_cold_cache_misses_every_compile(cached):
    run = cached["cold"]
    assert run.counters["cache_miss"] == len(run.compiles)
    assert hits(run.counters) == 0


@pytest.mark.parametrize("which", ["another build directory", "another checkout"])
def test_a_second_clean_build_hits_for_every_compile_with_the_same_bytes(cached, which):
    run = cached[which]
    assert hits(run.counters) == len(run.compiles) >= 21, run.counters
    assert run.counters["cache_miss"] == 0
    assert run.outcomes == {output: "hit" for output in run.compiles}
    assert _binaries(run.build) == _binaries(cached["cold"].build)


def test_a_moduleinfo_edit_misses_for_exactly_the_module_whose_data_changed(cached):
    before, after = cached["cold"], cached["after a MODULEINFO edit"]
    changed_headers = sorted({p.name.split(".")[0] for p in after.build.glob("modules/*.modinfo*.h")
                              if p.read_bytes() != (before.build / p.relative_to(after.build)).read_bytes()})
    assert changed_headers == ["res_pjsip"]
    missed = sorted(output for output, outcome in after.outcomes.items() if outcome == "miss")
    assert [_module_of(output) for output in missed] == ["res_pjsip"]
    assert after.counters["cache_miss"] == 1 and hits(after.counters) == len(after.compiles) - 1
    # Its users (chan_pjsip, res_pjsip_session require it) keep their bytes.
    old, new = _binaries(before.build), _binaries(after.build)
    assert sorted(name for name in new if new[name] != old[name]) == ["modules/res_pjsip.so"]


# --- distcc ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    base = tmp_path_factory.mktemp("distcc")
    source = project_copy(base / "src")
    flags = "-Dc_args=" + " ".join(DISTCC_SAME_BYTES_FLAGS)
    local = source / "build-local"
    _setup(source, local, dict(tool_env(), CC="gcc"), flags)
    _ninja(local, tool_env())
    with DistccDaemons(base / "daemons") as daemons:
        env = distcc_env(dict(tool_env(), CC="distcc gcc"), daemons, base / "distcc-state")
        remote = source / "build-distcc"
        setup_output = _setup(source, remote, env, flags)
        since = daemons.log_sizes()
        _ninja(remote, env, "-j4")
        jobs = daemons.jobs(since)
        received = daemons.received_arguments(since)
    return {"local": local, "remote": remote, "jobs": jobs, "received": received, "setup": setup_output,
            "daemons": daemons}


def test_every_compile_is_sent_to_the_daemons(distributed):
    line = next(l for l in distributed["setup"].splitlines() if l.startswith("C compiler for the host machine"))
    assert "distcc gcc" in line and "ccache" not in line, line
    sent = sorted(job for daemon in distributed["jobs"] for job in daemon)
    expected = sorted(entry["file"] for entry in _compile_commands(distributed["remote"]))
    assert sent == expected
    assert len(expected) >= 21
    # Both "hosts" took work (ninja starts four compiles at once, two slots each).
    assert all(distributed["jobs"]), [len(j) for j in distributed["jobs"]]
    # Loopback only: each daemon listened on 127.0.0.1 and served 127.0.0.1.
    for daemon in distributed["daemons"].daemons:
        log = daemon.log.read_text(errors="replace")
        assert f"listening on 127.0.0.1:{daemon.port}" in log
        assert set(re.findall(r"client: (\S+?):\d+ ", log)) == {"127.0.0.1"}


def test_the_daemons_never_see_a_header_or_a_preprocessor_flag(distributed):
    """Plain distcc preprocesses here and sends the .i: the generated headers, the include
    directories and the -D values (quotes and all) stay on this machine."""
    received = distributed["received"]
    assert received, "the daemons' debug log lists the arguments they received"
    leaked = [arg for arg in received
              if arg.startswith(("-I", "-D", "-include", "-MD", "-MF", "-MQ")) or arg.endswith(".h") or "modinfo.h" in arg]
    assert leaked == []
    assert "-c" in received


def test_distcc_modules_equal_the_local_build_byte_for_byte(distributed):
    local, remote = _binaries(distributed["local"]), _binaries(distributed["remote"])
    assert len(local) >= 20
    assert remote.keys() == local.keys()
    assert [name for name in local if local[name] != remote[name]] == []


def test_march_native_is_compiled_here_even_with_fallback_off(tmp_path):
    """distcc keeps a ``-march=native`` compile on this machine (its code would be the daemon's
    CPU's), silently and whatever DISTCC_FALLBACK says: Asterisk's default BUILD_NATIVE makes
    every compile local, so a distcc build of Asterisk turns it off (docs/asterisk.md)."""
    (tmp_path / "native.c").write_text("int triple(int x) { return x * 3; }\n")
    with DistccDaemons(tmp_path / "daemons", verbose=False) as daemons:
        env = distcc_env(tool_env(), daemons, tmp_path / "distcc-state")
        since = daemons.log_sizes()
        for flags in (["-O2"], ["-O2", "-march=native"]):
            done = subprocess.run(["distcc", "gcc", *flags, "-c", "native.c", "-o", "native.o"], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            assert (tmp_path / "native.o").is_file()
        jobs = daemons.jobs(since)
    assert sorted(job for daemon in jobs for job in daemon) == ["native.c"]  # the -O2 one only

"""The real Asterisk snapshot, set up for injection, through Debian's ccache and distcc (issue 14).

Builds only what injection touches and what proves the point: the module directories
``funcs`` (one file per module) and ``bridges`` (with ``bridge_softmix``'s helper file, which
gets no forced include), with Asterisk's own ``make``, in checkouts copied from the session's
configured snapshot:

1. checkout one, through ccache, cold (Asterisk's defaults: ``-g3``, ``-march=native``);
2. a second checkout at another path, same flags: every compile hits, the modules' bytes equal;
3. there, a MODULEINFO edit and a clean rebuild of ``funcs``: exactly that module misses;
4. checkout one again, with menuselect's ``BUILD_NATIVE`` off, built locally, then cleaned and
   built through distcc with two daemons on 127.0.0.1: every compile was sent, and the modules
   equal the local build's byte for byte.

What an operator sets, and why (docs/asterisk.md, "ccache and distcc"): ccache and distcc
through their masquerade directories first on ``PATH`` (Asterisk's Makefile.rules adds its
``-fno-partial-inlining`` workaround only when ``$(CC)`` is exactly ``gcc``, so
``CC="ccache gcc"`` would build other code); for ccache, ``CCACHE_BASEDIR`` above the checkouts
(Asterisk passes absolute ``-I``, and the forced ``-include``) and
``ASTCFLAGS=-ffile-prefix-map=$PWD=.`` (with ``-g``, ccache hashes the directory unless a prefix
map covers it, and the objects then hold no checkout path); for distcc, ``BUILD_NATIVE`` off
and ``DEBUG="-g -gno-column-info -ftrack-macro-expansion=0"`` for equal bytes.

One module is Asterisk's exception, not injection's: ``func_version`` includes
``asterisk/build.h``, which make writes into each checkout with the date and time of the build,
so in another checkout it misses and differs (the tests compute which modules read it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import asterisk_tree as at
from ccache_distcc import (CCACHE_MASQUERADE, DISTCC_MASQUERADE, DISTCC_SAME_BYTES_FLAGS, DistccDaemons, ccache,
                           ccache_counters, ccache_env, ccache_outcomes, distcc_env, hits, masquerading,
                           missing_programs)

MISSING = missing_programs("ccache", "distcc", "distccd") + [
    str(d / "gcc") for d in (CCACHE_MASQUERADE, DISTCC_MASQUERADE) if not (d / "gcc").exists()]
pytestmark = [
    pytest.mark.skipif(at.skip_reason() is not None, reason=at.skip_reason() or ""),
    pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (Debian packages ccache and "
                                             "distcc; the README's test command installs them)"),
]

DIRS = ("funcs", "bridges")
EDITED = "func_sprintf"  # its MODULEINFO gains an optional module: its data changes, no other module's
DISTCC_DEBUG = " ".join(("-g",) + DISTCC_SAME_BYTES_FLAGS)
COMPILED = re.compile(r"^\s*\[CC\] (\S+) -> (\S+)$", re.M)


def checkout(configured: Path, where: Path) -> Path:
    root = where / configured.name
    shutil.copytree(configured, root, symlinks=True)
    done = subprocess.run([sys.executable, "-m", "buildtool", "asterisk-setup", str(root)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def make(root: Path, log: Path, env: dict[str, str], *args: str) -> list[tuple[str, str]]:
    """``make -j2 ARGS`` in ``root``; the (source, object) of each compile it ran, from its ``[CC]`` lines."""
    start = log.stat().st_size if log.exists() else 0
    at.run(["make", "-j2", *args], root, log, 1800, env=env)
    return COMPILED.findall(log.read_text(errors="replace")[start:])


def modules(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for d in DIRS for p in sorted((root / d).glob("*.so"))}


def no_native_code(root: Path, log: Path) -> None:
    """menuselect's BUILD_NATIVE off: distcc keeps a ``-march=native`` compile local, always."""
    at.run(["menuselect/menuselect", "--disable", "BUILD_NATIVE", "menuselect.makeopts"], root, log, 120)


class Builds:
    def __init__(self, base: Path, configured: Path):
        self.one = checkout(configured, base / "one")
        self.two = checkout(configured, base / "second-checkout" / "at-a-longer-path")
        self.headers = {root: {p.name: p.read_bytes() for p in (root / ".buildtool" / "modinfo").glob("*.h")}
                        for root in (self.one, self.two)}
        log = base / "make.log"
        ccache_logs = base / "ccache-logs"
        env = masquerading(ccache_env(os.environ, base / "ccache", log_dir=ccache_logs, CCACHE_BASEDIR=str(base)),
                           CCACHE_MASQUERADE)

        def cached_build(root: Path, *args: str):
            ccache(env, "--zero-stats")
            shutil.rmtree(ccache_logs, ignore_errors=True)
            compiled = make(root, log, env, f"ASTCFLAGS=-ffile-prefix-map={root}=.", *args)
            outcomes = ccache_outcomes(ccache_logs)
            shutil.rmtree(ccache_logs)
            return compiled, ccache_counters(env), outcomes

        self.cold = cached_build(self.one, *DIRS)
        self.cold_modules = modules(self.one)
        self.warm = cached_build(self.two, *DIRS)
        self.warm_modules = modules(self.two)

        source = self.two / "funcs" / f"{EDITED}.c"
        text = source.read_text(encoding="latin-1")
        edited = text.replace("/*** MODULEINFO\n", "/*** MODULEINFO\n\t<use type=\"module\">func_strings</use>\n", 1)
        assert edited != text
        source.write_text(edited, encoding="latin-1")
        make(self.two, log, env, "funcs-clean")
        self.edited = cached_build(self.two, "funcs")
        self.edited_header = (self.two / ".buildtool" / "modinfo" / f"{EDITED}.modinfo.h").read_text()

        # Local, then distcc, in one checkout: both read the same build.h (see ``stamped``).
        local_env = dict(os.environ, CCACHE_DISABLE="1")
        no_native_code(self.one, log)
        make(self.one, log, local_env, *(f"{d}-clean" for d in DIRS))
        self.local_compiled = make(self.one, log, local_env, f"DEBUG={DISTCC_DEBUG}", *DIRS)
        self.local_modules = modules(self.one)
        make(self.one, log, local_env, *(f"{d}-clean" for d in DIRS))
        with DistccDaemons(base / "daemons") as daemons:
            denv = masquerading(distcc_env(local_env, daemons, base / "distcc-state"), DISTCC_MASQUERADE)
            since = daemons.log_sizes()
            self.distcc_compiled = make(self.one, log, denv, f"DEBUG={DISTCC_DEBUG}", *DIRS)
            self.jobs = daemons.jobs(since)
            self.received = daemons.received_arguments(since)
        self.distcc_modules = modules(self.one)

    def stamped(self) -> set[str]:
        """Modules whose source includes Asterisk's ``asterisk/build.h``: make writes it into each
        checkout with the build's date and time (``BUILD_DATE``), so their compiles differ between
        checkouts whatever injection does (Asterisk's own, stock or injected)."""
        return {p.stem for d in DIRS for p in (self.one / d).glob("*.c")
                if '#include "asterisk/build.h"' in p.read_text(encoding="latin-1")}


@pytest.fixture(scope="module")
def builds(tmp_path_factory, configured_snapshot) -> Builds:
    return Builds(tmp_path_factory.mktemp("asterisk-cache"), configured_snapshot(at.tarball()))


def test_injected_headers_are_the_same_in_every_checkout(builds):
    one, two = builds.headers[builds.one], builds.headers[builds.two]
    assert len(one) > 400 and one == two
    assert not any(b"/tmp/" in text or str(builds.one.parent).encode() in text for text in one.values())


def test_the_cold_build_misses_every_compile(builds):
    compiled, counters, outcomes = builds.cold
    injected = [obj for _, obj in compiled if f"{Path(obj).stem}.modinfo.h" in builds.headers[builds.one]]
    assert len(injected) >= 50, compiled[:5]
    assert outcomes == {obj: "miss" for _, obj in compiled}
    assert counters["cache_miss"] == len(compiled) and hits(counters) == 0


def test_another_checkout_hits_for_every_compile_with_the_same_module_bytes(builds):
    compiled, counters, outcomes = builds.warm
    objects = sorted(obj for _, obj in compiled)
    assert objects == sorted(obj for _, obj in builds.cold[0])
    stamped = builds.stamped()
    assert stamped == {"func_version"}
    assert (builds.one / "include/asterisk/build.h").read_text() != (builds.two / "include/asterisk/build.h").read_text()
    # Every module's own compile (the one with the forced include) and every helper file's,
    # but the one that reads this checkout's build date.
    assert outcomes == {obj: "miss" if Path(obj).stem in stamped else "hit" for obj in objects}
    assert hits(counters) == len(objects) - 1 and counters["cache_miss"] == 1
    injected = [obj for obj in objects if outcomes[obj] == "hit" and f"{Path(obj).stem}.modinfo.h" in builds.headers[builds.two]]
    assert len(injected) >= 50
    assert len(builds.warm_modules) >= 50
    differ = sorted(name for name in builds.warm_modules if builds.warm_modules[name] != builds.cold_modules[name])
    assert differ == ["funcs/func_version.so"]
    assert builds.warm_modules.keys() == builds.cold_modules.keys()


def test_a_moduleinfo_edit_misses_for_exactly_that_module(builds):
    compiled, counters, outcomes = builds.edited
    assert "func_strings" in builds.edited_header
    assert sorted(obj for obj, outcome in outcomes.items() if outcome == "miss") == [f"{EDITED}.o"]
    assert len(compiled) >= 40 and counters["cache_miss"] == 1 and hits(counters) == len(compiled) - 1


def test_every_distcc_compile_is_sent_to_the_daemons(builds):
    sent = sorted(job for daemon in builds.jobs for job in daemon)
    assert sent == sorted(src for src, _ in builds.distcc_compiled)
    assert len(sent) >= 50 and all(builds.jobs), [len(j) for j in builds.jobs]
    assert sorted(builds.distcc_compiled) == sorted(builds.local_compiled)
    assert len(builds.local_compiled) >= 60


def test_the_forced_include_never_reaches_the_daemons(builds):
    """distcc's plain mode preprocesses here: ``-include .../NAME.modinfo.h``, ``-I`` and the
    quoted ``-DAST_MODULE=\\"name\\"`` are used locally and never sent."""
    received = builds.received
    assert received
    assert [a for a in received if a.startswith(("-I", "-D", "-include")) or "modinfo" in a or "-march" in a] == []


def test_distcc_modules_equal_the_local_build_byte_for_byte(builds):
    local, remote = builds.local_modules, builds.distcc_modules
    assert len(local) >= 50 and remote.keys() == local.keys()
    assert [name for name in local if local[name] != remote[name]] == []

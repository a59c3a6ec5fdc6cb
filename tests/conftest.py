"""Shared fixtures: the repository's modules/ built once per session with real meson and ninja.

The README's test command runs two pytest-xdist workers (``-n 2 --dist loadgroup``); each is a
session, and the xdist groups set below keep every test of an expensive fixture on one of them.

Other test files (loader, checks) reuse ``built_modules``; its fields are a
stable interface:

``built_modules`` (session scope) -> ``BuiltModules``
    ``source_dir``      the repository root (meson's source directory; never written to)
    ``build_dir``       the meson build directory (a pytest tmp dir)
    ``modules_dir``     ``build_dir/modules``: every built ``<module>.so``
    ``modules``         ``{name: Path}`` of the built ``.so`` files
    ``core_library``    ``build_dir/core/libastcore.so`` (dlopen it RTLD_GLOBAL first)
    ``tree_json``       tree of the BUILT modules (``build_dir/modules/tree.json``, what is installed)
    ``scan_tree_json``  tree of every scanned module, built or not (``modules/scan-tree.json``)
    ``catalog``         ``modules/catalog.toml``
    ``modules_conf``    ``modules/modules.conf``
    ``setup_output``    stdout + stderr of ``meson setup`` (its summary lists disabled modules)
    ``env``             environment with the venv's meson/ninja first on PATH

The build uses the default options (as a user's ``meson setup build`` would):
res_curl, func_curl (no libcurl here) and test_sorcery (TEST_FRAMEWORK off)
are not built; the other 20 modules are.

``installed_build`` (session scope) -> ``(prefix, BuiltModules)``: a second build, elsewhere, with a
prefix, installed there (the install tests and the build-directory determinism test read it).

Helpers for tests that build copies (``project_copy(dest)``, ``meson_setup``,
``run_ninja``, ``tool_env``) are in ``helpers/build.py``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# A step server that a test's build starts (buildtool/stepserver.py) leaves two minutes after its last request,
# not the default fifteen: test build directories outlive the run. Every process the tests start inherits it.
os.environ.setdefault("BUILDTOOL_STEP_SERVER_IDLE", "120")

# meson wraps the compiler in ccache whenever ccache is on PATH, and ccache would then
# share the user's cache with every build the suite makes (and hand warm objects to
# tests that time or count compiles). The suite compiles without it; the ccache tests
# (tests/test_cache_distcc.py, tests/test_asterisk_cache.py) turn it back on for their
# own builds, each with a private CCACHE_DIR.
os.environ["CCACHE_DISABLE"] = "1"

from helpers.build import REPO, BuiltModules, build_project, meson, tool_env  # noqa: E402
from helpers.stepservers import stop_step_servers_under  # noqa: E402


# Under ``pytest -n 2 --dist loadgroup`` (pytest-xdist) each worker is a session of its own: it builds
# every session fixture it reaches, and every module-scoped fixture of each file it runs tests of.
# Tests that share an expensive fixture are therefore put in one xdist group, which one worker runs:
# the tests of a file that use the same module-scoped fixtures, and every test (in any file) that
# reaches a fixture named below (the users of the two meson builds take about a seventh of the fast
# suite's time). The rest are spread one by one. The loader tests' modules (loader_helpers.built_dir,
# called from a dozen files, not a fixture) are built by each worker that needs them.
SHARED_FIXTURE_GROUPS = {
    "configured_snapshot": "asterisk-snapshot",
    "built_modules": "meson-builds",
    "installed_build": "meson-builds",
}


def _xdist_group(item, file_groups: dict[Path, str]) -> str | None:
    shared = [group for fixture, group in SHARED_FIXTURE_GROUPS.items() if fixture in item.fixturenames]
    if shared:
        return shared[0]
    # pytest has no public way to ask a fixture's scope; its own --fixtures-per-test reads _fixtureinfo too.
    info = getattr(item, "_fixtureinfo", None)
    module_scoped = sorted(name for name, defs in (info.name2fixturedefs.items() if info else ())
                           if defs[-1].scope == "module")
    if not module_scoped:
        return None
    return file_groups.get(item.path) or f"{item.path.relative_to(item.config.rootpath)}::{'+'.join(module_scoped)}"


# Set when this worker's groups were lost; every test then errors at once, before any fixture is built.
GROUPS_LOST: list[str] = []


# A wrapper: the marks are set before xdist's own hook turns them into "@group" node ids, and checked
# after it, since pytest 9.2 with xdist 3.8 drops them silently (pytest-xdist issue 1386). Only in an
# xdist worker under --dist loadgroup: elsewhere (a plain pytest run, mutmut's) there is nothing to group.
@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    if not getattr(config.option, "loadgroup", False):
        return (yield)
    file_groups: dict[Path, str] = {}
    for item in items:
        for fixture, group in SHARED_FIXTURE_GROUPS.items():
            if fixture in item.fixturenames:
                file_groups.setdefault(item.path, group)
    grouped = []
    for item in items:
        group = _xdist_group(item, file_groups)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
            grouped.append(item)
    result = yield
    GROUPS_LOST.extend(item.nodeid for item in grouped if "@" not in item.nodeid)
    return result


@pytest.fixture(scope="session", autouse=True)
def xdist_groups_kept():
    """A failure in a worker's collection hook crashes it without a word; a failing fixture is reported."""
    if GROUPS_LOST:
        pytest.fail(f"--dist loadgroup has no effect with pytest {pytest.__version__} and this pytest-xdist "
                    f"(no group in the node id of {GROUPS_LOST[0]}): install the versions that "
                    "pyproject.toml's test extra asks for", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def step_servers_stopped(tmp_path_factory):
    """The step servers that the session's builds started (in its temporary directories) end with it:
    the idle limit above is for a run that is killed; a finished one leaves no process behind."""
    yield
    stop_step_servers_under(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory):
    """``buildtool scan ROOT`` keeps a cache under ``$XDG_CACHE_HOME/buildtool``: the suite's runs
    (and the child processes they start) use a folder of their own, never the user's cache."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(scope="session")
def built_modules(tmp_path_factory) -> BuiltModules:
    """The repository's modules/ and core/, configured with default options and built once per session."""
    build = tmp_path_factory.mktemp("meson-build") / "build"
    return build_project(REPO, build)


@pytest.fixture(scope="session")
def installed_build(tmp_path_factory) -> tuple[Path, BuiltModules]:
    """``(prefix, built)``: the repository built a second time, deeper and under another name than
    ``built_modules``, with ``-Dprefix`` and ``-Dlibdir=lib``, and ``meson install``-ed into that prefix.
    The install tests read the prefix; the determinism test compares its bytes with ``built_modules``."""
    root = tmp_path_factory.mktemp("install")
    prefix = root / "prefix"
    built = build_project(REPO, root / "x" / "y" / "other-build", f"-Dprefix={prefix}", "-Dlibdir=lib")
    result = subprocess.run([meson(), "install", "-C", str(built.build_dir), "--quiet"], env=tool_env(),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return prefix, built


@pytest.fixture(scope="session")
def configured_snapshot(tmp_path_factory):
    """``get(tarball) -> root``: the shared Asterisk snapshot extracted and configured once per
    session (``./configure`` and ``make menuselect.makeopts``); tests read it, or copy it to build."""
    import asterisk_tree

    cache: dict = {}

    def get(tarball):
        if tarball not in cache:
            base = tmp_path_factory.mktemp("configured")
            root = asterisk_tree.extract(base / "tree", tarball)
            asterisk_tree.configure(root, base / "configure.log")
            cache[tarball] = root
        return cache[tarball]

    return get

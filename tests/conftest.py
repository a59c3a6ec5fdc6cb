"""Shared fixtures: the repository's modules/ built once per session with real meson and ninja.

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

# meson wraps the compiler in ccache whenever ccache is on PATH, and ccache would then
# share the user's cache with every build the suite makes (and hand warm objects to
# tests that time or count compiles). The suite compiles without it; the ccache tests
# (tests/test_cache_distcc.py, tests/test_asterisk_cache.py) turn it back on for their
# own builds, each with a private CCACHE_DIR.
os.environ["CCACHE_DISABLE"] = "1"

from helpers.build import REPO, BuiltModules, build_project, meson, tool_env  # noqa: E402


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

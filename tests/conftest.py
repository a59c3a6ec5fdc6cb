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

Helpers for tests that build copies: ``project_copy(dest)``, ``meson_setup``,
``run_ninja``, ``tool_env``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# meson wraps the compiler in ccache whenever ccache is on PATH, and ccache would then
# share the user's cache with every build the suite makes (and hand warm objects to
# tests that time or count compiles). The suite compiles without it; the ccache tests
# (tests/test_cache_distcc.py, tests/test_asterisk_cache.py) turn it back on for their
# own builds, each with a private CCACHE_DIR.
os.environ["CCACHE_DISABLE"] = "1"

REPO = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("meson.build", "meson.options")
PROJECT_DIRS = ("modules", "core", "include", "tools")


def tool_env() -> dict[str, str]:
    """The environment for meson/ninja: this interpreter's bin directory first on PATH."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.pop("LD_BIND_NOW", None)
    env.pop("MESONINTROSPECT", None)
    return env


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed")
    return found


def meson() -> str:
    return _tool("meson")


def ninja() -> str:
    return _tool("ninja")


def project_copy(dest: Path) -> Path:
    """Copy what the meson project needs (not the Python package) into ``dest``; returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, dest / name)
    for name in PROJECT_DIRS:
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def meson_setup(source: Path, build: Path, *options: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([meson(), "setup", str(build), str(source), *options], cwd=source, env=tool_env(),
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"meson setup failed:\n{result.stdout}\n{result.stderr}")
    return result


def run_ninja(build: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([ninja(), "-C", str(build), *args], env=tool_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"ninja {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@dataclass(frozen=True)
class BuiltModules:
    source_dir: Path
    build_dir: Path
    modules_dir: Path
    modules: dict[str, Path]
    core_library: Path
    tree_json: Path
    scan_tree_json: Path
    catalog: Path
    modules_conf: Path
    setup_output: str
    env: dict[str, str] = field(repr=False)


def build_project(source: Path, build: Path, *options: str) -> BuiltModules:
    """Configure and build ``source`` into ``build``; the fields of ``built_modules``."""
    setup = meson_setup(source, build, *options)
    run_ninja(build)
    modules_dir = build / "modules"
    return BuiltModules(
        source_dir=source,
        build_dir=build,
        modules_dir=modules_dir,
        modules={p.stem: p for p in sorted(modules_dir.glob("*.so"))},
        core_library=build / "core" / "libastcore.so",
        tree_json=modules_dir / "tree.json",
        scan_tree_json=modules_dir / "scan-tree.json",
        catalog=source / "modules" / "catalog.toml",
        modules_conf=source / "modules" / "modules.conf",
        setup_output=setup.stdout + setup.stderr,
        env=tool_env(),
    )


@pytest.fixture(scope="session")
def built_modules(tmp_path_factory) -> BuiltModules:
    """The repository's modules/ and core/, configured with default options and built once per session."""
    build = tmp_path_factory.mktemp("meson-build") / "build"
    return build_project(REPO, build)


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

"""Building the repository's project with real meson and ninja (the ``built_modules`` fixture's
work, and what tests that build copies of the project use): ``project_copy(dest)``,
``meson_setup``, ``run_ninja``, ``tool_env``, ``build_project``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
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
    # (the timeout: a build step's process left holding ninja's output would make this wait for it)
    result = subprocess.run([ninja(), "-C", str(build), *args], env=tool_env(), capture_output=True, text=True,
                            timeout=900)
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

"""`meson install` into a temporary prefix; third-party and Makefile builds against that prefix only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, build_project, meson, meson_setup, run_ninja, tool_env


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    root = tmp_path_factory.mktemp("install")
    prefix = root / "prefix"
    built = build_project(REPO, root / "build", f"-Dprefix={prefix}", "-Dlibdir=lib")
    result = subprocess.run([meson(), "install", "-C", str(built.build_dir), "--quiet"], env=tool_env(),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return prefix, built


def _pc_env(prefix: Path) -> dict[str, str]:
    env = tool_env()
    env["PKG_CONFIG_PATH"] = str(prefix / "lib" / "pkgconfig")
    return env


def _pkg_config(prefix: Path, *args: str) -> str:
    result = subprocess.run(["pkg-config", *args, "asterisk-modules"], env=_pc_env(prefix),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _inspect(path: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "buildtool", "inspect", "--format", "json", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["modules"][0]


def test_install_layout(prefix):
    prefix, built = prefix
    assert (prefix / "include" / "asterisk" / "module.h").is_file()
    assert (prefix / "include" / "asterisk" / "core.h").is_file()
    # what each exporting module exports, declared for third-party modules
    for exporter in ("res_pjsip", "res_pjsip_session", "res_fax", "res_curl"):
        header = (prefix / "include" / "asterisk" / f"{exporter}.h").read_text()
        assert f"<depend>{exporter}</depend>" in header
    moduledir = prefix / "lib" / "asterisk" / "modules"
    assert {p.stem for p in moduledir.glob("*.so")} == set(built.modules)
    assert (prefix / "lib" / "libastcore.so").is_file()
    assert (prefix / "etc" / "asterisk" / "modules.conf").is_file()
    share = prefix / "share" / "buildtool"
    assert (share / "catalog.toml").read_bytes() == (REPO / "modules" / "catalog.toml").read_bytes()
    tree = json.loads((share / "tree.json").read_text())
    assert set(tree["modules"]) == set(built.modules)
    # installed modules are the built bytes
    for name, path in built.modules.items():
        assert (moduledir / f"{name}.so").read_bytes() == path.read_bytes()
    # pkg-config leads to everything
    assert _pkg_config(prefix, "--cflags") == f"-I{prefix / 'include'}"
    assert _pkg_config(prefix, "--variable=moduledir") == str(moduledir)
    assert _pkg_config(prefix, "--variable=tree") == str(share / "tree.json")
    assert _pkg_config(prefix, "--variable=catalog") == str(share / "catalog.toml")
    assert _pkg_config(prefix, "--variable=corelib") == str(prefix / "lib" / "libastcore.so")
    tool = _pkg_config(prefix, "--variable=buildtool")
    assert tool == str(prefix / "bin" / "buildtool")
    version = subprocess.run([tool, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("buildtool ")


def test_third_party_module_against_installed_prefix(prefix, tmp_path):
    prefix, _ = prefix
    source = tmp_path / "res_mine"
    shutil.copytree(REPO / "examples" / "third_party", source)
    build = tmp_path / "build"
    env = _pc_env(prefix)
    setup = subprocess.run([meson(), "setup", str(build), str(source)], env=env, capture_output=True, text=True)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    result = subprocess.run(["ninja", "-C", str(build), "-v"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    # only the prefix: nothing of the repository is on the compile line
    assert str(REPO) not in result.stdout
    assert f"-I{prefix / 'include'}" in result.stdout
    record = _inspect(build / "res_mine.so")
    assert record["name"] == "res_mine"
    assert record["requires"] == ["res_pjsip"]
    assert record["optional_modules"] == ["res_statsd"]
    assert record["support_level"] == "external"
    again = subprocess.run(["ninja", "-C", str(build)], env=env, capture_output=True, text=True)
    assert "no work to do" in again.stdout


def test_third_party_module_cannot_require_a_module_that_is_not_installed(prefix, tmp_path):
    prefix, built = prefix
    if "res_curl" in built.modules:
        pytest.skip("libcurl is installed here: res_curl is built and installed")
    source = tmp_path / "res_mine"
    shutil.copytree(REPO / "examples" / "third_party", source)
    code = source / "res_mine.c"
    code.write_text(code.read_text().replace("<depend>res_pjsip</depend>", "<depend>res_curl</depend>"))
    env = _pc_env(prefix)
    # Configuration reads MODULEINFO (for its libraries), so it stops there, at the line.
    result = subprocess.run([meson(), "setup", str(tmp_path / "build"), str(source)], env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "res_curl" in result.stdout and "res_mine.c:" in result.stdout
    assert "unknown-name" in result.stdout


def test_makefile_example_with_buildtool_cflags(prefix, tmp_path):
    prefix, _ = prefix
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    source = tmp_path / "makefile"
    shutil.copytree(REPO / "examples" / "makefile", source)
    env = _pc_env(prefix)
    result = subprocess.run(["make", "-C", str(source)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert str(REPO) not in result.stdout
    record = _inspect(source / "res_hello.so")
    assert record["requires"] == ["res_fax"]
    assert record["enhances"] == ["res_fax"]
    assert record["libraries"] == ["zlib"]
    assert (source / "gen" / "res_hello.modinfo.h").is_file()
    again = subprocess.run(["make", "-C", str(source)], env=env, capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout or "is up to date" in again.stdout


def test_makefile_example_against_a_build_directory(built_modules, tmp_path):
    """The other documented way: no install, the repository's headers and a build's tree."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    source = tmp_path / "makefile"
    shutil.copytree(REPO / "examples" / "makefile", source)
    result = subprocess.run(
        ["make", "-C", str(source), f"BUILDTOOL={sys.executable} -m buildtool", f"AST_CFLAGS=-I{REPO / 'include'}",
         f"TREE={built_modules.tree_json}", f"CATALOG={built_modules.catalog}"],
        env=tool_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _inspect(source / "res_hello.so")["requires"] == ["res_fax"]

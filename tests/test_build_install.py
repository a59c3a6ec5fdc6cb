"""`meson install` into a temporary prefix; third-party and Makefile builds against that prefix only."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.build import REPO, meson, tool_env


@pytest.fixture
def prefix(installed_build):
    """(prefix, built): conftest's installed build (one per session; these tests only read it)."""
    return installed_build


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
    # test_sorcery is a module of the tree that the default build never builds (it needs the build
    # option TEST_FRAMEWORK), so the installed tree does not have it, whatever this machine has installed.
    assert "test_sorcery" not in built.modules
    assert "test_sorcery" not in json.loads((prefix / "share" / "buildtool" / "tree.json").read_text())["modules"]
    source = tmp_path / "res_mine"
    shutil.copytree(REPO / "examples" / "third_party", source)
    code = source / "res_mine.c"
    code.write_text(code.read_text().replace("<depend>res_pjsip</depend>", "<depend>test_sorcery</depend>"))
    line = code.read_text().splitlines().index("\t<depend>test_sorcery</depend>") + 1
    env = _pc_env(prefix)
    # Configuration reads MODULEINFO (for its libraries), so it stops there, at the line.
    result = subprocess.run([meson(), "setup", str(tmp_path / "build"), str(source)], env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert re.search(rf"res_mine\.c:{line}:\d+: error: .*test_sorcery", result.stdout), result.stdout
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


# --- A third-party author, end to end, against the installed prefix only ---------------------------------

AUTHOR_SOURCE = """\
/*** MODULEINFO
	<depend>res_pjsip</depend>
	<use type="module">res_statsd</use>
	<depend>zlib</depend>
	<depend type="interface">sorcery_wizard</depend>
	<use type="external">curl</use>
	<support_level>external</support_level>
 ***/

#include <zlib.h>

#include "asterisk/module.h"
#include "asterisk/core.h"
#include "asterisk/res_pjsip.h"
/*EXTRA*/

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	ast_sip_register_service(crc32(0, (const Bytef *) "author", 6) ? "author" : "author-0");
	/*CALL*/
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "An author's module");
"""


def _author_project(root: Path, source: str = AUTHOR_SOURCE) -> Path:
    """A new module, res_author, with the example meson.build and Makefile (renamed), as an author copies them."""
    project = root / "res_author"
    project.mkdir(parents=True)
    (project / "res_author.c").write_text(source)
    build = (REPO / "examples" / "third_party" / "meson.build").read_text()
    (project / "meson.build").write_text(build.replace("res_mine", "res_author"))
    makefile = (REPO / "examples" / "makefile" / "Makefile").read_text()
    (project / "Makefile").write_text(makefile.replace("MODULE := res_hello", "MODULE := res_author"))
    return project


def _run(*command, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], env=env or tool_env(), cwd=cwd, capture_output=True, text=True)


def _buildtool(*args) -> subprocess.CompletedProcess:
    return _run(sys.executable, "-m", "buildtool", *args)


def _no_pc_env() -> dict[str, str]:
    """make run as from a shell where PKG_CONFIG_PATH is given only on make's command line."""
    env = tool_env()
    env.pop("PKG_CONFIG_PATH", None)
    return env


def _modules_dir(prefix: Path, tmp_path: Path, *extra: Path) -> Path:
    """A copy of the installed lib/ (the core library, the modules) plus the author's modules, as
    `ninja install` would put them side by side; the shared prefix itself stays as installed."""
    lib = tmp_path / "lib"
    directory = lib / "asterisk" / "modules"
    shutil.copytree(prefix / "lib" / "asterisk" / "modules", directory)
    shutil.copy2(prefix / "lib" / "libastcore.so", lib / "libastcore.so")
    for path in extra:
        shutil.copy2(path, directory / path.name)
    return directory


@pytest.fixture(scope="module")
def author_build(installed_build, tmp_path_factory):
    """``(project, build, ninja's -v output)``: res_author as written (AUTHOR_SOURCE), configured and built
    with meson against the installed prefix once; the end-to-end test reads it, the mistakes test loads it."""
    prefix, _ = installed_build
    root = tmp_path_factory.mktemp("author")
    project = _author_project(root)
    env = _pc_env(prefix)
    build = root / "build"
    setup = _run(meson(), "setup", build, project, env=env)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    ninja = _run("ninja", "-C", build, "-v", env=env)
    assert ninja.returncode == 0, ninja.stdout + ninja.stderr
    return project, build, ninja.stdout


def test_author_end_to_end(prefix, author_build, tmp_path):
    prefix, _ = prefix
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    project, build, compiled = author_build
    env = _pc_env(prefix)

    # 1. meson: the libraries come from MODULEINFO (no dependency('zlib') written by the author)
    assert "-DHAVE_ZLIB=1" in compiled
    # an optional library (<use type="external">curl</use>) is compiled in only when it is there
    has_curl = _run("pkg-config", "--exists", "libcurl").returncode == 0
    assert ("-DHAVE_CURL=1" in compiled) == has_curl
    from buildtool.elfinfo import read_binary
    assert "libz.so.1" in read_binary(str(build / "res_author.so")).needed
    record = _inspect(build / "res_author.so")
    assert record["requires"] == ["res_pjsip"] and record["optional_modules"] == ["res_statsd"]
    assert record["libraries"] == ["zlib"] and record["uses"] == ["sorcery_wizard"]
    assert record["default_enabled"] is True
    # which installed modules export: flags decoded; lists joined with ", "
    shown = _buildtool("inspect", prefix / "lib" / "asterisk" / "modules" / "res_pjsip.so",
                       prefix / "lib" / "asterisk" / "modules" / "chan_pjsip.so")
    assert "flags 0x3 (GLOBAL_SYMBOLS|LOAD_ORDER)" in shown.stdout
    assert "flags 0x2 (LOAD_ORDER)" in shown.stdout
    assert "  requires: res_pjsip, res_pjsip_session\n" in shown.stdout
    assert _inspect(prefix / "lib" / "asterisk" / "modules" / "res_pjsip.so")["flag_names"] == \
        ["GLOBAL_SYMBOLS", "LOAD_ORDER"]

    # 2. make, with PKG_CONFIG_PATH only on make's command line (GNU Make 4.3's $(shell) does not see it)
    made = _run("make", "-C", project, f"PKG_CONFIG_PATH={prefix / 'lib' / 'pkgconfig'}", env=_no_pc_env())
    assert made.returncode == 0, made.stdout + made.stderr
    assert "-lz" in made.stdout and "-DHAVE_ZLIB=1" in made.stdout
    assert "libz.so.1" in read_binary(str(project / "res_author.so")).needed

    # 3. check against the installed tree: explicit prefix, and through pkg-config; clean
    for where in (["--installed", prefix], ["--pkg-config"]):
        checked = _run(sys.executable, "-m", "buildtool", "check", *where, "--binaries", build, "--format", "json",
                       project / "res_author.c", env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        report = json.loads(checked.stdout)
        assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
        assert report["summary"]["modules"] == 1 and report["summary"]["notes"] == 0
    # without the installed tree, its valid dependencies are unknown names: what the option is for
    alone = _buildtool("check", project / "res_author.c")
    assert alone.returncode == 1 and "unknown-name" in alone.stdout
    assert "with --installed PREFIX or --pkg-config" in alone.stderr

    # 4. loaded with the installed modules and the core
    modules = _modules_dir(prefix, tmp_path, build / "res_author.so")
    corelib = prefix / "lib" / "libastcore.so"
    conf = prefix / "etc" / "asterisk" / "modules.conf"
    loaded = _buildtool("load", "--modules-dir", modules, "--preload-library", corelib, "--config", conf,
                        "--format", "json")
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    order = json.loads(loaded.stdout)["order"]
    assert "res_author" in order
    assert order.index("res_pjsip") < order.index("res_author")
    assert min(order.index("res_sorcery_config"), order.index("res_sorcery_memory")) < order.index("res_author")


def test_author_mistakes(prefix, author_build, tmp_path):
    prefix, _ = prefix
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = _pc_env(prefix)
    corelib = prefix / "lib" / "libastcore.so"

    # A library that exists nowhere: meson configuration and make both stop at the MODULEINFO line.
    frob = _author_project(tmp_path / "frob", AUTHOR_SOURCE.replace(
        "\t<depend>zlib</depend>\n", "\t<depend>zlib</depend>\n\t<depend type=\"external\">frobnicate</depend>\n"))
    setup = _run(meson(), "setup", tmp_path / "frob-build", frob, env=env)
    assert setup.returncode != 0
    assert "res_author.c:5:26: error: res_author requires library frobnicate" in setup.stdout
    assert "[library-unavailable]" in setup.stdout
    made = _run("make", "-C", frob, f"PKG_CONFIG_PATH={prefix / 'lib' / 'pkgconfig'}", env=_no_pc_env())
    assert made.returncode == 2
    assert "res_author.c:5:26: error: res_author requires library frobnicate" in made.stderr
    assert "failed (exit 1), see its message above" in made.stderr
    assert "module.h" not in made.stderr and not (frob / "res_author.so").exists()   # no cascade, no compile
    # and check, on the source alone, says the same
    checked = _buildtool("check", "--installed", prefix, frob / "res_author.c")
    assert checked.returncode == 1
    assert "res_author.c:5:26: error: res_author requires library frobnicate" in checked.stdout
    # make without any way to find asterisk-modules stops at pkg-config's own message
    lost = _run("make", "-C", frob, env=_no_pc_env())
    assert lost.returncode == 2 and "asterisk-modules" in lost.stderr and "module.h" not in lost.stderr

    # A call into res_fax without <depend>res_fax</depend>: check names the module and the line to add,
    # and so does the loader.
    sneaky = _author_project(tmp_path / "sneaky", AUTHOR_SOURCE.replace(
        "/*EXTRA*/", '#include "asterisk/res_fax.h"').replace("/*CALL*/", 'ast_fax_tech_register("author");'))
    build = tmp_path / "sneaky-build"
    assert _run(meson(), "setup", build, sneaky, env=env).returncode == 0
    assert _run("ninja", "-C", build, env=env).returncode == 0
    checked = _buildtool("check", "--installed", prefix, "--binaries", build, sneaky / "res_author.c")
    assert checked.returncode == 1
    assert ("res_author uses ast_fax_tech_register, defined by res_fax, which it does not require: "
            "add <depend>res_fax</depend> to its MODULEINFO [undeclared-dependency]") in checked.stdout
    modules = _modules_dir(prefix, tmp_path / "sneaky", build / "res_author.so")
    # (with res_fax loaded first, the global scope would hide the mistake: Asterisk's own trap)
    conf = tmp_path / "modules.conf"
    conf.write_text((prefix / "etc" / "asterisk" / "modules.conf").read_text() + "noload => res_fax.so\n")
    loaded = _buildtool("load", "--modules-dir", modules, "--preload-library", corelib, "--config", conf)
    assert ("res_author          declined: refused before its load(): undefined symbol ast_fax_tech_register "
            "not found in the global scope (nor in its own libraries): ast_fax_tech_register is defined by "
            "res_fax, which res_author does not require: add <depend>res_fax</depend> to its MODULEINFO"
            ) in loaded.stdout

    # The clean module, for the loader's mistakes.
    _, build, _ = author_build
    modules = _modules_dir(prefix, tmp_path / "good", build / "res_author.so")

    # Forgetting --preload-library: exit 1, and the library to pass is named.
    corelib = modules.parent.parent / "libastcore.so"
    forgot = _buildtool("load", "--modules-dir", modules, "--config", prefix / "etc" / "asterisk" / "modules.conf")
    assert forgot.returncode == 1
    assert f"defined by the core library {corelib}, which is not loaded: pass --preload-library {corelib}" \
        in forgot.stdout
    assert "refused because the core library is not loaded" in forgot.stderr
    # and `buildtool modules` says why each one is not running, after Asterisk's table
    table = _buildtool("modules", "--modules-dir", modules)
    assert "Why not running:" in table.stdout
    assert any(line.startswith("  res_sorcery_memory.so: ") and f"pass --preload-library {corelib}" in line
               for line in table.stdout.splitlines())

    # autoload=no: requiring the module pulls in the preferred provider of its interface (issue 13)...
    conf = tmp_path / "modules.conf"
    conf.write_text("[modules]\nautoload = no\nrequire => res_author.so\n")
    alone = _buildtool("load", "--modules-dir", modules, "--preload-library", corelib, "--config", conf)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    # ... and when modules.conf keeps every provider out, the providers that exist are named.
    conf.write_text("[modules]\nautoload = no\nrequire => res_author.so\nnoload => res_sorcery_config.so\n"
                    "noload => res_sorcery_memory.so\n")
    alone = _buildtool("load", "--modules-dir", modules, "--preload-library", corelib, "--config", conf)
    assert alone.returncode == 1
    assert ("uses interface sorcery_wizard, but no loaded module provides it: its providers here are "
            "res_sorcery_config, res_sorcery_memory, none of them loaded (see their own reasons): with "
            "autoload=no only the preferred provider is pulled in, unless noload keeps it out; name the one to "
            "use with 'prefer => res_sorcery_config.so' or 'load => res_sorcery_config.so' in modules.conf"
            ) in alone.stdout, alone.stdout

    # A misspelled module in modules.conf: did you mean.
    installed_conf = (prefix / "etc" / "asterisk" / "modules.conf").read_text()
    conf.write_text(installed_conf + "load => res_pjsip_sesion.so\n")
    typo = _buildtool("load", "--modules-dir", modules, "--preload-library", corelib, "--config", conf)
    assert "there is no res_pjsip_sesion.so in" in typo.stdout
    assert "did you mean 'res_pjsip_session'?" in typo.stdout
    assert typo.returncode == 0   # a `load =>` that cannot load does not stop start-up, as in Asterisk


def test_forgotten_core_is_named_in_a_build_directory_too(built_modules):
    """build/modules -> build/core/libastcore.so: the hint finds the core of an uninstalled build."""
    result = _buildtool("load", "--modules-dir", built_modules.modules_dir, "--config", built_modules.modules_conf)
    assert result.returncode == 1
    core = os.path.normpath(built_modules.core_library)
    assert f"ast_module_trace is defined by the core library {core}, which is not loaded: " \
           f"pass --preload-library {core}" in result.stdout
    with_core = _buildtool("load", "--modules-dir", built_modules.modules_dir, "--config",
                           built_modules.modules_conf, "--preload-library", built_modules.core_library)
    assert with_core.returncode == 0, with_core.stdout + with_core.stderr

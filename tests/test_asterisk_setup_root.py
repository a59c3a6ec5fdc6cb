"""asterisk-setup on a small synthetic Asterisk root (no snapshot): what it writes, the real make compiling a
module with the injected header, the make hook's one-module refresh, and taking the hook out again.

The root is test_asterisk_makefiles' (every member shape) with compilable sources, a module.h of Asterisk's
shape, configure's ``makeopts`` and a ``Makefile.rules`` that compiles with ``$(_ASTCFLAGS)`` as Asterisk's does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from buildtool import elfinfo
from buildtool.asterisk import moduleh, setup
from buildtool.errors import InputError
from buildtool.model import Module
from buildtool.scan import scan_root
from helpers.asterisk import SOURCES, write_root
from helpers.asterisk import MODULE_H

pytestmark = pytest.mark.skipif(not (shutil.which("make") and shutil.which("gcc")),
                                reason="GNU make and gcc compile the injected module")

PLAIN = """/*** MODULEINFO
\t<support_level>core</support_level>
\t<depend>res_base</depend>
\t<depend>cdr</depend>
 ***/
/* asterisk.h reads these before it is included: the forced header replays them */
#define ASTMM_LIBC ASTMM_IGNORE
/* #include "not_this.h" */ #define AST_API_MODULE
#include "asterisk.h"
#include "asterisk/module.h"
static int load_module(void) { return 0; }
AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Plain Application",
\t.load = load_module,
\t.optional_modules = "res_cpp",
);
const char *plain_name(void);
const char *plain_name(void) { return ast_module_info->name; }
"""
RULES = """-include $(ASTTOPDIR)/makeopts
%.o: %.c
\t$(CC) -Wall -Wextra -Werror -fPIC -c -o $@ $< -I$(ASTTOPDIR)/include $(_ASTCFLAGS) -DAST_MODULE=\\"$*\\"
"""
# configure's makeopts holds the build's paths, in whatever bytes they are (here UTF-8): setup keeps them.
CONFIGURED = b"CC=gcc\nAST_DEVMODE=no\nprefix=/home/jos\xc3\xa9/asterisk\n"
INJECTED = ["app_multi", "app_plain", "app_vm", "res_base"]


MULTI = """/*** MODULEINFO
\t<support_level>extended</support_level>
\t<depend type="module">res_base</depend>
 ***/
AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, "Multi-file Application",
\t.requires = "res_base,extconfig",
);
"""
# Members that get nothing injected, each sorted before the injected ones of its directory.
NOT_INJECTED = {
    "apps/app_cxx.cc": "/*** MODULEINFO\n\t<support_level>extended</support_level>\n ***/\n"
                       'AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, "C++", load, unload, 0, 0, 0);\n',
    "apps/app_nostruct.c": "/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\nint helper;\n",
    "apps/apps.xml": '<member name="app_download" displayname="Downloaded">\n\t<support_level>external</support_level>\n'
                     "</member>\n",
}


def asterisk_root(dest: Path) -> Path:
    files = dict(SOURCES, **NOT_INJECTED)
    files["apps/app_plain.c"] = PLAIN
    files["apps/app_multi.c"] = MULTI
    files["apps/app_vm.c"] = '#define AST_API_MODULE\n#include "asterisk.h"\n' + SOURCES["apps/app_vm.c"]
    files["apps/Makefile"] = SOURCES["apps/Makefile"] + "\ninclude $(ASTTOPDIR)/Makefile.rules\n"
    files["Makefile.rules"] = RULES
    files["include/asterisk.h"] = "#define ASTERISK_GPL_KEY \"key\"\n#define AST_MODFLAG_LOAD_ORDER 2\n#include <stddef.h>\n"
    files["include/asterisk/module.h"] = "#ifndef MODULE_H\n#define MODULE_H\n" + MODULE_H + "#endif\n"
    files[".version"] = "22.10.1-test\n"
    root = write_root(dest, files)
    (root / "makeopts").write_bytes(CONFIGURED)
    return root


def run_setup(root: Path) -> setup.SetupResult:
    """What ``buildtool asterisk-setup ROOT`` does, in this process."""
    tree, found = scan_root(str(root))
    return setup.setup(str(root), tree, found.catalog, found.compiled_sources())


def make(root: Path, *goals: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(root / "apps"), f"ASTTOPDIR={root}", *goals],
                          capture_output=True, text=True, env={"PATH": os.environ["PATH"], "LC_ALL": "C"})


@pytest.fixture
def root(tmp_path) -> Path:
    return asterisk_root(tmp_path / "asterisk")


def test_setup_writes_the_headers_the_hook_and_the_saved_tree(root):
    result = run_setup(root)
    assert (result.root, result.version) == (str(root), "22.10.1-test")
    assert result.injected == INJECTED and result.changed == INJECTED
    state = root / ".buildtool"
    assert sorted(p.name for p in (state / "modinfo").iterdir()) == [
        "app_multi.modinfo.h", "app_plain.modinfo.h", "app_vm.modinfo.h", "asterisk-inject.h", "res_base.modinfo.h"]
    assert sorted(p.name for p in state.iterdir()) == ["catalog.toml", "inject.mk", "modinfo", "tree.json"]
    # C++ gets a note, not an injection; an XML member compiles nothing and gets neither.
    cpp = [d for d in result.diagnostics if d.code == "asterisk-cplusplus"]
    assert [(d.path, d.line, d.column, d.module) for d in cpp] == [
        (str(root / "apps/app_cxx.cc"), 1, 1, "app_cxx"), (str(root / "res/res_cpp.cc"), 1, 1, "res_cpp")]
    assert cpp[1].message == ("C++ module: Asterisk's C++ AST_MODULE_INFO is positional and has no .requires; "
                              "nothing injected")
    # Hand-written lists that disagree with MODULEINFO: warnings, since they keep precedence.
    drift = {d.module: d for d in result.diagnostics if d.code != "asterisk-cplusplus"}
    plain = drift["app_plain"]
    assert (plain.severity.value, plain.path, plain.line, plain.column, plain.code) == (
        "warning", str(root / "apps/app_plain.c"), 14, 2, "hand-written-drift")
    assert plain.data == {"field": "optional_modules", "only_in_moduleinfo": [], "only_in_hand_written": ["res_cpp"]}
    assert plain.message == ('hand-written .optional_modules = "res_cpp" disagrees with MODULEINFO (only hand-written: '
                             "res_cpp); the hand-written list keeps precedence until `buildtool migrate --write`")
    multi = drift["app_multi"]  # extconfig is a core built-in of this root (main/config.c)
    assert (multi.severity.value, multi.line, multi.code) == ("warning", 6, "hand-written-builtin"), multi
    assert [d.module for d in result.diagnostics] == ["app_cxx", "res_cpp", "app_multi", "app_plain"]
    makeopts = (root / "makeopts").read_bytes()
    assert makeopts == CONFIGURED + (setup.HOOK_BEGIN + "\n-include $(ASTTOPDIR)/.buildtool/inject.mk\n"
                                     + setup.HOOK_END + "\n").encode()
    assert setup.is_set_up(str(root))
    plain = (state / "modinfo" / "app_plain.modinfo.h").read_text()
    assert ("/* Replayed from the source's own lines before its first #include. */\n"
            "#define ASTMM_LIBC ASTMM_IGNORE\n#define AST_API_MODULE\n#ifndef AST_MODULEINFO_APP_PLAIN_H\n") in plain
    assert '#define AST_MODULE_ASTERISK_REQUIRES "cdr,res_base"\n' in plain
    assert '#include "asterisk-inject.h"\n' in plain
    vm = (state / "modinfo" / "app_vm.modinfo.h").read_text()
    assert '#define AST_MODULE_OPTIONAL_MODULES "app_multi"\n' in vm and "ASTMM_LIBC" not in vm
    # A Makefile-rule member: its data from the Makefile, its description and replayed lines from its C source.
    assert '#define AST_MODULE_DESCRIPTION_TEXT "Voicemail (test)"\n' in vm
    assert "before its first #include. */\n#define AST_API_MODULE\n#ifndef AST_MODULEINFO_APP_VM_H\n" in vm
    # A second run writes nothing new.
    again = run_setup(root)
    assert again.injected == INJECTED and again.changed == []
    assert (root / "makeopts").read_bytes() == makeopts


def test_inject_mk_lists_each_injected_module_in_its_directory(root):
    run_setup(root)
    text = (root / ".buildtool" / "inject.mk").read_text()
    command = " ".join([sys.executable, "-m", "buildtool"])
    assert f"BUILDTOOL_COMMAND := {command}\n" in text
    assert ("ifeq ($(abspath $(CURDIR)),$(abspath $(ASTTOPDIR))/apps)\n"
            "app_multi.o: _ASTCFLAGS+=-include $(BUILDTOOL_STATE)/modinfo/app_multi.modinfo.h\n"
            "app_multi.o: $(BUILDTOOL_STATE)/modinfo/app_multi.modinfo.h\n"
            "$(BUILDTOOL_STATE)/modinfo/app_multi.modinfo.h: app_multi.c\n"
            f"\t$(BUILDTOOL_COMMAND) asterisk-setup --module app_multi $(abspath $(ASTTOPDIR))\n") in text
    # A Makefile-rule member: its header depends on the C source and on the Makefile declaring its data.
    assert "$(BUILDTOOL_STATE)/modinfo/app_vm.modinfo.h: app_vm.c Makefile\n" in text
    assert ("ifeq ($(abspath $(CURDIR)),$(abspath $(ASTTOPDIR))/res)\n"
            "res_base.o: _ASTCFLAGS+=-include $(BUILDTOOL_STATE)/modinfo/res_base.modinfo.h\n") in text
    assert text.index("/apps)\n") < text.index("/res)\n")


def test_real_make_compiles_the_module_with_its_injected_record(root, tmp_path):
    run_setup(root)
    built = make(root, "app_plain.o")
    assert built.returncode == 0, built.stderr
    assert f"-include {root}/.buildtool/modinfo/app_plain.modinfo.h" in built.stdout
    assert "asterisk-setup --module" not in built.stdout  # the header is newer than the source
    so = tmp_path / "app_plain.so"
    subprocess.run(["gcc", "-shared", "-o", str(so), str(root / "apps" / "app_plain.o")], check=True)
    record = elfinfo.read_record(str(so))
    assert record.fields["struct"] == "asterisk" and record.fields["name"] == "app_plain"
    assert record.fields["description"] == "Plain Application"
    assert record.list("requires") == ("res_base",) and record.list("builtins") == ("cdr",)
    # Taken out again: make compiles without the forced include.
    assert setup.remove(str(root))
    assert (root / "makeopts").read_bytes() == CONFIGURED and not setup.is_set_up(str(root))
    assert not setup.remove(str(root))
    os.remove(root / "apps" / "app_plain.o")
    plain = make(root, "app_plain.o")
    assert plain.returncode == 0 and "-include" not in plain.stdout, plain.stderr


def test_refresh_of_one_module_writes_only_a_changed_header(root):
    run_setup(root)
    source = root / "apps" / "app_plain.c"
    header = root / ".buildtool" / "modinfo" / "app_plain.modinfo.h"
    before = header.read_bytes()
    os.utime(header, ns=(10**18, 10**18))
    os.utime(source, ns=(2 * 10**18, 2 * 10**18))
    assert not setup.regenerate_one(str(root), "app_plain")
    assert header.read_bytes() == before and os.stat(header).st_mtime_ns == 2 * 10**18
    os.utime(header, ns=(3 * 10**18, 3 * 10**18))
    assert not setup.regenerate_one(str(root), "app_plain")
    assert os.stat(header).st_mtime_ns == 3 * 10**18  # never moved back
    source.write_text(PLAIN.replace("\t<depend>cdr</depend>\n", "\t<depend>cdr</depend>\n\t<use>res_cpp</use>\n"))
    assert setup.regenerate_one(str(root), "app_plain")
    text = header.read_text()
    assert '#define AST_MODULE_OPTIONAL_MODULES "res_cpp"\n' in text
    assert '#define AST_MODULE_ASTERISK_REQUIRES "cdr,res_base"\n' in text
    assert "#define ASTMM_LIBC ASTMM_IGNORE\n" in text
    # The saved tree's display name is kept (a lone source scan has none).
    assert '#define AST_MODULE_DESCRIPTION_TEXT "Plain Application"\n' in text


def test_refresh_of_a_makefile_rule_member(root):
    run_setup(root)
    header = root / ".buildtool" / "modinfo" / "app_vm.modinfo.h"
    before = header.read_text()
    assert not setup.regenerate_one(str(root), "app_vm")
    makefile = root / "apps" / "Makefile"
    makefile.write_text(makefile.read_text().replace('<use type=\\"module\\">app_multi</use>',
                                                     '<use type=\\"module\\">res_base</use>'))
    assert setup.regenerate_one(str(root), "app_vm")
    after = header.read_text()
    assert '#define AST_MODULE_OPTIONAL_MODULES "res_base"\n' in after
    assert after.replace("res_base", "app_multi") .count("\n") == before.count("\n")


def test_refresh_of_an_unknown_module_names_the_fix(root):
    run_setup(root)
    with pytest.raises(InputError) as caught:
        setup.regenerate_one(str(root), "app_gone")
    assert str(caught.value) == (f"{root}:0:0: error: no module 'app_gone' in the tree asterisk-setup saved: "
                                 "run buildtool asterisk-setup again")


def test_out_of_tree_module_headers_and_flags(tmp_path):
    header = moduleh.parse("module.h", MODULE_H, "20.5.0")
    module = Module("res_third", str(tmp_path / "res_third.c"), 1)
    data = b"/*** MODULEINFO\n\t<support_level>extended</support_level>\n ***/\n#include \"asterisk.h\"\n"
    out = tmp_path / "out"
    out.mkdir()
    assert setup.write_headers(header, module, data, out)
    assert not setup.write_headers(header, module, data, out)
    assert sorted(p.name for p in out.iterdir()) == ["asterisk-inject.h", "res_third.modinfo.h"]
    wrapper = (out / "asterisk-inject.h").read_text()
    assert wrapper.startswith("/* Generated by buildtool asterisk-setup from include/asterisk/module.h "
                              "(Asterisk 20.5.0,\n * AST_MODULE_INFO at line 26); do not edit.")
    assert f"#define BUILDTOOL_ASTERISK_MODULE_INFO(keystr, flags_to_set, desc, fields...) \\\n\t{header.body}\n" in wrapper
    assert setup.out_of_tree_flags(module, out, "/opt/asterisk/include") == [
        "-I/opt/asterisk/include", "-include", str(out / "res_third.modinfo.h")]


HOOK = (setup.HOOK_BEGIN + "\n-include $(ASTTOPDIR)/.buildtool/inject.mk\n" + setup.HOOK_END + "\n").encode()


@pytest.mark.parametrize("before, after", [
    (b"CC=gcc\n" + HOOK + b"AFTER=1\n", b"CC=gcc\nAFTER=1\n"),   # configure's lines after the block stay
    (HOOK + b"CC=gcc\n", b"CC=gcc\n"),                          # the block first
    (b"CC=gcc\n" + HOOK.split(b"\n# END")[0] + b"\n", b"CC=gcc\n"),  # an END line lost: the rest is the block
])
def test_remove_takes_out_only_the_marked_block(tmp_path, before, after):
    (tmp_path / "makeopts").write_bytes(before)
    assert setup.remove(str(tmp_path))
    assert (tmp_path / "makeopts").read_bytes() == after
    setup.hook_makeopts(tmp_path)
    assert (tmp_path / "makeopts").read_bytes() == after + HOOK


def test_unconfigured_tree(tmp_path):
    assert not setup.is_set_up(str(tmp_path))
    (tmp_path / "makeopts").write_bytes(b"prefix=/opt/caf\xe9\n" + HOOK)   # not UTF-8: still read
    assert not setup.is_set_up(str(tmp_path))                               # no inject.mk yet
    (tmp_path / ".buildtool").mkdir()
    (tmp_path / ".buildtool" / "inject.mk").write_text("")
    assert setup.is_set_up(str(tmp_path))
    (tmp_path / "makeopts").unlink()
    with pytest.raises(InputError) as caught:
        setup.hook_makeopts(tmp_path)
    assert str(caught.value) == (f"{tmp_path}/makeopts:0:0: error: cannot read makeopts (No such file or directory): "
                                 "run ./configure first")


def test_inject_mk_keeps_the_directorys_default_goal(tmp_path):
    """Real make: the rule before the hook stays the goal, whatever the hook and the rules after it define."""
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "app_a.c").write_text("int x;\n")
    text = setup.hook_text(tmp_path, {"app_a": [str(apps / "app_a.c")]}, ["true"])
    assert text.startswith(
        "# Generated by buildtool asterisk-setup; do not edit (re-run the setup instead).\n"
        "# Included from makeopts; only a module's own NAME.c gets its header forced in.\n"
        "# makeopts may be read twice by one make (Makefile.rules and the directory's Makefile): once is enough.\n"
        "ifndef BUILDTOOL_INJECT_MK\nBUILDTOOL_INJECT_MK := 1\n_buildtool_default_goal := $(.DEFAULT_GOAL)\n"
        "BUILDTOOL_STATE := $(abspath $(ASTTOPDIR))/.buildtool\nBUILDTOOL_COMMAND := true\n")
    (tmp_path / "inject.mk").write_text(text)
    (apps / "Makefile").write_text("all:\n\t@echo goal=all\ninclude $(ASTTOPDIR)/inject.mk\nother:\n\t@echo goal=other\n")
    done = subprocess.run(["make", "-s", "-C", str(apps), f"ASTTOPDIR={tmp_path}"], capture_output=True, text=True)
    assert done.stdout == "goal=all\n", done.stdout + done.stderr


@pytest.mark.parametrize("source, replayed", [
    ('/* why */ #define ASTMM_LIBC ASTMM_IGNORE\n#include "asterisk.h"\n', ["#define ASTMM_LIBC ASTMM_IGNORE"]),
    ('/*\n#include "old.h"\n*/\n#define AST_API_MODULE\n#include "asterisk.h"\n', ["#define AST_API_MODULE"]),
    ("#define A 1\n#define B 2\n", []),  # no #include at all: nothing precedes one
])
def test_preamble_is_what_the_preprocessor_reads_before_the_first_include(source, replayed):
    assert setup.preamble(source) == replayed

"""Reading an Asterisk root on small synthetic roots written here, checked against real make and awk.

Each root has the shapes a real one has (an explicit ``.NAME.moduleinfo`` rule, a
``MOD_ADD_C`` module, a category XML member file, a directory without
``Makefile.moddir_rules``, a MAKEOPTS block, the ``AST_DEVMODE`` conditional);
``make menuselect-tree`` runs on the very same files and its bytes are the
expected output. No Asterisk source is copied: the Makefiles are written for
these tests in the shapes the reader documents.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from buildtool.asterisk import awk, makefile, root as asterisk_root
from buildtool.errors import InputError
from buildtool.scan import scan_root
from helpers.asterisk import (APPS_MAKEFILE, GET_MAKEOPTS, GET_MODULEINFO, SOURCES, TOP_MAKEFILE, buildtool,
                              make_tree, needs_make, write_root)



@needs_make
@pytest.mark.parametrize("devmode", ["no", "yes"])
def test_synthetic_root_tree_is_makes_bytes(tmp_path, devmode):
    mine_root = write_root(tmp_path / "mine", makeopts=f"AST_DEVMODE={devmode}\n")
    make_root = write_root(tmp_path / "make", makeopts=f"AST_DEVMODE={devmode}\n")
    expected = make_tree(make_root)
    out = tmp_path / "tree.xml"
    result = buildtool("scan", "--format", "xml", "-o", str(out), str(mine_root))
    assert result.returncode == 0, result.stderr.decode()
    assert out.read_bytes() == expected
    # The shapes are all there, so the comparison means something.
    text = expected.decode()
    assert 'remove_on_change="apps/.o apps/.so"' in text                       # explicit rule, $* empty
    assert "apps/multi/one.o apps/multi/two.o apps/extra.o apps/multi/one.i" in text  # MOD_ADD_C outputs
    assert "<use>res_extra</use>" in text                                      # awk reads every prerequisite
    assert "res/cpp/helper.oo" in text and 'displayname="C++ Resource"' in text  # .cc and an included file
    assert "res_download" in text and "BASE_FAST" in text                      # XML member file, MAKEOPTS
    assert ("DEV_ONLY" in text) == (devmode == "yes")


@needs_make
@pytest.mark.parametrize("devmode", ["no", "yes"])
def test_make_conditionals_inside_the_recipe(tmp_path, devmode):
    files = dict(SOURCES)
    files["Makefile"] = TOP_MAKEFILE.replace(
        '\t@if [ "${AST_DEVMODE}" = "yes" ]; then \\\n\t\tcat build_tools/cflags-devmode.xml >> $@; \\\n\tfi\n',
        'ifeq ($(AST_DEVMODE),yes)\n\t@cat build_tools/cflags-devmode.xml >> $@\nelse\n\n# a comment\n'
        '\t@echo "<!-- no devmode -->" >> $@\nendif\n').replace("MOD_SUBDIRS:=third-party apps res",
                                                         "MOD_SUBDIRS:=third-party apps\nMOD_SUBDIRS+=res")
    assert "ifeq" in files["Makefile"] and "+=res" in files["Makefile"]
    expected = make_tree(write_root(tmp_path / "make", files, makeopts=f"AST_DEVMODE={devmode}\n"))
    mine = asterisk_root.read(str(write_root(tmp_path / "mine", files, makeopts=f"AST_DEVMODE={devmode}\n")))
    assert mine.tree_bytes() == expected
    assert (b"DEV_ONLY" in expected) == (devmode == "yes") and b"res_base" in expected


@needs_make
def test_synthetic_root_scan(tmp_path):
    root = write_root(tmp_path / "ast")
    tree, found = scan_root(str(root))
    assert [d.render() for d in tree.diagnostics] == []
    modules = tree.modules
    assert sorted(modules) == ["app_multi", "app_plain", "app_vm", "res_base", "res_cpp", "res_download"]
    vm = modules["app_vm"]
    assert (vm.source, vm.line, vm.displayname) == (str(root / "apps/Makefile"), 11, "Voicemail (test)")
    assert vm.optional_modules == ("app_multi",) and vm.libraries_required == ("zlib",)
    assert modules["app_plain"].builtins == ("cdr",) and modules["app_plain"].requires == ("res_base",)
    assert modules["app_multi"].options_optional == ("TEST_FRAMEWORK",)
    assert modules["res_download"].source == str(root / "res/res.xml")
    assert modules["res_download"].displayname == "Download a binary module"
    assert {m.category for m in modules.values()} == {"apps", "res"}
    assert found.catalog.builtins == {"cdr", "extconfig"}
    sources = {m.name: [str(Path(p).relative_to(root)) for p in m.sources] for m in found.members}
    assert sources["app_vm"] == ["apps/app_vm.c"] and sources["res_download"] == []
    assert sources["app_multi"] == ["apps/app_multi.c", "apps/multi/one.c", "apps/multi/two.c", "apps/extra.c"]
    assert {"TEST_FRAMEWORK", "BASE_FAST", "DEV_ONLY", "res_fancy_option"} <= found.catalog.options


@needs_make
def test_rule_member_positions_point_at_the_makefile(tmp_path):
    files = dict(SOURCES)
    files["apps/Makefile"] = APPS_MAKEFILE.replace('<depend>zlib</depend>', '<depend>no_such_lib</depend>')
    root = write_root(tmp_path / "ast", files)
    result = buildtool("scan", str(root))
    assert result.returncode == 1
    assert f"{root}/apps/Makefile:15:" in result.stderr.decode()  # the recipe line echoing it
    assert "no_such_lib" in result.stderr.decode()


def test_unknown_recipe_shape_is_refused_with_its_line(tmp_path):
    files = dict(SOURCES)
    files["Makefile"] = TOP_MAKEFILE.replace('\t@echo "</menu>" >> $@\n',
                                             '\t@echo "</menu>" >> $@\n\t@sed -e s/a/b/ x.xml >> $@\n')
    root = write_root(tmp_path / "ast", files)
    out = tmp_path / "tree.xml"
    out.write_text("keep me")
    result = buildtool("scan", "--format", "xml", "-o", str(out), str(root))
    assert result.returncode == 2
    line = files["Makefile"].split("\n").index("\t@sed -e s/a/b/ x.xml >> $@") + 1
    assert f"{root}/Makefile:{line}:1: error: menuselect-tree recipe line not understood" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert out.read_text() == "keep me"


def test_unknown_member_recipe_shape_is_refused(tmp_path):
    files = dict(SOURCES)
    files["apps/Makefile"] = APPS_MAKEFILE.replace('\techo "<depend>zlib</depend>" >> $@\n',
                                                   '\techo "<depend>`uname`</depend>" >> $@\n')
    root = write_root(tmp_path / "ast", files)
    with pytest.raises(InputError) as caught:
        asterisk_root.read(str(root))
    assert caught.value.path == str(root / "apps/Makefile") and caught.value.line == 15
    assert "expanded by the shell" in caught.value.message


def test_unknown_awk_program_is_refused(tmp_path):
    files = dict(SOURCES)
    files["build_tools/get_moduleinfo"] = GET_MODULEINFO + "END {print \"extra\"}\n"
    root = write_root(tmp_path / "ast", files)
    with pytest.raises(InputError) as caught:
        asterisk_root.read(str(root))
    assert caught.value.path.endswith("build_tools/get_moduleinfo")


def test_directory_scan_keeps_working_next_to_a_root(tmp_path):
    root = write_root(tmp_path / "ast")
    result = buildtool("scan", "--format", "json", "--catalog", str(root / "build_tools/menuselect-deps.in"),
                       str(root / "res"))
    data = json.loads(result.stdout)
    assert sorted(data["modules"]) == ["res_base", "res_cpp"]
    assert data["modules"]["res_base"]["displayname"] == ""
    mixed = buildtool("scan", str(root), str(root / "res"))
    assert mixed.returncode == 2 and b"scan it alone" in mixed.stderr


def test_root_recognised_by_its_marker(tmp_path):
    assert not asterisk_root.is_root(str(tmp_path))
    write_root(tmp_path)
    assert asterisk_root.is_root(str(tmp_path))


# ------------------------------------------------------------------ make's expansion functions


def test_expansion_functions(tmp_path):
    (tmp_path / "b.c").write_text("")
    (tmp_path / "a.c").write_text("")
    mk = makefile.Makefile(path=str(tmp_path / "Makefile"), directory=str(tmp_path))
    mk.variables["L"] = makefile.Var("x.c y.cc  z.c", False)
    mk.variables["R"] = makefile.Var("$(L:.c=.o)", True)
    ex = makefile.Expander(mk)
    cases = {
        "$(wildcard *.c)": "a.c b.c",
        "$(wildcard b.c missing.c)": "b.c",
        "$(R)": "x.o y.cc z.o",
        "$(subst .c,.o,$(L))": "x.o y.oc  z.o",
        "$(patsubst %.c,%,$(L))": "x y.cc z",
        "$(sort z a a b)": "a b z",
        "$(addprefix d/,$(L))": "d/x.c d/y.cc d/z.c",
        "$(filter-out y.cc,$(L))": "x.c z.c",
        "$(foreach w,1 2,<$(w)>)": "<1> <2>",
        "$(if $(findstring y,$(L)),yes,no)": "yes",
        "$$x": "$x",
    }
    for text, expected in cases.items():
        assert ex.expand(text, "Makefile", 1) == expected, text
    with pytest.raises(InputError):
        ex.expand("$(abspath x)", "Makefile", 3)
    mk.variables["LOOP"] = makefile.Var("a $(LOOP)", True)
    mk.variables["F"] = makefile.Var("$(call F,$(1))", True)
    for text, message in (("$(LOOP)", "references itself"), ("$(call F,x)", "nests more than")):
        with pytest.raises(InputError) as caught:
            ex.expand(text, "Makefile", 4)
        assert message in caught.value.message and caught.value.line == 4


# ------------------------------------------------------------------ awk, against the real awk


@pytest.mark.skipif(not shutil.which("awk"), reason="awk is needed to compare with")
def test_extractors_match_real_awk(tmp_path):
    rng = random.Random(8)
    pieces = ["/*** MODULEINFO", "/***  MODULEINFO x", "***/", " ***/ tail", "<support_level>core</support_level>",
              "\t<depend>a</depend>", "/*** MAKEOPTS", "plain text", "", "x /*** MODULEINFO ***/", "\r"]
    programs = {"get_moduleinfo": GET_MODULEINFO, "get_makeopts": GET_MAKEOPTS}
    for name, text in programs.items():
        (tmp_path / name).write_text(text)
    for case in range(150):
        files = []
        for index in range(rng.randint(1, 3)):
            lines = [rng.choice(pieces) for _ in range(rng.randint(0, 12))]
            body = "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")
            path = tmp_path / f"c{case}_{index}.c"
            path.write_text(body, encoding="latin-1")
            files.append(path)
        for name, text in programs.items():
            program = awk.parse(text)
            expected = subprocess.run(["awk", "-f", str(tmp_path / name), *map(str, files)],
                                      capture_output=True, check=True).stdout.decode("latin-1")
            got = program.run([p.read_bytes().decode("latin-1") for p in files])
            assert got == expected, (name, [p.read_text() for p in files])


@pytest.mark.skipif(not (shutil.which("grep") and shutil.which("cut")), reason="grep and cut are needed")
def test_display_name_matches_grep_head_cut(tmp_path):
    samples = ['AST_MODULE_INFO(K, F, "Simple");\n',
               'x\nAST_MODULE_INFO_STANDARD(K, "A \\"q\\" b");\nAST_MODULE_INFO(K, F, "second");\n',
               "AST_MODULE_INFO(K, F,\n\t\"next line\");\n",
               "no macro here\n",
               "  AST_MODULE_INFO(K, F, \"no newline\")"]
    for index, text in enumerate(samples):
        path = tmp_path / f"m{index}.c"
        path.write_text(text)
        shell = subprocess.run(f"grep -e AST_MODULE_INFO {path} | head -n 1 | cut -d '\"' -f 2", shell=True,
                               capture_output=True).stdout.decode().rstrip("\n")
        assert awk.display_name(text) == shell, text


def test_member_without_a_name_is_refused(tmp_path):
    files = dict(SOURCES)
    files["res/res.xml"] = SOURCES["res/res.xml"] + "\n<member displayname=\"nameless\">\n</member>\n"
    root = write_root(tmp_path / "ast", files)
    result = buildtool("scan", str(root))
    line = files["res/res.xml"].split("\n").index("<member displayname=\"nameless\">") + 1
    assert result.returncode == 2
    assert f"{root}/res/res.xml:{line}:1: error: <member> has no valid name attribute" in result.stderr.decode()

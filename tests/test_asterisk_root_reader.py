"""Reading an Asterisk root in this process: the catalogue it yields, the sources each module compiles, and every
refusal with its full text and position, on the synthetic root of test_asterisk_makefiles edited one shape at a
time. (That file checks the menuselect-tree bytes against make; this one what else a root read gives.)"""

from __future__ import annotations

import os

import pytest
from lxml import etree

from buildtool.asterisk import root as asterisk_root
from buildtool.errors import InputError
from helpers.asterisk import SOURCES, TOP_MAKEFILE, make_tree, needs_make, write_root


def edited(tmp_path, name: str, old: str, new: str, extra: dict[str, str] | None = None):
    files = dict(SOURCES)
    assert old in files[name], (name, old)
    files[name] = files[name].replace(old, new, 1)
    files.update(extra or {})
    return write_root(tmp_path / "ast", files)


def refusal(root) -> str:
    with pytest.raises(InputError) as caught:
        asterisk_root.read(str(root))
    return str(caught.value).replace(str(root) + "/", "ROOT/")


def line_of(text: str, line: str) -> int:
    return text.split("\n").index(line) + 1


def test_catalogue_members_and_compiled_sources(tmp_path):
    root = write_root(tmp_path / "ast")
    found = asterisk_root.read(str(root))
    assert found.path == str(root) and found.mod_subdirs == ["third-party", "apps", "res"]
    assert set(found.catalog.libraries) == {"zlib", "no_binary_modules"}
    assert found.catalog.builtins == {"cdr", "extconfig"} and found.catalog.platforms == {"win32"}
    assert found.catalog.options == {"TEST_FRAMEWORK", "BASE_FAST", "DEV_ONLY", "res_fancy_option"}
    members = {m.name: (m.kind, m.directory, m.displayname) for m in found.members}
    assert members == {
        "app_multi": ("source", "apps", "Multi-file Application"), "app_plain": ("source", "apps", "Plain Application"),
        "app_vm": ("rule", "apps", "Voicemail (test)"), "res_base": ("source", "res", "Base Resource"),
        "res_cpp": ("source", "res", "C++ Resource"), "res_download": ("xml", "res", "Download a binary module")}
    assert found.compiled_sources() == {name: str(root / path) for name, path in {
        "app_multi": "apps/app_multi.c", "app_plain": "apps/app_plain.c", "app_vm": "apps/app_vm.c",
        "res_base": "res/res_base.c", "res_cpp": "res/res_cpp.cc"}.items()}
    plain = next(m for m in found.members if m.name == "app_plain")
    assert (plain.path, plain.line, plain.data) == (str(root / "apps/app_plain.c"), 0, SOURCES["apps/app_plain.c"].encode())
    vm = next(m for m in found.members if m.name == "app_vm")
    assert (vm.path, vm.line, vm.content_line, vm.content_column) == (str(root / "apps/Makefile"), 11, 13, 1)
    assert vm.inner == '<support_level>core</support_level>\n<use type="module">app_multi</use>\n<depend>zlib</depend>\n'
    xml = next(m for m in found.members if m.name == "res_download")
    assert (xml.path, xml.line, xml.content_line, xml.content_column) == (str(root / "res/res.xml"), 1, 1, 68)
    assert xml.inner.startswith("\n\t<support_level>external</support_level>\n")
    assert found.tree_bytes() == found.tree_text.encode("latin-1")


def test_core_builtins_are_main_sources_declaring_a_module(tmp_path):
    files = dict(SOURCES)
    files["main/a_plain.c"] = "int x;\n"
    files["main/named.c"] = '#include "x.h"\n  #  define AST_MODULE "renamed"\n\tAST_MODULE_INFO_STANDARD (K, "x");\n'
    files["main/indented_call.c"] = "static int x = AST_MODULE_INFO(K);\n"   # not at a line's start: not a module
    files["main/mentions.c"] = "/* AST_MODULE_INFO */\n"
    files["main/notes.txt"] = "AST_MODULE_INFO(K, F, \"text\",\n"
    root = write_root(tmp_path / "ast", files)
    assert asterisk_root.builtins(str(root)) == {"cdr", "extconfig", "renamed"}
    assert asterisk_root.builtins(str(tmp_path / "nothing")) == set()


# Every step shape of the top recipe: a first write that appends, a reset, make's else-ifeq chain, shell ifs
# around an echo, a reset and a cat, a progress echo, $(MAKE) with a flag, a reassigned MOD_SUBDIRS holding a
# $(wildcard), a rule after the recipe; configure's makeopts with a recursive variable.
STEPS = (TOP_MAKEFILE
         .replace("MOD_SUBDIRS:=third-party apps res", "MOD_SUBDIRS:=bogus\nMOD_SUBDIRS:=third-party $(wildcard ap*) res")
         .replace('\t@echo "<?xml version=\\"1.0\\"?>" > $@\n',
                  '\t@echo "discarded" >> $@\n\t@echo "<?xml version=\\"1.0\\"?>" > $@\n')
         .replace("$(SILENTMAKE) -C $${dir} SUBDIR=$${dir} makeopts", "$(MAKE) --quiet -C $${dir} SUBDIR=$${dir} makeopts")
         .replace('\t@echo "</menu>" >> $@\n', '\t@echo "</menu>" >> $@\n'
                  "ifeq ($(AST_DEVMODE),yes)\n\t@echo \"<!-- dev -->\" >> $@\n"
                  "else ifeq ($(AST_DEVMODE),no)\n\t@echo \"<!-- release -->\" >> $@\n"
                  "else\n\t@echo \"<!-- other -->\" >> $@\nendif\n"
                  '\t@if [ "${AST_DEVMODE}" = "maybe" ]; then echo "<!-- maybe -->" >> $@; fi\n'
                  '\t@if [ "${AST_DEVMODE}" = "maybe" ]; then echo "<!-- reset -->" > $@; fi\n'
                  '\t@if [ "${AST_DEVMODE}" = "maybe" ]; then cat build_tools/cflags.xml >> $@; fi\n'
                  '\t@echo "Done"\n\nother:\n\t@echo other\n'))


@needs_make
@pytest.mark.parametrize("devmode", ["yes", "no", "maybe", "other"])
def test_recipe_steps_are_makes(tmp_path, devmode):
    makeopts = f"AST_DEVMODE=$(DEVMODE_FROM)\nDEVMODE_FROM={devmode}\n"
    expected = make_tree(write_root(tmp_path / "make", {**SOURCES, "Makefile": STEPS}, makeopts=makeopts))
    root = write_root(tmp_path / "ast", {**SOURCES, "Makefile": STEPS}, makeopts=makeopts)
    assert asterisk_root.read(str(root)).tree_bytes() == expected
    assert (b"<!-- reset -->" in expected) == (devmode == "maybe") and b"discarded" not in expected
    assert (b"<!-- other -->" in expected) == (devmode == "other")


def test_crlf_top_makefile_reads_as_lf(tmp_path):
    lf = asterisk_root.read(str(write_root(tmp_path / "lf")))
    crlf = asterisk_root.read(str(write_root(tmp_path / "crlf", {**SOURCES, "Makefile": TOP_MAKEFILE.replace("\n", "\r\n")})))
    assert crlf.tree_text == lf.tree_text and crlf.mod_subdirs == lf.mod_subdirs


@pytest.mark.parametrize("name, old, new, error", [
    ("Makefile", "MOD_SUBDIRS:=third-party apps res $(LOCAL_MOD_SUBDIRS)\n", "",
     "ROOT/Makefile:1:1: error: no MOD_SUBDIRS assignment: not a Makefile of an Asterisk root"),
    ("Makefile", "menuselect-tree: ", "menuselect-trees: ",
     "ROOT/Makefile:1:1: error: no 'menuselect-tree:' rule: not a Makefile of an Asterisk root"),
    ("Makefile", '\t@echo "</menu>" >> $@\n', 'ifeq (a,b)\n\t@echo "</menu>" >> $@\n',
     "ROOT/Makefile:9:1: error: a conditional in the menuselect-tree recipe is not closed"),
    ("Makefile", '\t@echo "</menu>" >> $@\n', 'ifeq (a,b)\nelse junk\nendif\n\t@echo "</menu>" >> $@\n',
     "ROOT/Makefile:21:1: error: malformed else: 'else junk'"),
    ("Makefile", '\t@echo "</menu>" >> $@\n', '\t@echo "</menu>" >> $@\n\t@if [ "a" = "a" ]; then echo x; fi\n',
     "ROOT/Makefile:21:1: error: menuselect-tree recipe: nothing understood inside: "
     "'@if [ \"a\" = \"a\" ]; then echo x; fi'"),
    ("Makefile", '\t@echo "</menu>" >> $@\n', '\t@echo "</menu>" >> other.xml\n',
     "ROOT/Makefile:20:1: error: menuselect-tree recipe writes another file: '@echo \"</menu>\" >> other.xml'"),
    ("Makefile", '\t@cat build_tools/cflags.xml >> $@\n', '\t@cat build_tools/cflags.xml x.xml >> $@\n',
     "ROOT/Makefile:15:1: error: menuselect-tree recipe line not understood: "
     "'@cat build_tools/cflags.xml x.xml >> $@'"),
    ("Makefile", '\t@echo >> $@\n', '\t@echo a | cat >> $@\n',
     "ROOT/Makefile:12:1: error: menuselect-tree recipe line not understood: '@echo a | cat >> $@' "
     "(recipe shape not understood (shell operator '|'): 'echo a | cat >> menuselect-tree')"),
    ("Makefile", "MOD_SUBDIRS:=third-party apps res", "MOD_SUBDIRS:=third-party apps res funcs",
     "ROOT/Makefile:14:1: error: module directory 'funcs' has no Makefile"),
])
def test_top_makefile_refusals(tmp_path, name, old, new, error):
    assert refusal(edited(tmp_path, name, old, new)) == error


MENU_END = '\t@echo "</menu>" >> $@\n'
LONG = "x" * 80


@pytest.mark.parametrize("new, error", [
    (MENU_END + "ifeq a b\nendif\n", "ROOT/Makefile:21:1: error: malformed ifeq: 'a b'"),
    (MENU_END + "ifeq (a,b)\nelse ifeq a b\nendif\n", "ROOT/Makefile:22:1: error: malformed ifeq: 'a b'"),
    (MENU_END + "ifeq (a,b)\nelse " + LONG + "\nendif\n", f"ROOT/Makefile:22:1: error: malformed else: 'else {LONG[:35]}'"),
    (MENU_END + "ifeq (a,a)\nother:\n\t@echo\nendif\n",
     "ROOT/Makefile:9:1: error: a conditional in the menuselect-tree recipe is not closed"),
    (MENU_END + "\t@echo -n x >> $@\n", "ROOT/Makefile:21:1: error: echo -n is not understood (it differs between shells)"),
    (MENU_END + "\t@echo -n x > $@\n", "ROOT/Makefile:21:1: error: echo -n is not understood (it differs between shells)"),
    (MENU_END + '\t@if [ "a" = "a" ]; then echo -n x >> $@; fi\n',
     "ROOT/Makefile:21:1: error: echo -n is not understood (it differs between shells)"),
    (MENU_END + "\t@echo $(abspath x) >> $@\n", "ROOT/Makefile:21:1: error: make function 'abspath' is not supported here"),
    (MENU_END + "\t+@for dir in $(abspath x); do $(SILENTMAKE) -C $${dir} SUBDIR=$${dir} moduleinfo >> $@; done\n",
     "ROOT/Makefile:21:1: error: make function 'abspath' is not supported here"),
    (MENU_END + f"\t@echo {LONG} | cat >> $@\n",
     f"ROOT/Makefile:21:1: error: menuselect-tree recipe line not understood: '@echo {LONG[:74]}' "
     f"(recipe shape not understood (shell operator '|'): 'echo {LONG[:75]}')"),
    (MENU_END + f"\t@echo {LONG} >> other.xml\n",
     f"ROOT/Makefile:21:1: error: menuselect-tree recipe writes another file: '@echo {LONG[:74]}'"),
    (MENU_END + f"\t@if [ \"a\" = \"a\" ]; then echo {LONG}; fi\n",
     f"ROOT/Makefile:21:1: error: menuselect-tree recipe: nothing understood inside: '@if [ \"a\" = \"a\" ]; then echo "
     f"{LONG[:51]}'"),
    (MENU_END + f"\t@cat a.xml {LONG} >> $@\n",
     f"ROOT/Makefile:21:1: error: menuselect-tree recipe line not understood: '@cat a.xml {LONG[:69]}'"),
])
def test_recipe_line_refusals(tmp_path, new, error):
    assert refusal(edited(tmp_path, "Makefile", MENU_END, new)) == error


def test_unexpandable_mod_subdirs_and_unreadable_catalogue(tmp_path):
    root = edited(tmp_path / "a", "Makefile", "MOD_SUBDIRS:=third-party apps res", "MOD_SUBDIRS:=$(abspath apps)")
    assert refusal(root) == "ROOT/Makefile:7:1: error: make function 'abspath' is not supported here"
    root = edited(tmp_path / "b", "build_tools/menuselect-deps.in", "ZLIB=@PBX_ZLIB@\n", "ZLIB=@PBX_ZLIB@\njunk\n")
    assert refusal(root) == "ROOT/build_tools/menuselect-deps.in:2:1: error: expected KEY=VALUE, got 'junk'"




@pytest.mark.parametrize("name, old, new, error", [
    ("Makefile.moddir_rules", ".makeopts:: ", ".makeoptions:: ",
     "ROOT/Makefile.moddir_rules:1:1: error: rule '.makeopts::' not found; this Makefile.moddir_rules is not understood"),
    ("Makefile.moddir_rules", "$(sort $(ALL_C_MODS) $(ALL_CC_MODS))", "$(ALL_C_MODS) $(ALL_CC_MODS)",
     "ROOT/Makefile.moddir_rules:1:1: error: the '.moduleinfo::' prerequisites are not the ones understood "
     "(sorted ALL_C_MODS ALL_CC_MODS, then the category's .xml)"),
    ("Makefile.moddir_rules", "$(addprefix .,$(ALL_C_MODS) $(ALL_CC_MODS))", "$(addprefix .,$(ALL_C_MODS))",
     "ROOT/Makefile.moddir_rules:1:1: error: the '.makeopts::' prerequisites are not the ones understood"),
    ("Makefile.moddir_rules", "$(wildcard $(p)_*.c)", "$(wildcard $(p)-*.c)",
     "ROOT/Makefile.moddir_rules:1:1: error: the MODULE_PREFIX rule (ALL_C_MODS from PREFIX_*.c) is not the one "
     "understood"),
    ("Makefile.moddir_rules", "$(shell $(GREP) -e AST_MODULE_INFO $< | head -n 1 | cut -d '\"' -f 2)",
     "$(shell sed -n 1p $<)",
     "ROOT/Makefile.moddir_rules:20:1: error: $(shell sed -n 1p app_multi.c) is not understood"),
    ("Makefile.moddir_rules", "\techo \"</member>\" >> $@\n\n.%.moduleinfo: %.cc", "\techo \"</member>\"\n\n.%.moduleinfo: %.cc",
     "ROOT/Makefile.moddir_rules:22:1: error: recipe does not write its target '.app_multi.moduleinfo': "
     "'echo \"</member>\"'"),
    ("Makefile.moddir_rules", "\t$(AWK) -f $(ASTTOPDIR)/build_tools/get_moduleinfo $^ >> $@\n\techo \"</member>\" >> $@\n\n.%.moduleinfo: %.cc",
     "\tsed -n 1p $^ >> $@\n\techo \"</member>\" >> $@\n\n.%.moduleinfo: %.cc",
     "ROOT/Makefile.moddir_rules:21:1: error: recipe shape not understood: 'sed -n 1p $^ >> $@'"),
    ("Makefile.moddir_rules", "build_tools/get_makeopts $< > $@\n\n.%.makeopts: %.cc",
     "build_tools/get_nothing $< > $@\n\n.%.makeopts: %.cc",
     "ROOT/Makefile.moddir_rules:38:1: error: awk script 'ROOT/build_tools/get_nothing' does not exist"),
    ("apps/Makefile", "include $(ASTTOPDIR)/Makefile.moddir_rules\n", "include $(ASTTOPDIR)/Makefile.moddir_rules\nALL_C_MODS+=app_gone\n",
     "ROOT/apps/Makefile:1:1: error: module 'app_gone' has no app_gone.c or app_gone.cc in apps/ "
     "(make: no rule to make '.app_gone.moduleinfo')"),
    ("apps/Makefile", '\t@echo "<member name=\\"app_vm\\" ', '\t@echo "<membr name=\\"app_vm\\" ',
     "ROOT/apps/Makefile:11:1: error: a member's text does not start with <member ...>: "
     "'<membr name=\"app_vm\" displayname=\"Voicemail (test)\" remove_o'"),
    ("apps/Makefile", '\t@echo "<member name=\\"app_vm\\" ', '\t@echo "<member name=\\"app vm\\" ',
     "ROOT/apps/Makefile:11:1: error: <member> has no valid name attribute (name='app vm')"),
    ("res/res.xml", '<member name="res_download" displayname="Download a binary module">',
     '<member name="res_download" displayname="Download & more">',
     "ROOT/res/res.xml:1:1: error: <member> start tag is not well-formed XML: xmlParseEntityRef: no name"),
    ("res/res.xml", "\t</member>\n", "\t<member>\n",
     "ROOT/res/res.xml:7:1: error: <member> is not closed"),
])
def test_module_directory_refusals(tmp_path, name, old, new, error):
    root = edited(tmp_path, name, old, new)
    assert refusal(root) == error


@pytest.mark.parametrize("attribute", ["displayname='Download\ta &amp; binary&#10;module'",
                                       'displayname="Download\ta\r\nbinary\rmodule\n"',
                                       'displayname="plain" displayname="twice"'])
def test_member_attributes_are_what_an_xml_parser_reads(tmp_path, attribute):
    root = edited(tmp_path, "res/res.xml", 'displayname="Download a binary module"', attribute)
    element = f'<member name="res_download" {attribute}></member>'.encode()
    try:
        expected = etree.fromstring(element).get("displayname")
    except etree.XMLSyntaxError as exc:  # a repeated attribute: not well-formed, refused as the parser says
        assert refusal(root) == ("ROOT/res/res.xml:1:1: error: <member> start tag is not well-formed XML: "
                                 + exc.msg.split(", line ")[0])  # the position is the member's, not libxml2's
        return
    found = asterisk_root.read(str(root))
    assert next(m for m in found.members if m.name == "res_download").displayname == expected


def test_unreadable_source_is_named(tmp_path):
    root = write_root(tmp_path / "ast")
    os.remove(root / "Makefile")
    os.mkdir(root / "Makefile")
    assert refusal(root) == "ROOT/Makefile:0:0: error: cannot read: Is a directory"


def test_unknown_awk_program_text(tmp_path):
    root = edited(tmp_path, "build_tools/get_moduleinfo", "/.*/ {if (printit) print}", "/.*/ {print}")
    assert refusal(root) == ("ROOT/build_tools/get_moduleinfo:1:1: error: this awk program is not of the shape "
                             "understood (see buildtool/asterisk/awk.py); not evaluated")


XML = """
<!-- a category file may start with a blank line and a comment -->
  <member name="res_Mixed.Case+1" displayname="Indented">
\t<depend>res_base</depend>
  </member>
<member name="opt_one">
\t<support_level>option</support_level>
</member>
<member name="opt_two"><support_level> option </support_level></member>
<member name="res_nodisplay">
\t<support_level>core</support_level>
</member>
"""


def test_xml_members_positions_options_and_defaults(tmp_path):
    root = write_root(tmp_path / "ast", {**SOURCES, "res/res.xml": XML})
    found = asterisk_root.read(str(root))
    xml = {m.name: m for m in found.members if m.kind == "xml"}
    assert sorted(xml) == ["res_Mixed.Case+1", "res_nodisplay"]   # options are build options, not modules
    mixed = xml["res_Mixed.Case+1"]
    assert (mixed.line, mixed.content_line, mixed.content_column, mixed.displayname) == (3, 3, 58, "Indented")
    assert mixed.inner == "\n\t<depend>res_base</depend>\n  "
    nodisplay = xml["res_nodisplay"]
    assert (nodisplay.line, nodisplay.content_line, nodisplay.content_column, nodisplay.displayname) == (10, 10, 30, "")
    assert {"opt_one", "opt_two"} <= found.catalog.options


def test_xml_member_on_the_second_line(tmp_path):
    root = write_root(tmp_path, {**SOURCES, "res/res.xml": '\n<member name="res_y">x</member>\n'})
    [member] = [m for m in asterisk_root.read(str(root)).members if m.kind == "xml"]
    assert (member.line, member.content_line, member.content_column, member.inner) == (2, 2, 22, "x")


def test_xml_member_refusals_name_their_line(tmp_path):
    root = write_root(tmp_path / "a", {**SOURCES, "res/res.xml": "\n\n<member name=\"bad name\">\n</member>\n"})
    assert refusal(root) == "ROOT/res/res.xml:3:1: error: <member> has no valid name attribute (name='bad name')"
    root = write_root(tmp_path / "b", {**SOURCES, "res/res.xml": "\n<member name=\"res_x\">\n"})
    assert refusal(root) == "ROOT/res/res.xml:2:1: error: <member> is not closed"
    root = write_root(tmp_path / "c", {**SOURCES, "res/res.xml": "<member displayname=\"nameless\">\n</member>\n"})
    assert refusal(root) == "ROOT/res/res.xml:1:1: error: <member> has no valid name attribute (name='')"


def test_rule_member_without_inner_lines_and_with_an_indented_member_line(tmp_path):
    bare = SOURCES["apps/Makefile"].replace(
        '\techo "<support_level>core</support_level>"  >> $@\n\techo "<use type=\\"module\\">app_multi</use>" >> $@\n'
        '\techo "<depend>zlib</depend>" >> $@\n', "")
    assert bare != SOURCES["apps/Makefile"]
    found = asterisk_root.read(str(write_root(tmp_path / "a", {**SOURCES, "apps/Makefile": bare})))
    vm = next(m for m in found.members if m.name == "app_vm")
    assert (vm.kind, vm.inner, vm.line, vm.content_line) == ("rule", "", 11, 11)
    indented = SOURCES["apps/Makefile"].replace('\t@echo "<member name=', '\t@echo "   <member name=')
    found = asterisk_root.read(str(write_root(tmp_path / "b", {**SOURCES, "apps/Makefile": indented})))
    vm = next(m for m in found.members if m.name == "app_vm")
    assert vm.content_line == 13 and vm.inner.startswith("<support_level>core</support_level>\n")


def test_rule_member_inner_lines_keep_their_makefile_lines(tmp_path):
    """An echo continued over two Makefile lines: the next inner line stays at its own line number."""
    spread = SOURCES["apps/Makefile"].replace(
        '\techo "<use type=\\"module\\">app_multi</use>" >> $@\n',
        '\techo "<use type=\\"module\\">app_multi</use>" \\\n\t\t>> $@\n').replace(
        ' displayname=\\"$(shell $(GREP) -e AST_MODULE_INFO $< | head -n 1 | cut -d \'"\' -f 2)\\"', "")
    found = asterisk_root.read(str(write_root(tmp_path, {**SOURCES, "apps/Makefile": spread})))
    vm = next(m for m in found.members if m.name == "app_vm")
    assert vm.content_line == 13 and vm.displayname == ""
    assert vm.inner == ('<support_level>core</support_level>\n<use type="module">app_multi</use>\n\n'
                        "<depend>zlib</depend>\n")


VM_FIRST = '\t@echo "<member name=\\"app_vm\\" displayname=\\"$(shell $(GREP) -e AST_MODULE_INFO $< | head -n 1 | cut -d \'"\' -f 2)\\" remove_on_change=\\"$(SUBDIR)/$*.o $(SUBDIR)/$*.so\\">" > $@\n'
VM_SUPPORT = '\techo "<support_level>core</support_level>"  >> $@\n'


@needs_make
def test_member_recipe_that_first_appends_is_makes(tmp_path):
    files = {**SOURCES, "apps/Makefile": SOURCES["apps/Makefile"].replace(VM_FIRST, VM_FIRST.replace(" > $@", " >> $@"))}
    assert files["apps/Makefile"] != SOURCES["apps/Makefile"]
    expected = make_tree(write_root(tmp_path / "make", files))
    assert asterisk_root.read(str(write_root(tmp_path / "ast", files))).tree_bytes() == expected


@pytest.mark.parametrize("line, error", [
    ('\techo "<support_level>core</support_level>" >> other.txt\n',
     "ROOT/apps/Makefile:13:1: error: recipe does not write its target '.app_vm.moduleinfo': "
     "'echo \"<support_level>core</support_level>\" >> other.txt'"),
    ("\techo " + "x" * 90 + "\n",
     f"ROOT/apps/Makefile:13:1: error: recipe does not write its target '.app_vm.moduleinfo': 'echo {'x' * 75}'"),
    ('\techo -n "<support_level>core</support_level>" >> $@\n',
     "ROOT/apps/Makefile:13:1: error: echo -n is not understood (it differs between shells)"),
    ("\tsed -f x.sed $^ >> $@\n", "ROOT/apps/Makefile:13:1: error: recipe shape not understood: 'sed -f x.sed $^ >> $@'"),
    ("\tawk '{print}' $^ >> $@\n", "ROOT/apps/Makefile:13:1: error: recipe shape not understood: \"awk '{print}' $^ >> $@\""),
])
def test_member_recipe_refusals(tmp_path, line, error):
    assert refusal(edited(tmp_path, "apps/Makefile", VM_SUPPORT, line)) == error


def test_member_start_tags_in_echoes(tmp_path):
    entity = VM_FIRST.replace('displayname=\\"$(shell', 'class=\\"a &amp; b\\" displayname=\\"$(shell')
    found = asterisk_root.read(str(edited(tmp_path / "a", "apps/Makefile", VM_FIRST, entity)))
    assert next(m for m in found.members if m.name == "app_vm").displayname == "Voicemail (test)"
    broken = VM_FIRST.replace('displayname=\\"$(shell', 'class=\\"a & b\\" displayname=\\"$(shell')
    assert refusal(edited(tmp_path / "b", "apps/Makefile", VM_FIRST, broken)) == (
        "ROOT/apps/Makefile:11:1: error: <member> start tag is not well-formed XML: xmlParseEntityRef: no name")
    pattern = edited(tmp_path / "c", "Makefile.moddir_rules", '.%.moduleinfo: %.c\n\t@echo "<member name=',
                     '.%.moduleinfo: %.c\n\t@echo "<membr name=')
    assert refusal(pattern).startswith("ROOT/Makefile.moddir_rules:1:1: error: a member's text does not start with "
                                       "<member ...>: '<membr name=\"app_multi\"")
    long_shell = edited(tmp_path / "d", "Makefile.moddir_rules", "$(shell $(GREP) -e AST_MODULE_INFO $<",
                        "$(shell sed -n " + "1" * 70 + "p $<")
    assert refusal(long_shell) == f"ROOT/Makefile.moddir_rules:20:1: error: $(shell sed -n {'1' * 53}) is not understood"

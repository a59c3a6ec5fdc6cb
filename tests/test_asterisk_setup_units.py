"""asterisk-setup's parts on small inputs written here (no Asterisk snapshot needed).

The real snapshot is exercised end to end in test_asterisk_build.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from buildtool import handwritten
from buildtool.asterisk import moduleh, setup
from buildtool.catalog import Catalog
from buildtool.errors import InputError
from buildtool.migrate import migrate_source
from buildtool.scan import scan
from helpers.asterisk import MODULE_H



def test_recognises_the_designated_initializer_shape():
    header = moduleh.parse("module.h", MODULE_H, "22.10.1")
    assert header.parameters == ("keystr", "flags_to_set", "desc", "fields...")
    assert header.line == MODULE_H.splitlines().index(
        "#define AST_MODULE_INFO(keystr, flags_to_set, desc, fields...)\t\\") + 1
    assert header.body.startswith("static struct ast_module_info __mod_info = { .name = AST_MODULE,")
    assert "ast_module_register(&__mod_info);" in header.body


@pytest.mark.parametrize("mutation, complaint", [
    # Asterisk 13: no .requires in the struct.
    (lambda t: t.replace("\tconst char *requires;\n", ""), "struct ast_module_info has no requires"),
    (lambda t: t.replace("fields...)\t\\", "rest...)\t\\"), "expected one plain-C"),
    (lambda t: t.replace("\t\tfields\t\t\t\t\t\t\\\n", "\t\tfields, .x = 1\t\\\n"), "not designated fields followed by 'fields'"),
    (lambda t: t.replace("static struct ast_module_info \t\t\t\t\\\n\t\t__mod_info", "static struct other"),
     "does not start with"),
    (lambda t: t.replace("struct ast_module_info {", "struct ast_module_infos {"), "no 'struct ast_module_info {'"),
])
def test_refuses_any_other_shape_naming_the_line(mutation, complaint):
    with pytest.raises(InputError) as caught:
        moduleh.parse("include/asterisk/module.h", mutation(MODULE_H))
    assert complaint in caught.value.message
    assert caught.value.path == "include/asterisk/module.h" and caught.value.line >= 1


def _compile(tmp_path: Path, source: str, name: str = "res_demo", moduleinfo_data: dict | None = None) -> Path:
    """Compile ``source`` as Asterisk would, with the forced include setup writes; return the object."""
    include = tmp_path / "include" / "asterisk"
    include.mkdir(parents=True, exist_ok=True)
    (tmp_path / "include" / "asterisk.h").write_text("#define ASTERISK_GPL_KEY \"key\"\n"
                                                    "#define AST_MODFLAG_LOAD_ORDER 2\n#include <stddef.h>\n")
    (include / "module.h").write_text("#ifndef MODULE_H\n#define MODULE_H\n" + MODULE_H + "#endif\n")
    src = tmp_path / "res" / f"{name}.c"
    src.parent.mkdir(exist_ok=True)
    src.write_text(source)
    for other in ("res_base", "res_opt"):
        (src.parent / f"{other}.c").write_text("/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\n")
    tree = scan([str(src.parent)], Catalog(builtins={"http"}))
    assert not [d for d in tree.diagnostics if d.severity.value == "error"], tree.diagnostics
    module = tree.modules[name]
    header = moduleh.parse(str(include / "module.h"), (include / "module.h").read_text(), "test")
    out = tmp_path / "modinfo"
    out.mkdir(exist_ok=True)
    (out / setup.WRAPPER).write_text(setup.wrapper_text(header))
    from buildtool.generate import HeaderGenerator
    forced = out / f"{name}.modinfo.h"
    forced.write_text(setup.module_header_text(HeaderGenerator(), module, src.read_bytes()))
    obj = tmp_path / f"{name}.o"
    proc = subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-c", "-o", str(obj), str(src), f"-I{tmp_path / 'include'}",
                           f'-DAST_MODULE="{name}"', "-include", str(forced)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return obj


DEMO = textwrap.dedent("""\
    /*** MODULEINFO
    \t<depend type="module">res_base</depend>
    \t<use type="builtin">http</use>
    \t<use type="module">res_opt</use>
    \t<support_level>extended</support_level>
     ***/
    #include "asterisk.h"
    #include "asterisk/module.h"
    static int load_module(void) { return 0; }
    static int unload_module(void) { return 0; }
    AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Demo",
    \t.load = load_module,
    \t.unload = unload_module,
    %s);
    int demo_requires_is(const char *expected);
    int demo_requires_is(const char *expected) { return __builtin_strcmp(ast_module_info->requires, expected) == 0; }
    """)


def _struct_strings(obj: Path, tmp_path: Path, fields=("requires", "optional_modules", "support_level")) -> dict:
    """Link the object into a program that prints the struct's fields."""
    main = tmp_path / "main.c"
    main.write_text(textwrap.dedent("""\
        #include <stdio.h>
        #include "asterisk/module.h"
        extern const struct ast_module_info *demo_info(void);
        void ast_module_register(const struct ast_module_info *info) {
        \tprintf("requires=%s\\noptional_modules=%s\\nsupport_level=%d\\n", info->requires, info->optional_modules,
        \t       (int)info->support_level);
        }
        int main(void) { return 0; }
        """))
    exe = tmp_path / "demo"
    subprocess.run(["gcc", "-o", str(exe), str(main), str(obj), f"-I{tmp_path / 'include'}"], check=True,
                   capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_injected_fields_fill_the_struct_and_a_hand_written_one_wins(tmp_path):
    plain = _compile(tmp_path, DEMO % "")
    assert _struct_strings(plain, tmp_path) == {"requires": "http,res_base", "optional_modules": "res_opt",
                                                "support_level": "2"}
    handwritten_requires = _compile(tmp_path, DEMO % '\t.requires = "res_other",\n')
    assert _struct_strings(handwritten_requires, tmp_path)["requires"] == "res_other"


def test_record_carries_the_asterisk_struct_marker(tmp_path):
    from buildtool import elfinfo

    obj = _compile(tmp_path, DEMO % "")
    so = tmp_path / "res_demo.so"
    subprocess.run(["gcc", "-shared", "-o", str(so), str(obj)], check=True)
    record = elfinfo.read_record(str(so))
    assert record.fields["struct"] == "asterisk"
    assert record.list("requires") == ("res_base",) and record.list("builtins") == ("http",)
    assert record.fields["description"] == "Demo"


def test_preamble_directives_are_replayed_before_asterisk_h():
    source = "/* c */\n#define ASTMM_LIBC ASTMM_IGNORE\n// x\n#define LONG a \\\n  b\n#include \"asterisk.h\"\n#define LATE 1\n"
    assert setup.preamble(source) == ["#define ASTMM_LIBC ASTMM_IGNORE", "#define LONG a \\\n  b"]
    assert setup.preamble("#include \"asterisk.h\"\n#define X 1\n") == []


def test_hook_is_appended_once_and_removed(tmp_path):
    makeopts = tmp_path / "makeopts"
    makeopts.write_text("CC=gcc\n")
    setup.hook_makeopts(tmp_path)
    first = makeopts.read_text()
    setup.hook_makeopts(tmp_path)
    assert makeopts.read_text() == first
    assert first.count("-include $(ASTTOPDIR)/.buildtool/inject.mk") == 1
    setup.remove(str(tmp_path))
    assert makeopts.read_text() == "CC=gcc\n"


def test_hook_without_configure_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="run ./configure first"):
        setup.hook_makeopts(tmp_path)


def test_inject_mk_forces_only_each_modules_own_source(tmp_path):
    from buildtool.model import Module

    modules = [Module("app_a", str(tmp_path / "apps" / "app_a.c"), 1), Module("res_b", str(tmp_path / "res" / "res_b.c"), 1)]
    text = setup.hook_text(tmp_path, {m.name: [m.source] for m in modules}, ["python3", "-m", "buildtool"])
    assert "ifeq ($(abspath $(CURDIR)),$(abspath $(ASTTOPDIR))/apps)" in text
    assert re.search(r"^app_a\.o: _ASTCFLAGS\+=-include \$\(BUILDTOOL_STATE\)/modinfo/app_a\.modinfo\.h$", text, re.M)
    assert text.count("-include") == 2
    assert ".DEFAULT_GOAL := $(_buildtool_default_goal)" in text and "ifndef BUILDTOOL_INJECT_MK" in text


def test_make_runs_the_hook_without_changing_the_default_goal(tmp_path):
    """GNU make itself: the included rules neither become the goal nor warn when read twice."""

    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "app_a.c").write_text("int x;\n")
    state = tmp_path / ".buildtool"
    (state / "modinfo").mkdir(parents=True)
    (state / "modinfo" / "app_a.modinfo.h").write_text("/* h */\n")
    (state / "inject.mk").write_text(setup.hook_text(tmp_path, {"app_a": [str(apps / "app_a.c")]}, ["true"]))
    (apps / "Makefile").write_text("-include $(ASTTOPDIR)/.buildtool/inject.mk\n-include $(ASTTOPDIR)/.buildtool/inject.mk\n"
                                   "all:\n\t@echo goal=all flags=$(_ASTCFLAGS)\n"
                                   "app_a.o: app_a.c\n\t@echo compile $(_ASTCFLAGS)\n")
    proc = subprocess.run(["make", "-C", str(apps), f"ASTTOPDIR={tmp_path}", "--no-print-directory"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "goal=all" in proc.stdout and "warning" not in proc.stderr, proc.stderr
    proc = subprocess.run(["make", "-C", str(apps), f"ASTTOPDIR={tmp_path}", "--no-print-directory", "app_a.o"],
                          capture_output=True, text=True)
    assert proc.stdout.strip() == f"compile -include {tmp_path}/.buildtool/modinfo/app_a.modinfo.h"


CONDITIONAL = textwrap.dedent("""\
    AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Prom",
    \t.load = load_module,
    #ifdef HAVE_PJPROJECT
    \t/* explicit calls into res_pjsip */
    \t.requires = "res_pjsip",
    #endif
    #if defined(X) && Y
    \t.optional_modules = "res_a",
    #else
    \t.enhances = "res_b",
    #endif
    \t.support_level = AST_MODULE_SUPPORT_CORE,
    );
    """)


def test_fields_under_preprocessor_conditionals_keep_their_condition():
    found = handwritten.find(CONDITIONAL)
    assert found.fields["requires"].condition == "#ifdef HAVE_PJPROJECT"
    assert found.fields["requires"].value == "res_pjsip"
    assert found.fields["optional_modules"].condition == "#if defined(X) && Y"
    assert found.fields["enhances"].condition == "#else (after #if defined(X) && Y)"
    assert found.fields["support_level"].condition is None


def test_migrate_keeps_a_conditional_field_and_writes_builtins_menuselect_can_read(tmp_path):
    source = tmp_path / "res_p.c"
    source.write_text("/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\n"
                      "AST_MODULE_INFO(k, 0, \"P\",\n\t.requires = \"http,res_q\",\n#ifdef HAVE_PJPROJECT\n"
                      "\t.optional_modules = \"res_pjsip\",\n#endif\n);\n")
    (tmp_path / "res_q.c").write_text("/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\n")
    tree = scan([str(tmp_path)], Catalog(builtins={"http"}))
    result = migrate_source(tree.modules["res_p"], source.read_bytes(), tree, Catalog(builtins={"http"}), menuselect=True)
    after = result.after.decode()
    assert '<use type="builtin">http</use>' in after and '<depend type="module">res_q</depend>' in after
    assert '.optional_modules = "res_pjsip"' in after and ".requires" not in after
    assert [d.code for d in result.diagnostics] == ["migrate-conditional"]
    source.write_bytes(result.after)
    rescanned = scan([str(tmp_path)], Catalog(builtins={"http"})).modules["res_p"]
    assert rescanned.builtins == ("http",) and rescanned.requires == ("res_q",)


def test_setup_refuses_a_directory_that_is_not_asterisk(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "buildtool", "asterisk-setup", str(tmp_path)], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert "not an Asterisk source tree" in proc.stderr and "Traceback" not in proc.stderr


def test_under_injection_only_written_lists_are_compared(tmp_path):
    from buildtool.check import handwritten_drift

    (tmp_path / "res_q.c").write_text("/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\n")
    (tmp_path / "res_p.c").write_text("/*** MODULEINFO\n\t<depend type=\"module\">res_q</depend>\n ***/\n"
                                      "AST_MODULE_INFO(k, 0, \"P\",\n\t.optional_modules = \"res_q\",\n);\n")
    tree = scan([str(tmp_path)], Catalog())
    text = (tmp_path / "res_p.c").read_text()
    plain = handwritten_drift.check_module(tree.modules["res_p"], text, tree, Catalog())
    injected = handwritten_drift.check_module(tree.modules["res_p"], text, tree, Catalog(), injected=True)
    assert sorted(d.data["field"] for d in plain) == ["optional_modules", "requires"]
    assert [d.data["field"] for d in injected] == ["optional_modules"]

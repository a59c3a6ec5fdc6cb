"""buildtool migrate: the diff, --write, idempotence, bytes kept, and the metadata a build then injects."""

from __future__ import annotations

import shlex
import shutil
import subprocess

from buildtool.elfinfo import read_record
from helpers.check import CC, FIXTURES, INCLUDE, by_code, check_json, needs_cc, run_cli

HW = FIXTURES / "handwritten"


def _copy(tmp_path):
    dest = tmp_path / "src"
    shutil.copytree(HW, dest)
    catalog = dest / "catalog.toml"
    return dest, catalog


def test_diff_then_write_then_nothing_left(tmp_path):
    src, catalog = _copy(tmp_path)
    before = {p.name: p.read_bytes() for p in src.glob("*.c")}
    shown = run_cli("migrate", "--catalog", catalog, src)
    assert shown.returncode == 0, shown.stderr
    assert f"--- a/{src}/res_multiline.c" in shown.stdout
    assert '+\t<depend type="module">res_other</depend>' in shown.stdout
    assert '-\t.requires = "res_base,"' in shown.stdout
    assert {p.name: p.read_bytes() for p in src.glob("*.c")} == before  # showing changes nothing
    assert run_cli("migrate", "--check", "--catalog", catalog, src).returncode == 1
    assert run_cli("migrate", "--write", "--catalog", catalog, src).returncode == 0
    assert run_cli("migrate", "--check", "--catalog", catalog, src).returncode == 0
    second = run_cli("migrate", "--write", "--catalog", catalog, src)
    assert second.returncode == 0 and second.stdout == "" and "migrated" not in second.stderr
    # Untouched: sources without hand-written lists.
    for name in ("res_base.c", "res_other.c", "res_no_list.c"):
        assert (src / name).read_bytes() == before[name]
    text = (src / "res_builtins.c").read_text()
    assert "<depend>cdr</depend>" in text and "<depend>http</depend>" in text and ".requires" not in text
    assert '<use type="module">res_other</use>' in (src / "res_after_fields.c").read_text()
    assert "<enhance>res_base</enhance>" in (src / "res_enhancer.c").read_text()
    assert ".load_pri = AST_MODPRI_APP_DEPEND," in (src / "res_after_fields.c").read_text()


def test_crlf_and_latin1_bytes_are_kept(tmp_path):
    source = (b"/*** MODULEINFO\r\n\t<support_level>core</support_level>\r\n ***/\r\n"
              b"#include \"asterisk/module.h\"\r\n/* caf\xe9 */\r\n"
              b"AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, \"d\",\r\n"
              b"\t.load = load_module,\r\n\t.requires = \"res_other\",\r\n);\r\n")
    path = tmp_path / "res_crlf.c"
    path.write_bytes(source)
    assert run_cli("migrate", "--write", path).returncode == 0
    after = path.read_bytes()
    assert after == (b"/*** MODULEINFO\r\n\t<depend type=\"module\">res_other</depend>\r\n"
                     b"\t<support_level>core</support_level>\r\n ***/\r\n"
                     b"#include \"asterisk/module.h\"\r\n/* caf\xe9 */\r\n"
                     b"AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, \"d\",\r\n"
                     b"\t.load = load_module,\r\n);\r\n")


def test_source_without_block_gets_one(tmp_path):
    path = tmp_path / "res_bare.c"
    path.write_text('#include "asterisk/module.h"\nAST_MODULE_INFO(K, 0, "d", .requires = "res_x");\n')
    assert run_cli("migrate", "--write", path).returncode == 0
    assert path.read_text() == ('/*** MODULEINFO\n\t<depend type="module">res_x</depend>\n ***/\n'
                                '#include "asterisk/module.h"\nAST_MODULE_INFO(K, 0, "d");\n')


@needs_cc
def test_migrate_then_build_injects_what_the_hand_written_lists_meant(tmp_path):
    src, catalog = _copy(tmp_path)
    catalog.write_text('builtins = ["cdr", "http"]\n')
    assert run_cli("migrate", "--write", "--catalog", catalog, src).returncode == 0
    # No information is left only in a hand-written list (the structs now have none, which
    # --hand-written reports as MODULEINFO-only: the build injects those).
    _, report = check_json("--hand-written", "--catalog", catalog, src)
    assert all(f["only_in_hand_written"] == [] for f in by_code(report, "hand-written-drift"))
    assert not by_code(report, "hand-written-builtin")
    tree = tmp_path / "tree.json"
    assert run_cli("scan", "--catalog", catalog, "--format", "json", "-o", tree, src).returncode == 0
    out = tmp_path / "out"
    meant = {  # the hand-written lists, read before migrating (MODULEINFO had part of them)
        "res_multiline": {"requires": "res_base,res_other"},
        "res_after_fields": {"requires": "res_base", "optional_modules": "res_other"},
        "res_builtins": {"requires": "res_base", "builtins": "cdr,http"},
        "res_enhancer": {"enhances": "res_base"},
        "res_concat": {"requires": "res_base,res_other"},
    }
    for name, fields in meant.items():
        flags = run_cli("cflags", "--catalog", catalog, "--tree", tree, "--out-dir", out / "gen",
                        "--include-dir", INCLUDE, src / f"{name}.c")
        assert flags.returncode == 0, flags.stderr
        target = out / f"{name}.so"
        subprocess.run([CC, "-shared", "-fPIC", *shlex.split(flags.stdout), "-o", str(target), str(src / f"{name}.c")],
                       check=True)
        record = read_record(str(target))
        for key, value in fields.items():
            assert record.fields[key] == value, (name, key, record.fields)


def test_list_given_by_a_macro_is_left_as_it_is():
    # .requires = DEPS: migrate must not turn the macro's name into <depend>DEPS</depend> and drop the field
    from buildtool.catalog import Catalog
    from buildtool.migrate import migrate_source
    from buildtool.model import Module, Tree
    data = b'/*** MODULEINFO\n\t<depend>res_base</depend>\n ***/\nAST_MODULE_INFO(K, 0, "U",\n\t.requires = DEPS,\n);\n'
    module = Module(name="res_user", source="res_user.c", line=1, requires=("res_base",))
    tree = Tree(modules={"res_user": module, "res_base": Module(name="res_base", source="res_base.c", line=1)})
    result = migrate_source(module, data, tree, Catalog())
    assert result.after == data and result.added == [] and result.removed == []
    assert [(d.line, d.column, d.code) for d in result.diagnostics] == [(5, 2, "migrate-unreadable")]

"""Hostile but realistic inputs other than module files: caches, configurations, sources, races,
outputs and exit codes. One test (or a few) per promise of the README's "Reliability" section."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from buildtool.loader.cache import CACHE_NAME, MetaStore, file_key
from buildtool.loader.meta import discover
from helpers.bounded import bt, bt_unprivileged
from loader_helpers import ROOT, built_dir


# -- the loader's metadata cache ------------------------------------------------------------------------------

def test_cache_never_stores_an_error_one_user_met(tmp_path):
    for name in ("gen_a", "gen_b"):
        shutil.copy2(built_dir() / f"{name}.so", tmp_path)
    (tmp_path / "gen_a.so").chmod(0)  # unreadable to anyone held to the permission bits
    try:
        first = bt_unprivileged("load", "--modules-dir", str(tmp_path), "--dry-run")
        assert "gen_a" in first.stdout and "Permission denied" in first.stdout
        assert (tmp_path / CACHE_NAME).exists()  # it did write a cache (gen_b's entry)
    finally:
        (tmp_path / "gen_a.so").chmod(0o644)
    second = bt("load", "--modules-dir", str(tmp_path), "--dry-run", "--format", "json")
    report = json.loads(second.stdout)
    assert report["order"] == ["gen_a", "gen_b"] and "Permission denied" not in second.stdout


def _cache_with(tmp_path: Path, row) -> dict:
    shutil.copy2(built_dir() / "gen_b.so", tmp_path)
    key = file_key(os.stat(tmp_path / "gen_b.so"))
    (tmp_path / CACHE_NAME).write_text(json.dumps({"version": 4, "entries": {"gen_b": [key, row]}}))
    return discover(str(tmp_path))


@pytest.mark.parametrize("damage", ["null-in-list", "string-for-list", "short-row", "bool-flags", "empty-name",
                                    "not-a-list", "error-entry"])
def test_an_odd_cache_entry_is_a_miss(tmp_path, damage):
    shutil.copy2(built_dir() / "gen_b.so", tmp_path)
    row = MetaStore(str(tmp_path), discover(str(tmp_path)), use_cache=False).get("gen_b").to_row()
    bad = json.loads(json.dumps(row))
    if damage == "null-in-list":
        bad[3] = [None]
    elif damage == "string-for-list":
        bad[3] = "res_evil"
    elif damage == "short-row":
        bad = bad[:5]
    elif damage == "bool-flags":
        bad[1] = True
    elif damage == "empty-name":
        bad[3] = [""]
    elif damage == "not-a-list":
        bad = {"requires": ["gen_a"]}
    else:
        bad = None  # an old-style entry recording an error
    paths = _cache_with(tmp_path, bad)
    store = MetaStore(str(tmp_path), paths)
    meta = store.get("gen_b")
    assert store.reads == 1 and meta.requires == ("gen_a",) and meta.name == "gen_b"
    # and through the CLI: no traceback, the real dependency, nothing made up
    _cache_with(tmp_path, bad)
    done = bt("load", "--modules-dir", str(tmp_path), "--dry-run", "--format", "json")
    report = json.loads(done.stdout)
    assert "gen_b" in report["declined"] and "requires gen_a" in report["declined"]["gen_b"]


# -- modules.conf -----------------------------------------------------------------------------------------------

def test_an_unterminated_block_comment_is_a_positioned_error():
    from buildtool.loader.config import parse_config
    config, diags = parse_config("[modules]\nautoload=yes\n  ;-- x\nnoload => res_fax\n", "m.conf")
    assert [d.render() for d in diags] == [
        "m.conf:3:3: error: block comment ';--' is never closed with '--;': every line after it would be "
        "ignored [loader-config-syntax]"]
    _, diags = parse_config("[modules]\n;-- a\n--; ;-- b --;\nnoload => res_fax ;-- c\n--;\n", "m.conf")
    assert diags == []


def test_a_fifo_as_modules_conf_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "modules.conf")
    done = bt("load", "--modules-dir", str(tmp_path), "--config", str(tmp_path / "modules.conf"), "--dry-run")
    assert done.returncode == 2 and done.stderr == f"{tmp_path / 'modules.conf'}: error: not a regular file\n"


# -- migrate ----------------------------------------------------------------------------------------------------

HAND = ('/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\n#include "asterisk/module.h"\n'
        'AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, "{name}", .load = load_module, '
        '.requires = "{dep}");\n')
PLAIN = "/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\n"


def _migration_tree(tmp_path: Path) -> Path:
    d = tmp_path / "res"
    d.mkdir()
    (d / "res_a.c").write_text(HAND.format(name="A", dep="res_c"))
    (d / "res_b.c").write_text(HAND.format(name="B", dep="res_c"))
    (d / "res_c.c").write_text(PLAIN)
    return d


def test_migrate_write_never_loses_an_edit_made_meanwhile(tmp_path, monkeypatch, capsys):
    """The race, made deterministic: another writer appends to res_b.c after migrate read it and
    before it writes. res_b.c keeps the edit (skipped, with a message, exit 1); res_a.c is migrated."""
    from buildtool import cli
    from buildtool.commands import migrate as command

    d = _migration_tree(tmp_path)
    real_migrate = command.migrate

    def migrate_then_someone_edits(tree, catalog, **options):
        out = real_migrate(tree, catalog, **options)
        with open(d / "res_b.c", "a") as handle:
            handle.write("/* an edit made while migrate ran */\n")
        return out

    monkeypatch.setattr(command, "migrate", migrate_then_someone_edits)
    assert cli.main(["migrate", "--write", str(d)]) == 1
    err = capsys.readouterr().err
    assert f"{d / 'res_b.c'}: changed while it was being rewritten: left as it is (run migrate again)" in err
    assert (d / "res_b.c").read_text().endswith("/* an edit made while migrate ran */\n")
    assert '.requires = "res_c"' in (d / "res_b.c").read_text()
    assert '.requires' not in (d / "res_a.c").read_text()
    assert [p.name for p in d.iterdir() if p.name.endswith(".tmp")] == []


def test_migrate_skips_a_block_with_an_xml_error(tmp_path):
    d = _migration_tree(tmp_path)
    broken = HAND.format(name="A", dep="res_c").replace("<support_level>core</support_level>",
                                                        "<depend>res_c</depend\n\t<support_level>core</support_level>")
    (d / "res_a.c").write_text(broken)
    done = bt("migrate", "--write", str(d))
    assert done.returncode == 0
    assert (f"{d / 'res_a.c'}:1:1: warning: the MODULEINFO block has errors (see buildtool scan): not migrated "
            "[migrate-skipped]") in done.stderr
    assert (d / "res_a.c").read_text() == broken
    assert ".requires" not in (d / "res_b.c").read_text()  # the others still are


# -- outputs and exit codes -----------------------------------------------------------------------------------

def test_no_output_is_replaced_when_the_run_fails(tmp_path):
    out = tmp_path / "tree.json"
    out.write_text("the tree of yesterday\n")
    for command in (["scan", "--format", "json"], ["xmldoc"]):
        done = bt(*command, "-o", str(out), str(ROOT / "modules"), str(tmp_path / "modulez"))
        assert done.returncode == 2, done
        assert f"{tmp_path / 'modulez'}:0:0: error: no such file or directory [io-error]" in done.stderr
        assert out.read_text() == "the tree of yesterday\n"
    headers = tmp_path / "headers"
    done = bt("generate", "--out-dir", str(headers), str(tmp_path / "modulez"))
    assert done.returncode == 2 and not headers.exists()


def test_output_paths_are_named_as_given(tmp_path):
    (tmp_path / "adir").mkdir()
    done = bt("scan", "-o", str(tmp_path / "adir"), str(ROOT / "modules"))
    assert done.returncode == 2 and done.stderr.splitlines()[-1] == f"{tmp_path / 'adir'}: error: is a directory"
    done = bt("scan", "-o", str(tmp_path / "missing" / "tree.txt"), str(ROOT / "modules"))
    assert done.returncode == 1  # the bundled modules' findings; the tree is written...
    assert (f"buildtool: note: {tmp_path / 'missing'}: created the directory for the output"
            in done.stderr.splitlines())  # ...and the directory made for it is said, not silent
    assert (tmp_path / "missing" / "tree.txt").exists()
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_a_killed_generate_leaves_nothing_the_next_run_does_not_clean(tmp_path):
    headers = tmp_path / "headers"
    headers.mkdir()
    stale = headers / ".res_fax.modinfo.h.k2j3h4g5.tmp"   # what a SIGKILL between mkstemp and rename leaves
    stale.write_bytes(b"")
    os.utime(stale, (1, 1))
    fresh = headers / ".res_pjsip.modinfo.h.a1b2c3d4.tmp"  # a writer running right now: left alone
    fresh.write_bytes(b"")
    done = bt("generate", "--out-dir", str(headers), "--errors-in-headers", str(ROOT / "modules"))
    assert done.returncode == 0, done.stderr
    assert not stale.exists() and fresh.exists() and (headers / "res_fax.modinfo.h").exists()


def test_exit_codes_follow_the_contract(tmp_path):
    # load --xmldoc on a document that cannot be read: an input error, in warn mode too
    shutil.copy2(built_dir() / "gen_a.so", tmp_path)
    done = bt("load", "--modules-dir", str(tmp_path), "--dry-run", "--xmldoc", str(tmp_path / "missing.xml"))
    assert done.returncode == 2
    assert done.stderr == f"{tmp_path / 'missing.xml'}:0:0: error: cannot read: No such file or directory [io-error]\n"
    # a reader that went away (`| head` that has exited): quiet, SIGPIPE's status, as cat or grep.
    # The pipe's read end is closed before the command starts, so its first write fails every time.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "buildtool", "inspect", str(built_dir() / "gen_a.so")],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == "", done


# -- what planning checks ----------------------------------------------------------------------------------------

def test_a_record_claiming_another_struct_size_is_refused_at_planning(tmp_path):
    from buildtool.elfinfo import MAGIC
    data = bytearray((built_dir() / "gen_a.so").read_bytes())
    at = data.index(MAGIC)
    struct_size_at = at + 12  # magic, abi_version, then struct_size (module.h's record header)
    data[struct_size_at:struct_size_at + 4] = (999).to_bytes(4, "little")
    (tmp_path / "gen_a.so").write_bytes(bytes(data))
    done = bt("load", "--modules-dir", str(tmp_path), "--format", "json")
    report = json.loads(done.stdout)
    assert report["order"] == [] and done.returncode == 0
    assert report["why"]["gen_a"] == ("not loaded: its record says struct ast_module_info is 999 bytes, this "
                                      "loader's is 232: built against another module.h (or for another "
                                      "architecture); rebuild it")


# -- module names ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stem", ['res"quote', "res_new\nline", "$(id)", "9lives", "res-dash", "res fax"])
def test_a_file_stem_that_is_not_an_identifier_is_a_positioned_error(tmp_path, stem):
    src = tmp_path / f"{stem}.c"
    src.write_text(PLAIN)
    (tmp_path / "res_ok.c").write_text(PLAIN)
    from buildtool.scan import scan
    tree = scan([str(tmp_path)])
    assert list(tree.modules) == ["res_ok"]
    [diag] = tree.diagnostics
    assert (diag.path, diag.line, diag.column, diag.code) == (str(src), 1, 1, "bad-module-name")
    assert diag.message == (f"module name {stem!r} (the file's stem) is not a C identifier (letters, digits, '_'; "
                            "not starting with a digit): not scanned")
    done = bt("cflags", str(src), "--out-dir", str(tmp_path / "out"))
    assert done.returncode == 1 and "-DAST_MODULE" not in done.stdout and "bad-module-name" in done.stderr


# -- the small ones ----------------------------------------------------------------------------------------------

def test_migrate_keeps_lone_cr_line_ends_and_diffs_as_patch_reads(tmp_path):
    d = tmp_path / "cr"
    d.mkdir()
    (d / "res_a.c").write_bytes(HAND.format(name="A", dep="res_b").replace(
        "<support_level>", '<depend type="module">res_c</depend>\n\t<support_level>').replace("\n", "\r").encode())
    (d / "res_b.c").write_text(PLAIN)
    (d / "res_c.c").write_text(PLAIN)
    shown = subprocess.run([sys.executable, "-m", "buildtool", "migrate", "cr"], capture_output=True,
                           cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    # As diff and patch see an old-Mac file: one line, without a final newline, on each side.
    before = (d / "res_a.c").read_bytes()
    assert shown.stdout.split(b"\n")[2:] == [
        b"@@ -1 +1 @@", b"-" + before, b"\\ No newline at end of file",
        b"+" + before.replace(b'\t<support_level>', b'\t<depend type="module">res_b</depend>\r\t<support_level>')
        .replace(b', .requires = "res_b"', b""), b"\\ No newline at end of file", b""]
    assert bt("migrate", "--write", str(d)).returncode == 0
    assert (d / "res_a.c").read_bytes() == (
        '/*** MODULEINFO\r\t<depend type="module">res_c</depend>\r\t<depend type="module">res_b</depend>\r'
        '\t<support_level>core</support_level>\r ***/\r#include "asterisk/module.h"\r'
        'AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, "A", .load = load_module);\r').encode()


def test_stray_text_positions_in_a_long_block():
    """The positions that were found by a count over the text above each tag (quadratic: 100,000
    tags took minutes); bench/bench_scan.py measures the growth."""
    from buildtool.extract import Block
    from buildtool.moduleinfo import parse_block
    n = 5000
    text = "\n" + "".join(f"\t<use>n{i}</use>, x{i}\n" for i in range(n)) + "\t<use>last</use> tail "
    decl, diags = parse_block(Block(text, 10, 1, 10, 16), "m.c")
    assert len(decl.names) == n + 1 and len(diags) == n + 1
    assert (diags[0].line, diags[0].column, diags[0].message) == (
        11, 15, "text outside any tag is ignored: ', x0'")
    assert (diags[-1].line, diags[-1].column) == (11 + n, 18)


def test_an_xmldoc_that_is_a_device_is_refused(tmp_path):
    shutil.copy2(built_dir() / "gen_a.so", tmp_path)
    (tmp_path / "doc.xml").symlink_to("/dev/zero")
    done = bt("load", "--modules-dir", str(tmp_path), "--dry-run", "--xmldoc", str(tmp_path / "doc.xml"))
    assert done.returncode == 2
    assert done.stderr == f"{tmp_path / 'doc.xml'}:0:0: error: cannot read: not a regular file [io-error]\n"

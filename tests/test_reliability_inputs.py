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
from loader_helpers import ROOT, built_dir
from test_reliability_elf import bt, bt_unprivileged


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

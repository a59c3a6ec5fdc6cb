"""The `buildtool scan ROOT` cache: reused only while every input holds, ignored when corrupt.

Real files and real `buildtool` processes on a synthetic Asterisk root (the one
``test_asterisk_makefiles`` checks against real make). To prove that an answer
came from the cache, the stored output is replaced by a marker (the entry's
checksum recomputed here, from the layout ``scancache``'s docstring gives): a run
that prints the marker was answered from the cache; after an edit, a new file or
a removed file, the run must print what an uncached run prints instead.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import zlib
from pathlib import Path

from helpers.asterisk import settle, write_root

from buildtool.asterisk import inputs, scancache

MARKER = b"PLANTED: this came from the cache\n"


def scan(root: Path, cache: Path | None, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cache_args = ["--cache-dir", str(cache)] if cache is not None else ["--no-cache"]
    return subprocess.run([sys.executable, "-m", "buildtool", "scan", *cache_args, *extra, str(root)],
                          capture_output=True, env=env)


def same(a: subprocess.CompletedProcess, b: subprocess.CompletedProcess) -> bool:
    return (a.stdout, a.stderr, a.returncode) == (b.stdout, b.stderr, b.returncode)


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("scan-*.cache"))


def plant(entry: Path, output: str = MARKER.decode()) -> None:
    """Replace the stored output, keeping the facts, the key and a valid checksum."""
    first, body = entry.read_bytes().split(b"\n", 1)
    stored = marshal.loads(body)
    stored["output"] = output if isinstance(stored["output"], str) else output.encode()
    body = marshal.dumps(stored)
    entry.write_bytes(first.rsplit(b" ", 1)[0] + b" %08x\n" % zlib.crc32(body) + body)


def test_entry_reused_then_invalidated_by_an_edit_a_new_file_and_a_removed_file(tmp_path):
    roots = {case: write_root(tmp_path / case) for case in ("edit", "new", "new_in_subdir", "removed")}
    # The menuselect-tree holds what awk reads from every source of a member; the tree, its own block.
    formats = {"edit": "text", "new": "text", "new_in_subdir": "xml", "removed": "json"}
    cache = tmp_path / "cache"
    settle()
    for case, root in roots.items():
        before = scan(root, cache, "--format", formats[case])
        assert before.returncode == 0, before.stderr.decode()
        assert same(before, scan(root, None, "--format", formats[case]))
    assert len(entries(cache)) == len(roots)  # one per root
    for entry in entries(cache):
        plant(entry)
    for case, root in roots.items():
        assert scan(root, cache, "--format", formats[case]).stdout == MARKER  # answered from the cache

    # A MODULEINFO edit that keeps the size of the file (and its inode): its ctime and mtime still change.
    source = roots["edit"] / "apps" / "app_plain.c"
    text = source.read_text()
    source.write_text(text.replace("<depend>res_base</depend>", "<depend>res_cpp</depend> "))
    assert source.stat().st_size == len(text)
    # A new module source in a directory the Makefile globs ($(wildcard app_*.c)).
    (roots["new"] / "apps" / "app_new.c").write_text(
        "/*** MODULEINFO\n\t<depend>res_base</depend>\n ***/\nAST_MODULE_INFO_STANDARD(K, \"New\");\n")
    # A new file in a subdirectory that MOD_ADD_C's $(wildcard multi/*.c) reads for app_multi.
    (roots["new_in_subdir"] / "apps" / "multi" / "three.c").write_text(
        "/*** MODULEINFO\n\t<use>res_cpp</use>\n***/\n")
    (roots["removed"] / "apps" / "app_plain.c").unlink()

    expected = {
        "edit": lambda out: "app_plain [core]  requires: res_cpp" in out,
        "new": lambda out: "app_new [unspecified]  requires: res_base" in out,
        "new_in_subdir": lambda out: ("apps/multi/three.o" in out
                                      and "<use>res_cpp</use>\n\t<use>res_extra</use>" in out),
        "removed": lambda out: '"app_plain"' not in out and '"app_multi"' in out,
    }
    for case, root in roots.items():
        after = scan(root, cache, "--format", formats[case])
        assert after.stdout != MARKER, case
        assert same(after, scan(root, None, "--format", formats[case])), case
        assert expected[case](after.stdout.decode()), (case, after.stdout.decode())


def test_diagnostics_and_exit_status_come_back_from_the_cache(tmp_path):
    root = write_root(tmp_path / "ast")
    source = root / "apps" / "app_plain.c"
    source.write_text(source.read_text().replace("<depend>cdr</depend>", "<depend>res_nothere</depend>"))
    cache = tmp_path / "cache"
    settle()
    first = scan(root, cache, "--format", "json")
    assert first.returncode == 1 and b"res_nothere" in first.stderr
    assert same(first, scan(root, None, "--format", "json"))
    (entry,) = entries(cache)
    plant(entry)
    again = scan(root, cache, "--format", "json")
    assert (again.stdout, again.stderr, again.returncode) == (MARKER, first.stderr, 1)
    # Each format is its own entry: text is computed, not the JSON entry's output.
    text = scan(root, cache)
    assert same(text, scan(root, None)) and len(entries(cache)) == 2


def test_a_corrupt_entry_is_ignored(tmp_path):
    root = write_root(tmp_path / "ast")
    cache = tmp_path / "cache"
    settle()
    expected = scan(root, None, "--format", "xml")
    assert same(scan(root, cache, "--format", "xml"), expected)
    (entry,) = entries(cache)
    good = entry.read_bytes()
    flipped = bytearray(good)
    flipped[-10] ^= 0x20
    for damaged in (b"", b"\x00garbage\xff" * 100, good[: len(good) // 2], bytes(flipped),
                    good.replace(b"buildtool-scan-cache 2", b"buildtool-scan-cache 9", 1)):
        entry.write_bytes(damaged)
        got = scan(root, cache, "--format", "xml")
        assert same(got, expected), damaged[:40]
        assert entry.read_bytes() == good  # replaced by a fresh entry


def test_a_file_changed_within_the_racy_window_is_not_stored(tmp_path):
    """Decided on real stat values: a file whose ctime is within RACY_NS of the run's start could be written
    again within the same clock tick without its fact changing, so nothing is stored."""
    source = tmp_path / "app_x.c"
    source.write_text("/*** MODULEINFO\n***/\n")
    ctime = source.stat().st_ctime_ns
    recorded = {("file", str(source)): inputs.file_key(source.stat())}
    result = scancache.Result("out\n", None, "", 0)
    cache = tmp_path / "cache"
    key = scancache.key(["scan", str(tmp_path)])
    assert not scancache.store(str(cache), key, recorded, ctime + scancache.RACY_NS, result)
    assert not entries(cache)
    assert scancache.store(str(cache), key, recorded, ctime + scancache.RACY_NS + 1, result)
    assert len(entries(cache)) == 1


def test_the_default_place_is_xdg_cache_home_and_nothing_is_written_in_the_tree(tmp_path):
    root = write_root(tmp_path / "ast")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    listing = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    settle()
    runs = [subprocess.run([sys.executable, "-m", "buildtool", "scan", str(root)], capture_output=True, env=env)
            for _ in range(2)]
    assert same(runs[0], scan(root, None)) and same(runs[1], runs[0])
    assert len(entries(tmp_path / "xdg" / "buildtool")) == 1
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == listing


def test_a_relative_cache_home_is_ignored(monkeypatch, tmp_path):
    """XDG: a relative $XDG_CACHE_HOME is ignored, so the cache never lands in the working directory."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert scancache.default_directory() == str(tmp_path / "home" / ".cache" / "buildtool")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert scancache.default_directory() == str(tmp_path / "xdg" / "buildtool")

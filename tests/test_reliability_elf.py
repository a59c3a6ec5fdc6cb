"""Hostile module files: every reader refuses them cleanly, in bounded time and memory.

The files are crafted here from a real module built by gcc (``loader_helpers``): truncations,
size fields set to extremes, a flipped byte order, a FIFO and a symlink to /dev/zero under a
module's name. Each command runs in a child process with its address space limited
(``RLIMIT_AS``) and a timeout, so a reader that loops or allocates without bound fails the test
instead of the machine.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.bounded import bt, bt_unprivileged
from loader_helpers import ROOT, built_dir

BASE = "inl_base"    # a real module with no dependencies...
USER = "inl_mid"     # ...and one that requires it


def real(name: str = BASE) -> bytes:
    return (built_dir() / f"{name}.so").read_bytes()


def _ehdr(b: bytearray) -> dict:
    shoff = struct.unpack_from("<Q", b, 0x28)[0]
    return {"shoff": shoff, "shentsize": 64, "shnum": struct.unpack_from("<H", b, 0x3c)[0]}


def craft(kind: str) -> bytes | None:
    b = bytearray(real())
    h = _ehdr(b)
    if kind == "huge-extended-count":    # the repro: e_shnum=0, e_shentsize=0, sh_size=2^40
        struct.pack_into("<HH", b, 0x3a, 0, 0)
        struct.pack_into("<Q", b, h["shoff"] + 32, 1 << 40)
    elif kind == "extended-count":       # a sane e_shentsize, section 0 claiming 2^40 sections
        struct.pack_into("<H", b, 0x3c, 0)
        struct.pack_into("<Q", b, h["shoff"] + 32, 1 << 40)
    elif kind == "head-100":
        return bytes(b[:100])
    elif kind == "half":
        return bytes(b[:len(b) // 2])
    elif kind == "shoff-past-end":
        struct.pack_into("<Q", b, 0x28, len(b) + 1)
    elif kind == "shoff-2^63":
        struct.pack_into("<Q", b, 0x28, 1 << 63)
    elif kind == "bad-shstrndx":
        struct.pack_into("<H", b, 0x3e, h["shnum"] + 5)
    elif kind == "shentsize-0":
        struct.pack_into("<H", b, 0x3a, 0)
    elif kind == "byte-order":
        b[5] = 2
    elif kind == "section-size-2^63":  # the last section (usually a string table) claims 2^63 bytes
        struct.pack_into("<Q", b, h["shoff"] + (h["shnum"] - 1) * 64 + 32, 1 << 63)
    return bytes(b)


# kind -> what the refusal must say
CASES = {
    "huge-extended-count": "e_shentsize=0 is smaller than an ELF64 section header",
    "extended-count": "the section header table (1099511627776 entries)",
    "head-100": "lies outside the file (100 bytes): truncated or corrupt",
    "half": "lies outside the file",
    "shoff-past-end": "the first section header",
    "shoff-2^63": "the first section header (offset 0x8000000000000000",
    "bad-shstrndx": "is not a section",
    "shentsize-0": "e_shentsize=0",
    "byte-order": "lies outside the file",
    "section-size-2^63": "lies outside the file",
    "fifo": "cannot read: not a regular file",
    "dev-zero": "cannot read: not a regular file",
}


def _plant(directory: Path, kind: str) -> Path:
    path = directory / f"{kind.replace('-', '_').replace('^', '')}.so"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.write_bytes(craft(kind))
    return path


def test_crafted_files_are_refused_by_every_reader(tmp_path):
    d = tmp_path / "modules"
    d.mkdir()
    files = {kind: _plant(d, kind) for kind in CASES}
    shutil.copy(built_dir() / f"{USER}.so", d)
    # inspect (pyelftools, after the layout check): one line per file naming it and the fault
    done = bt("inspect", *map(str, files.values()))
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == len(CASES)
    for (kind, expected), line in zip(CASES.items(), lines):
        assert line.startswith(f"{files[kind]}: ") and expected in line, (kind, line)
    # the loader: every crafted file "not loaded" with the same reason; the real module plans
    done = bt("load", "--modules-dir", str(d), "--dry-run")
    assert done.returncode == 0, done.stderr
    for kind, expected in CASES.items():
        row = next(l for l in done.stdout.splitlines() if l.startswith(files[kind].stem + " "))
        assert "not loaded: " in row and expected in row, (kind, row)
    # modules and graph read the same metadata
    for command in ("modules", "graph"):
        done = bt(command, "--modules-dir", str(d))
        assert done.returncode == 0, done.stderr
        assert CASES["shoff-2^63"] in done.stdout
    # the hash check against documentation reads every record with pyelftools: still clean
    doc = tmp_path / "doc.xml"
    assert bt("xmldoc", "-o", str(doc), str(tmp_path / "nosources")).returncode in (0, 2)
    doc.write_text("<docs/>\n")
    done = bt("load", "--modules-dir", str(d), "--dry-run", "--xmldoc", str(doc))
    assert done.returncode == 0 and f"{USER}" in done.stdout


def test_check_binaries_names_each_unreadable_file_once(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    bins = tmp_path / "bins"
    bins.mkdir()
    shutil.copy(built_dir().parent / "src" / f"{BASE}.c", src)
    for kind in ("fifo", "byte-order"):
        path = _plant(bins, kind)
        path.rename(bins / f"{BASE}.so") if kind == "byte-order" else None
    done = bt("check", "--binaries", str(bins), str(src))
    assert done.returncode == 1
    assert f"{bins / BASE}.so:0:0: error: " in done.stdout + done.stderr
    text = done.stdout + done.stderr
    assert "binary-unreadable" in text and "not a regular file" in text
    assert "binary-missing" not in text  # its binary is there, only unreadable


def test_check_binaries_on_a_directory_it_cannot_list_is_an_io_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    try:
        done = bt_unprivileged("check", "--binaries", str(locked), str(ROOT / "modules"))
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2, done
    assert f"{locked}:0:0: error: --binaries: cannot list the directory: Permission denied [io-error]" in done.stdout
    assert "binary-missing" not in done.stdout + done.stderr


# -- the property: any mutation of a real module is refused cleanly by every reader ---------------------------

EXTREMES = [0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 40, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]
# (offset, struct format) of the ELF64 header's size fields
HEADER_FIELDS = [(0x20, "<Q"), (0x28, "<Q"), (0x36, "<H"), (0x38, "<H"), (0x3a, "<H"), (0x3c, "<H"), (0x3e, "<H")]
# offsets inside a section header: sh_offset, sh_size, sh_link, sh_info, sh_entsize, sh_name
SECTION_FIELDS = [(24, "<Q"), (32, "<Q"), (40, "<I"), (44, "<I"), (56, "<Q"), (0, "<I")]


@st.composite
def mutations(draw):
    data = bytearray(real())
    kind = draw(st.sampled_from(["flips", "truncate", "header", "section"]))
    if kind == "flips":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
    elif kind == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    else:
        value = draw(st.sampled_from(EXTREMES + [len(data), len(data) + 1]) | st.integers(0, (1 << 64) - 1))
        if kind == "header":
            offset, fmt = draw(st.sampled_from(HEADER_FIELDS))
        else:
            shoff, shnum = struct.unpack_from("<Q", data, 0x28)[0], struct.unpack_from("<H", data, 0x3c)[0]
            field, fmt = draw(st.sampled_from(SECTION_FIELDS))
            offset = shoff + draw(st.integers(0, shnum - 1)) * 64 + field
        struct.pack_into(fmt, data, offset, value % (1 << (8 * struct.calcsize(fmt))))
    return bytes(data)


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutants=st.lists(mutations(), min_size=4, max_size=10))
def test_mutated_modules_are_refused_cleanly(tmp_path_factory, mutants):
    """Four to ten mutants an example (one child process per command reads them all: the suite stays
    fast); the first takes the real module's name and each other one has the real source under its own
    name, so check compares every mutant with a source."""
    tmp = tmp_path_factory.mktemp("mutant")
    mdir, src = tmp / "modules", tmp / "src"
    mdir.mkdir()
    src.mkdir()
    targets = [mdir / (f"{BASE}.so" if i == 0 else f"mutant_{i}.so") for i in range(len(mutants))]
    source = (built_dir().parent / "src" / f"{BASE}.c").read_bytes()
    for target, data in zip(targets, mutants):
        target.write_bytes(data)
        (src / f"{target.stem}.c").write_bytes(source)
    shutil.copy(built_dir() / f"{USER}.so", mdir)
    done = bt("inspect", *map(str, targets))
    assert done.returncode in (0, 2)
    for line in done.stderr.splitlines():   # one line per refused file, naming it
        assert any(line.startswith(f"{t}: ") for t in targets), line
    done = bt("check", "--binaries", str(mdir), str(src))
    assert done.returncode in (0, 1), done.stderr
    done = bt("load", "--modules-dir", str(mdir), "--dry-run")
    assert done.returncode == 0, done.stderr
    for target in targets:
        row = next(l for l in done.stdout.splitlines() if l.startswith(target.stem + " "))
        assert "loaded" in row  # planned, or "not loaded: <why>"

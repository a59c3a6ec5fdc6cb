"""Read what the checks and the loader need from a built module in one pass, without loading it.

``buildtool.elfinfo`` (pyelftools) is the reference reader of the module
record. ``check`` reads a thousand modules in one run and the loader reads
every module it plans; both need the dynamic symbols too, which pyelftools
parses at ~2 ms per small module; so this is a small reader of its own, with ``struct`` over the file's bytes: the ELF header,
the section headers, ``.dynsym`` with its string table, ``.dynamic`` and the
``.ast_modinfo`` section, for 32/64-bit and either byte order (any
architecture). The record bytes are parsed by ``elfinfo._parse``, the same code
``buildtool inspect`` uses, and tests/test_check_binaries.py checks both
readers agree. No code of the module is run or mapped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from elftools.elf.enums import ENUM_E_MACHINE

from buildtool import elfinfo
from buildtool.elfinfo import ModuleRecord
from buildtool.errors import RecordError
from buildtool.fsutil import read_regular

_MACHINES = {number: name for name, number in ENUM_E_MACHINE.items() if isinstance(number, int)}

SHT_DYNAMIC, SHT_DYNSYM = 6, 11
DT_NULL, DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 14, 15, 29
STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 1, 2, 10
STT_SECTION, STT_FILE = 3, 4
STV_DEFAULT, STV_PROTECTED = 0, 3
SHN_UNDEF, SHN_XINDEX = 0, 0xFFFF


@dataclass
class Binary:
    path: str
    machine: str
    elfclass: int                      # 32 or 64
    little_endian: bool
    record: ModuleRecord | None = None
    record_error: str | None = None    # why there is no record (no section, truncated, other ABI)
    abi_version: int | None = None     # from the record header, even when it is not ours
    struct_size: int | None = None
    defined: frozenset[str] = frozenset()
    undefined: frozenset[str] = frozenset()       # strong references that must be resolved
    weak_undefined: frozenset[str] = frozenset()  # may stay unresolved
    needed: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    soname: str | None = None


def _cstr(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    return data[offset:end if end >= 0 else len(data)].decode("utf-8", "replace")


def read_binary(path: str, symbols: bool = True) -> Binary:
    """Raises ``RecordError`` when ``path`` is not a readable ELF file (never anything else)."""
    try:
        data = read_regular(path)
    except OSError as exc:
        raise RecordError(path, f"cannot read: {exc.strerror or exc}") from None
    return read_binary_data(path, data, symbols)


def read_binary_data(path: str, data: bytes, symbols: bool = True) -> Binary:
    """``read_binary`` over bytes already read (``buildtool inspect`` validates with it first)."""
    try:
        return _read(path, data, symbols)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:  # a gap in the checks below
        raise RecordError(path, f"not a readable ELF file ({exc})") from None


def _read(path: str, data: bytes, symbols: bool) -> Binary:
    # Every offset, size and count read from the file is checked against the file's size before it
    # is used, so a crafted header can neither send a loop round 2^40 times nor index past the end.
    size = len(data)

    def within(offset: int, length: int, what: str) -> None:
        if offset < 0 or length < 0 or offset + length > size:
            raise RecordError(path, f"{what} (offset {offset:#x}, {length} bytes) lies outside the file "
                              f"({size} bytes): truncated or corrupt")

    if data[:4] != b"\x7fELF":
        raise RecordError(path, "not an ELF file")
    is64 = {1: False, 2: True}.get(data[4]) if size > 4 else None
    order = {1: "<", 2: ">"}.get(data[5]) if size > 5 else None
    if is64 is None or order is None:
        raise RecordError(path, "unknown ELF class or byte order")
    within(0, 64 if is64 else 52, "the ELF header")
    if is64:
        (_, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx) = struct.unpack_from(
            order + "HHIQQQIHHHHHH", data, 16)
        sh_fmt = order + "IIQQQQIIQQ"
    else:
        (_, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx) = struct.unpack_from(
            order + "HHIIIIIHHHHHH", data, 16)
        sh_fmt = order + "IIIIIIIIII"
    binary = Binary(path, _MACHINES.get(machine, f"EM_{machine}"), 64 if is64 else 32, order == "<")
    if shoff == 0:
        raise RecordError(path, "no section headers")
    if shentsize < struct.calcsize(sh_fmt):
        raise RecordError(path, f"section header size e_shentsize={shentsize} is smaller than an ELF"
                          f"{64 if is64 else 32} section header ({struct.calcsize(sh_fmt)} bytes): corrupt")
    within(shoff, shentsize, "the first section header")
    first = struct.unpack_from(sh_fmt, data, shoff)
    if shnum == 0:
        shnum = first[5]  # extended numbering: the count is in section 0's sh_size
    if shstrndx == SHN_XINDEX:
        shstrndx = first[6]
    within(shoff, shnum * shentsize, f"the section header table ({shnum} entries)")
    if shstrndx >= shnum:
        raise RecordError(path, f"section name table index e_shstrndx={shstrndx} is not a section "
                          f"(there are {shnum}): corrupt")
    # (name, type, offset, size, link, entsize)
    sections = []
    for index in range(shnum):
        name, kind, _, _, offset, length, link, _, _, entsize = struct.unpack_from(
            sh_fmt, data, shoff + index * shentsize)
        sections.append((name, kind, offset, length, link, entsize))

    def body(section, what: str) -> bytes:
        within(section[2], section[3], what)
        return data[section[2]:section[2] + section[3]]

    def linked(section, what: str) -> bytes:
        if section[4] >= shnum:
            raise RecordError(path, f"{what} links to section {section[4]}, which does not exist: corrupt")
        return body(sections[section[4]], what + "'s string table")

    names = body(sections[shstrndx], "the section name table")
    record_section = None
    dynsym = dynamic = None
    for section in sections:
        if section[1] == SHT_DYNSYM:
            dynsym = section
        elif section[1] == SHT_DYNAMIC:
            dynamic = section
        elif record_section is None and section[1] != 0 and _cstr(names, section[0]) == elfinfo.SECTION:
            record_section = section
    if record_section is None:
        binary.record_error = f"no {elfinfo.SECTION} section: not built with buildtool's module.h"
    else:
        raw = body(record_section, f"section {elfinfo.SECTION}")
        if len(raw) >= elfinfo.HEADER_SIZE and raw[:8] == elfinfo.MAGIC:
            binary.abi_version, binary.struct_size = struct.unpack_from(order + "II", raw, 8)
        if binary.abi_version is not None and binary.abi_version != elfinfo.ABI_VERSION:
            binary.record_error = (f"module record ABI version {binary.abi_version}, "
                                   f"this buildtool reads {elfinfo.ABI_VERSION}")
        else:
            try:
                binary.record = elfinfo._parse(path, raw, order == "<", binary.machine)
            except RecordError as exc:
                binary.record_error = exc.reason
    if not symbols:
        return binary
    if dynsym is not None:
        fmt = order + ("IBBHQQ" if is64 else "IIIBBH")
        entsize = dynsym[5] or struct.calcsize(fmt)
        if entsize < struct.calcsize(fmt):
            raise RecordError(path, f".dynsym entry size {entsize} is smaller than a symbol: corrupt")
        body(dynsym, ".dynsym")
        strings = linked(dynsym, ".dynsym")
        defined, undefined, weak = set(), set(), set()
        base = dynsym[2]
        for index in range(1, dynsym[3] // entsize):
            fields = struct.unpack_from(fmt, data, base + index * entsize)
            if is64:
                name_off, info, other, shndx = fields[0], fields[1], fields[2], fields[3]
            else:
                name_off, info, other, shndx = fields[0], fields[3], fields[4], fields[5]
            bind, kind = info >> 4, info & 0xF
            if bind not in (STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE) or kind in (STT_SECTION, STT_FILE):
                continue
            name = _cstr(strings, name_off)
            if not name:
                continue
            if shndx == SHN_UNDEF:
                (weak if bind == STB_WEAK else undefined).add(name)
            elif other & 3 in (STV_DEFAULT, STV_PROTECTED):
                defined.add(name)
        binary.defined, binary.undefined, binary.weak_undefined = (
            frozenset(defined), frozenset(undefined), frozenset(weak))
    if dynamic is not None:
        body(dynamic, ".dynamic")
        strings = linked(dynamic, ".dynamic")
        fmt = order + ("qQ" if is64 else "iI")
        step = struct.calcsize(fmt)
        needed, runpath = [], []
        for offset in range(dynamic[2], dynamic[2] + dynamic[3] - step + 1, step):
            tag, value = struct.unpack_from(fmt, data, offset)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                needed.append(_cstr(strings, value))
            elif tag in (DT_RUNPATH, DT_RPATH):
                runpath.extend(p for p in _cstr(strings, value).split(":") if p)
            elif tag == DT_SONAME:
                binary.soname = _cstr(strings, value)
        binary.needed, binary.runpath = tuple(needed), tuple(runpath)
    return binary


# struct ast_module_info (include/asterisk/module.h), member by member: "p" a
# pointer; the rest 4 bytes but ``load_pri`` (unsigned char).
_INFO_LAYOUT = (["u32", "u32"] + ["p"] * 4 + ["p"] * 3 + ["uint"] + ["p"] + ["uchar"] + ["p"] * 3
                + ["p"] * 4 + ["enum"] + ["p"] * 10)


def info_struct_size(elfclass: int) -> int:
    """sizeof(struct ast_module_info) on an ILP32 (32) or LP64 (64) target (natural alignment)."""
    pointer = 8 if elfclass == 64 else 4
    sizes = {"u32": 4, "uint": 4, "enum": 4, "uchar": 1, "p": pointer}
    offset = largest = 0
    for member in _INFO_LAYOUT:
        size = sizes[member]
        largest = max(largest, size)
        offset = (offset + size - 1) // size * size + size
    return (offset + largest - 1) // largest * largest

"""Read the injected metadata out of a built module without loading it.

The record lives in the ELF section ``.ast_modinfo`` (see include/asterisk/module.h):
a header (magic, ABI version, struct size, flags, text size, in the target's byte
order) and NUL-separated ``key=value`` text. pyelftools reads it for any
architecture and runs no code of the module.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from buildtool.fields import RECORD_BOOLEANS, RECORD_LISTS
from buildtool.model import ABI_VERSION  # noqa: F401  (defined once, there; the generator needs it without pyelftools)

SECTION = ".ast_modinfo"
MAGIC = b"ASTMODI\0"
# enum ast_module_flags of include/asterisk/module.h (the loader's abi.py takes its bits from here).
FLAG_NAMES = {1 << 0: "GLOBAL_SYMBOLS", 1 << 1: "LOAD_ORDER"}


def flag_names(flags: int) -> list[str]:
    """The AST_MODFLAG_* names set in ``flags`` (an unknown bit as its hex value)."""
    names = [name for bit, name in sorted(FLAG_NAMES.items()) if flags & bit]
    rest = flags & ~sum(FLAG_NAMES)
    return names + ([f"{rest:#x}"] if rest else [])


def describe_flags(flags: int) -> str:
    """``0x3 (GLOBAL_SYMBOLS|LOAD_ORDER)``; ``0x0 (DEFAULT)``."""
    return f"{flags:#x} ({'|'.join(flag_names(flags)) or 'DEFAULT'})"
HEADER_SIZE = 24
# Record keys whose "yes"/"no" is a boolean in JSON (as in the tree's JSON), and the lists.
BOOLEAN_KEYS = RECORD_BOOLEANS
LIST_KEYS = RECORD_LISTS
SUPPORT_LEVEL_NAMES = {0: None, 1: "core", 2: "extended", 3: "deprecated", 4: "external"}


class RecordError(Exception):
    """A file that is not a module this buildtool can read; the message says why."""


@dataclass(frozen=True)
class ModuleRecord:
    path: str
    machine: str
    abi_version: int
    struct_size: int
    flags: int
    fields: dict[str, str]

    @property
    def name(self) -> str:
        return self.fields.get("name", "")

    def list(self, key: str) -> tuple[str, ...]:
        value = self.fields.get(key, "")
        return tuple(v for v in value.split(",") if v)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "machine": self.machine,
            "abi_version": self.abi_version,
            "struct_size": self.struct_size,
            "flags": self.flags,
            "flag_names": flag_names(self.flags),
        }
        for key, value in sorted(self.fields.items()):
            if key in LIST_KEYS:
                out[key] = list(self.list(key))
            elif key in BOOLEAN_KEYS:
                out[key] = value == "yes"
            else:
                out[key] = value or None
        return out


def _parse(path: str, data: bytes, little_endian: bool, machine: str) -> ModuleRecord:
    if len(data) < HEADER_SIZE or data[:8] != MAGIC:
        raise RecordError(f"{path}: section {SECTION} does not start with the module record magic")
    order = "<" if little_endian else ">"
    abi_version, struct_size, flags, text_size = struct.unpack_from(order + "IIII", data, 8)
    if abi_version != ABI_VERSION:
        raise RecordError(f"{path}: module record ABI version {abi_version}, this buildtool reads {ABI_VERSION}; "
                          "rebuild the module against this module.h")
    text = data[HEADER_SIZE:HEADER_SIZE + text_size]
    if len(text) != text_size or not text.endswith(b"\0"):
        raise RecordError(f"{path}: module record text is truncated")
    fields: dict[str, str] = {}
    for item in text.rstrip(b"\0").split(b"\0"):
        if not item:
            continue
        key, sep, value = item.decode("utf-8", "replace").partition("=")
        if not sep:
            raise RecordError(f"{path}: malformed module record entry {item[:40]!r}")
        fields[key] = value
    return ModuleRecord(path, machine, abi_version, struct_size, flags, fields)


def read_record_from(stream: BinaryIO, path: str) -> ModuleRecord:
    """pyelftools over an open file. Trusts the layout: ``read_record`` checks it first."""
    try:
        elf = ELFFile(stream)
        section = elf.get_section_by_name(SECTION)
        if section is None:
            raise RecordError(f"{path}: no {SECTION} section: not built with buildtool's module.h")
        return _parse(path, section.data(), elf.little_endian, elf["e_machine"])
    except ELFError as exc:  # ELFParseError included
        raise RecordError(f"{path}: not a readable ELF file ({exc})") from None
    except (struct.error, OverflowError, ValueError, IndexError, KeyError, TypeError) as exc:
        raise RecordError(f"{path}: not a readable ELF file ({type(exc).__name__}: {exc})") from None


def read_record(path: str) -> ModuleRecord:
    """The record, or ``RecordError`` naming the file and what is wrong (never another exception).

    Only a regular file is read, and its section layout is checked against its size
    (``buildtool.binary``) before pyelftools sees it, so a crafted size field cannot make
    pyelftools loop or allocate without bound.
    """
    from buildtool.binary import read_binary_data
    from buildtool.fsutil import read_regular

    try:
        data = read_regular(path)
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from None
    read_binary_data(path, data, symbols=False)
    return read_record_from(io.BytesIO(data), path)

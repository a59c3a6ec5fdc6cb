"""The ctypes mirror of ``struct ast_module_info`` (include/asterisk/module.h).

The first two fields, ``abi_version`` and ``struct_size`` (uint32 each), sit at
fixed offsets in every version of the layout. ``read_info`` reads only those two
first and maps the whole struct only when both equal this mirror's; anything
else is a refusal (``AbiError``), never a misread of a different layout.
"""

from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass

from buildtool.elfinfo import FLAG_NAMES, abi_problem
from buildtool.errors import AbiError
from buildtool.fields import FIELDS, LIST
from buildtool.model import ABI_VERSION

SYMBOL = b"__ast_module_info"

LoadFn = ctypes.CFUNCTYPE(ctypes.c_int)

SUCCESS, DECLINE, SKIP, PRIORITY, FAILURE = 0, 1, 2, 3, -1
RESULT_NAMES = {SUCCESS: "SUCCESS", DECLINE: "DECLINE", SKIP: "SKIP", PRIORITY: "PRIORITY", FAILURE: "FAILURE"}
GLOBAL_SYMBOLS = {name: bit for bit, name in FLAG_NAMES.items()}["GLOBAL_SYMBOLS"]  # defined once in elfinfo


def _members() -> list[tuple[str, object]]:
    """struct ast_module_info member by member: Asterisk's own layout, with the members of the
    field table (buildtool/fields.py) that Asterisk has at its places, then buildtool's injected
    members in the table's order."""
    own = [f for f in FIELDS if f.member]
    return ([("abi_version", ctypes.c_uint32), ("struct_size", ctypes.c_uint32),
             ("self", ctypes.c_void_p), ("load", LoadFn), ("reload", LoadFn), ("unload", LoadFn),
             ("name", ctypes.c_char_p), ("description", ctypes.c_char_p), ("key", ctypes.c_char_p),
             ("flags", ctypes.c_uint), ("buildopt_sum", ctypes.c_char_p), ("load_pri", ctypes.c_ubyte)]
            + [(f.member, ctypes.c_char_p) for f in own if f.asterisk and f.kind == LIST]
            + [(f"reserved{i}", ctypes.c_void_p) for i in range(1, 5)]
            # Asterisk's one scalar member, enum ast_module_support_level
            + [(f.member, ctypes.c_int) for f in own if f.asterisk and f.kind != LIST]
            + [(f.member, ctypes.c_char_p) for f in own if not f.asterisk]
            + [("record", ctypes.c_void_p)])


class AstModuleInfo(ctypes.Structure):
    _fields_ = _members()


STRUCT_SIZE = ctypes.sizeof(AstModuleInfo)
HOST_CLASS = 8 * ctypes.sizeof(ctypes.c_void_p)
_POINTERS = (ctypes.c_void_p, ctypes.c_char_p, LoadFn)


@functools.cache  # the layout is fixed at import; this runs for every module the loader opens
def struct_size(elfclass: int) -> int:
    """sizeof(struct ast_module_info) on an ILP32 (32) or LP64 (64) target: the mirror's members
    with natural alignment, so a module built for another architecture is checked on this host."""
    pointer = 8 if elfclass == 64 else 4
    offset = largest = 0
    for _, ctype in AstModuleInfo._fields_:
        size = pointer if ctype in _POINTERS else ctypes.sizeof(ctype)
        largest = max(largest, size)
        offset = (offset + size - 1) // size * size + size
    return (offset + largest - 1) // largest * largest


_HOST_STRUCT_SIZE = struct_size(HOST_CLASS)


@dataclass(frozen=True)
class LayoutMismatch:
    """How a module's struct ast_module_info differs from this mirror's layout."""

    field: str      # "abi_version" or "struct_size"
    found: int
    expected: int


def layout_mismatch(abi_version: int, size: int, elfclass: int = HOST_CLASS) -> LayoutMismatch | None:
    """The one check of a struct's layout (its version, then its size on an ``elfclass`` target),
    for a loaded module (``read_info``), a planned one (``meta.read_meta``) and a checked binary
    (``check.binaries``); None when it is this mirror's."""
    if abi_problem(abi_version):   # the record's and the struct's version are one number
        return LayoutMismatch("abi_version", abi_version, ABI_VERSION)
    expected = struct_size(elfclass)
    if size != expected:
        return LayoutMismatch("struct_size", size, expected)
    return None


@dataclass(slots=True)
class Info:
    """A checked view of a loaded module's struct (valid only while the module is open), its
    strings decoded."""

    struct: AstModuleInfo

    @property
    def name(self) -> str:
        return (self.struct.name or b"").decode("utf-8", "replace")

    @property
    def description(self) -> str:
        return (self.struct.description or b"").decode("utf-8", "replace")

    @property
    def flags(self) -> int:
        return self.struct.flags


_from_address = AstModuleInfo.from_address  # checked_struct runs for every module the loader opens


def checked_struct(address: int) -> AstModuleInfo:
    """The struct at ``address``, its version and size checked before any other field is read
    (``AbiError`` when they are not this mirror's).

    ``from_address`` maps without copying: only the fields accessed are read,
    so a shorter struct of another layout is never read past its end."""
    head = _from_address(address)
    if head.abi_version == ABI_VERSION and head.struct_size == _HOST_STRUCT_SIZE:  # what layout_mismatch
        return head                                                                 # accepts: two compares
    mismatch = layout_mismatch(head.abi_version, head.struct_size)
    if mismatch and mismatch.field == "abi_version":
        raise AbiError(f"struct ast_module_info has ABI version {mismatch.found}, this loader reads "
                       f"version {ABI_VERSION}; rebuild the module against this module.h")
    if mismatch:
        raise AbiError(f"struct ast_module_info is {mismatch.found} bytes, this loader's mirror of "
                       f"version {ABI_VERSION} is {STRUCT_SIZE}; rebuild the module against this module.h")
    return head


def read_info(address: int) -> Info:
    """``checked_struct``, as a view with its strings decoded."""
    return Info(checked_struct(address))

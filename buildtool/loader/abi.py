"""The ctypes mirror of ``struct ast_module_info`` (include/asterisk/module.h).

The first two fields, ``abi_version`` and ``struct_size`` (uint32 each), sit at
fixed offsets in every version of the layout. ``read_info`` reads only those two
first and maps the whole struct only when both equal this mirror's; anything
else is a refusal (``AbiError``), never a misread of a different layout.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

from buildtool.elfinfo import FLAG_NAMES
from buildtool.fields import FIELDS, LIST

ABI_VERSION = 1
SYMBOL = b"__ast_module_info"

LoadFn = ctypes.CFUNCTYPE(ctypes.c_int)

SUCCESS, DECLINE, SKIP, PRIORITY, FAILURE = 0, 1, 2, 3, -1
RESULT_NAMES = {SUCCESS: "SUCCESS", DECLINE: "DECLINE", SKIP: "SKIP", PRIORITY: "PRIORITY", FAILURE: "FAILURE"}
GLOBAL_SYMBOLS, LOAD_ORDER = sorted(FLAG_NAMES)   # enum ast_module_flags, defined once in elfinfo
SUPPORT_LEVELS = {0: "unknown", 1: "core", 2: "extended", 3: "deprecated", 4: "external"}


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


class AbiError(Exception):
    """The module's info struct has another layout than this loader's mirror."""


@dataclass
class Info:
    """A checked view of a loaded module's struct (valid only while the module is open)."""

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

    def call(self, field: str) -> int | None:
        """Call ``load``/``reload``/``unload``; None when the pointer is NULL."""
        fn = getattr(self.struct, field)
        if not fn:
            return None
        return int(fn())


def read_info(address: int) -> Info:
    """Check the version and size at ``address`` before any other field is read.

    ``from_address`` maps without copying: only the fields accessed are read,
    so a shorter struct of another layout is never read past its end."""
    head = AstModuleInfo.from_address(address)
    if head.abi_version != ABI_VERSION:
        raise AbiError(f"struct ast_module_info has ABI version {head.abi_version}, this loader reads "
                       f"version {ABI_VERSION}; rebuild the module against this module.h")
    if head.struct_size != STRUCT_SIZE:
        raise AbiError(f"struct ast_module_info is {head.struct_size} bytes, this loader's mirror of "
                       f"version {ABI_VERSION} is {STRUCT_SIZE}; rebuild the module against this module.h")
    return Info(head)

"""A module's metadata, read from its ELF file without running any of its code.

``read_meta(path)`` parses the file (``buildtool.elfinfo``): the ``.ast_modinfo``
record and the undefined, non-weak symbols of ``.dynsym``
(what the module needs from the process before its ``load`` may run). No
dlopen, so no constructor runs.

``discover(modules_dir)`` lists ``*.so`` files (name = file stem). The listing
order never matters: callers sort names; ``listing`` may be injected so tests
can prove it. A warm start takes the names from the plan cache instead, while
the directory is provably unchanged (buildtool/loader/plancache.py).
"""

from __future__ import annotations

import os
from collections import namedtuple
from typing import Callable, Iterable

from buildtool import elfinfo
from buildtool.errors import MetaError, RecordError
from buildtool.fields import LIST, RECORD_FIELDS
from buildtool.loader import abi


# The record's lists (buildtool/fields.py), each under its table name: requires, interfaces_required...
_LISTS = tuple(f for f in RECORD_FIELDS if f.kind == LIST)


class ModuleMeta(namedtuple(
        "ModuleMeta", ("name", "path", "description", "flags", "support_level", *(f.name for f in _LISTS),
                       "undefined"),
        defaults=("", "", 0, "", *[()] * len(_LISTS), ()))):
    """A module's metadata (a tuple: cheap to build from the cache, immutable): the record's
    description, flags, support level and lists, and ``undefined``, the strong undefined symbols."""

    __slots__ = ()

    def to_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self._asdict().items()}

    def to_row(self) -> list:
        """Compact positional form for the cache (lists stay JSON arrays; path not stored)."""
        return [list(v) if isinstance(v, tuple) else v for v in self[2:]]

    @classmethod
    def from_row(cls, name: str, path: str, row: list) -> "ModuleMeta":
        desc, flags, level, *lists = row
        return cls(name, path, desc, flags, level, *map(tuple, lists))

    @classmethod
    def from_json(cls, obj: dict) -> "ModuleMeta":
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in obj.items()})


def meta_from_record(record: elfinfo.ModuleRecord, undefined: Iterable[str] = (), name: str = "") -> ModuleMeta:
    return ModuleMeta(
        name=name or record.name,
        path=record.path,
        description=record.fields.get("description", ""),
        flags=record.flags,
        support_level=record.fields.get("support_level", ""),
        undefined=tuple(sorted(set(undefined))),
        **{f.name: record.list(f.record) for f in _LISTS},
    )


def read_meta(path: str, name: str) -> ModuleMeta:
    try:
        found = elfinfo.read_binary(path)
    except RecordError as exc:
        raise MetaError(exc.reason) from None
    if found.record is None:
        raise MetaError(found.record_error or "no module record")
    record, undefined = found.record, found.undefined
    # A module built by Asterisk's own make (asterisk-setup) fills Asterisk's struct, whose size is
    # Asterisk's: it can be planned (--dry-run), and only Asterisk itself runs it.
    asterisk_struct = record.fields.get("struct") == "asterisk"
    if abi.layout_mismatch(record.abi_version, record.struct_size) and not asterisk_struct:  # before it is opened
        raise MetaError(f"its record says struct ast_module_info is {record.struct_size} bytes, this "
                        f"loader's is {abi.STRUCT_SIZE}: built against another module.h (or for another "
                        "architecture); rebuild it")
    if record.name and record.name != name:
        raise MetaError(f"the file is named {name}.so but its record names module {record.name!r}")
    return meta_from_record(record, undefined, name)


Listing = Callable[[str], Iterable[str]]


def _default_listing(modules_dir: str) -> Iterable[str]:
    return os.listdir(modules_dir)  # names only: no object per entry, as scandir makes


def discover(modules_dir: str, listing: Listing | None = None) -> dict[str, str]:
    """Module name -> file path for every ``*.so`` directly in ``modules_dir``, in sorted name order.
    A hidden file is not a module (which also rules out a file named just ``.so``)."""
    names = (listing or _default_listing)(modules_dir)
    return module_paths(modules_dir, sorted([e[:-3] for e in names if e.endswith(".so") and not e.startswith(".")]))


def module_paths(modules_dir: str, stems: Iterable[str]) -> dict[str, str]:
    """Module name -> file path, for module names (file stems) known to be in ``modules_dir``."""
    prefix = os.path.join(modules_dir, "")  # os.path.join(modules_dir, entry) for a plain file name, once
    return {stem: f"{prefix}{stem}.so" for stem in stems}

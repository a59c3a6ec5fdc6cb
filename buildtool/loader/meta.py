"""A module's metadata, read from its ELF file without running any of its code.

``read_meta(path)`` parses the file with pyelftools: the ``.ast_modinfo``
record (buildtool.elfinfo) and the undefined, non-weak symbols of ``.dynsym``
(what the module needs from the process before its ``load`` may run). No
dlopen, so no constructor runs.

``discover(modules_dir)`` lists ``*.so`` files (name = file stem). The listing
order never matters: callers sort names; ``listing`` may be injected so tests
can prove it.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, NamedTuple

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from buildtool import elfinfo


class ModuleMeta(NamedTuple):
    """A module's metadata (a NamedTuple: cheap to build from the cache, immutable)."""

    name: str
    path: str = ""
    description: str = ""
    flags: int = 0
    support_level: str = ""
    requires: tuple[str, ...] = ()
    optional_modules: tuple[str, ...] = ()
    enhances: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    optional_uses: tuple[str, ...] = ()
    builtins: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    undefined: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self._asdict().items()}

    def to_row(self) -> list:
        """Compact positional form for the cache (lists as comma-joined text; path not stored)."""
        return [",".join(v) if isinstance(v, tuple) else v for v in self[2:]]

    @classmethod
    def from_row(cls, name: str, path: str, row: list) -> "ModuleMeta":
        desc, flags, level, *lists = row
        return cls(name, path, desc, flags, level, *(tuple(x.split(",")) if x else () for x in lists))

    @classmethod
    def from_json(cls, obj: dict) -> "ModuleMeta":
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in obj.items()})


_LISTS = ("requires", "optional_modules", "enhances", "provides", "uses", "optional_uses", "builtins",
          "conflicts", "libraries")


def meta_from_record(record: elfinfo.ModuleRecord, undefined: Iterable[str] = (), name: str = "") -> ModuleMeta:
    return ModuleMeta(
        name=name or record.name,
        path=record.path,
        description=record.fields.get("description", ""),
        flags=record.flags,
        support_level=record.fields.get("support_level", ""),
        undefined=tuple(sorted(set(undefined))),
        **{key: record.list(key) for key in _LISTS},
    )


def undefined_symbols(elf: ELFFile) -> tuple[str, ...]:
    """Undefined, non-weak dynamic symbols: each must resolve before the module's code runs."""
    out = set()
    dynsym = elf.get_section_by_name(".dynsym")
    if isinstance(dynsym, SymbolTableSection):
        for sym in dynsym.iter_symbols():
            if sym.name and sym["st_shndx"] == "SHN_UNDEF" and sym["st_info"]["bind"] != "STB_WEAK":
                out.add(sym.name)
    return tuple(sorted(out))


class MetaError(Exception):
    """The file is not a module this loader can read (not ELF, no record, other ABI)."""


def read_meta(path: str, name: str) -> ModuleMeta:
    try:
        with open(path, "rb") as stream:
            record = elfinfo.read_record_from(stream, path)
            stream.seek(0)
            undefined = undefined_symbols(ELFFile(stream))
    except elfinfo.RecordError as exc:
        raise MetaError(str(exc).removeprefix(f"{path}: ")) from None
    except (ELFError, OSError) as exc:
        raise MetaError(f"cannot read: {exc}") from None
    if record.name and record.name != name:
        raise MetaError(f"the file is named {name}.so but its record names module {record.name!r}")
    return meta_from_record(record, undefined, name)


Listing = Callable[[str], Iterable[str]]


def _default_listing(modules_dir: str) -> Iterable[str]:
    with os.scandir(modules_dir) as entries:
        return [e.name for e in entries]


def discover(modules_dir: str, listing: Listing | None = None) -> dict[str, str]:
    """Module name -> file path for every ``*.so`` directly in ``modules_dir``, in sorted name order."""
    names = (listing or _default_listing)(modules_dir)
    found = {}
    for entry in names:
        if entry.endswith(".so") and len(entry) > 3 and not entry.startswith("."):
            found[entry[:-3]] = os.path.join(modules_dir, entry)
    return dict(sorted(found.items()))

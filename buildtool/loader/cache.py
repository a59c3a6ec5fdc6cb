"""Module metadata, read lazily and cached beside the modules (like depmod's modules.dep).

``MetaStore.get(name)`` returns the module's ``ModuleMeta`` (or raises
``MetaError``), reading the ELF file only the first time it is asked for and
only if the cache has no valid entry. A cache entry is valid only for the very
same file: its key is (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns). A
rebuilt module (new size or mtime), a replaced one (``mv``/``install`` gives a
new inode) or one touched in any way (ctime, which nobody can set back) is
read again. The cache file is written atomically, only when it changed and only
when the directory is writable; an unreadable or foreign cache is ignored.

Only metadata is cached, never an error: why a file could not be read depends
on who reads it (a mode-600 module is "Permission denied" for one user, fine
for its owner), so an error found by one user must not be served to another.
What the cache holds is checked before use (``_valid_row``: every field of the
type it must have); an entry that is not exactly right is a miss, and the file
is read again.
"""

from __future__ import annotations

import json
import operator
import os

from buildtool.fsutil import write_if_changed
from buildtool.errors import MetaError
from buildtool.loader.meta import ModuleMeta, read_meta

CACHE_NAME = ".buildtool-modules.cache.json"
# 4: every entry validated (issue 12); 5: rows end with the provided names; 6: a row holds every
# list of the record, in the field table's order (buildtool/fields.py)
CACHE_VERSION = 6


# What identifies one version of a file: also the plan cache's key (buildtool/loader/plancache.py).
key_of = operator.attrgetter("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")


def file_key(st: os.stat_result) -> list[int]:
    return list(key_of(st))


class MetaStore:
    def __init__(self, modules_dir: str, paths: dict[str, str], use_cache: bool = True) -> None:
        self.modules_dir = modules_dir
        self.paths = paths
        self.use_cache = use_cache
        # name -> what get() returns or raises, once known (the loader's start loop reads it directly)
        self.known: dict[str, ModuleMeta | MetaError] = {}
        # name -> [file key, meta row]; read at the first miss (a plan cache hit needs none)
        self._loaded: dict[str, list] | None = None if use_cache else {}
        self._dirty = False
        self.reads = 0  # ELF files actually parsed (for tests and the benchmark)

    @property
    def _entries(self) -> dict[str, list]:
        if self._loaded is None:
            self._loaded = self._load_cache()
        return self._loaded

    def prime(self, metas: dict[str, ModuleMeta]) -> None:
        """Metadata known to be current (the plan cache checked every file's key)."""
        self.known.update(metas)

    @property
    def cache_path(self) -> str:
        return os.path.join(self.modules_dir, CACHE_NAME)

    def _load_cache(self) -> dict[str, list]:
        try:
            with open(self.cache_path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, name: str) -> ModuleMeta:
        """The module's metadata; raises MetaError for a file that is not a readable module."""
        got = self.known.get(name)
        if got is None:
            got = self.known[name] = self._read(name)
        if isinstance(got, MetaError):
            raise got
        return got

    def _read(self, name: str) -> ModuleMeta | MetaError:
        path = self.paths[name]
        try:
            key = file_key(os.stat(path))
        except OSError as exc:
            return MetaError(f"cannot stat: {exc.strerror}")
        entry = self._entries.get(name)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == key and _valid_row(entry[1]):
            return ModuleMeta.from_row(name, path, entry[1])
        self.reads += 1
        try:
            meta = read_meta(path, name)
        except MetaError as exc:
            if self._entries.pop(name, None) is not None:
                self._dirty = True
            return exc  # not cached: see the module's docstring
        if self.use_cache:
            self._entries[name] = [key, meta.to_row()]
            self._dirty = True
        return meta

    def save(self) -> bool:
        """Write the cache if anything new was read; False when it could not (read-only dir)."""
        if not (self.use_cache and self._dirty):
            return False
        live = {n: e for n, e in sorted(self._entries.items()) if n in self.paths}
        text = json.dumps({"version": CACHE_VERSION, "entries": live}, sort_keys=True, separators=(",", ":"))
        try:
            write_if_changed(self.cache_path, text)
        except OSError:
            return False
        self._dirty = False
        return True


_ROW_LISTS = len(ModuleMeta._fields) - 5  # the tuple fields after name, path, description, flags, level


def _valid_row(row) -> bool:
    """A cached ``ModuleMeta.to_row()``, exactly: anything else (hand-edited, another version) is a miss.

    Runs for every module at every start-up, so it is written for speed (~2 us a module): exact type
    checks, and one ``str.join`` to prove every list item is a string.
    """
    if type(row) is not list or len(row) != 3 + _ROW_LISTS:
        return False
    desc, flags, level, *lists = row
    if type(desc) is not str or type(flags) is not int or type(level) is not str:
        return False
    for items in lists:
        if type(items) is not list or "" in items:
            return False
    try:
        "".join(map("".join, lists))  # TypeError unless every item is a str
    except TypeError:
        return False
    return True

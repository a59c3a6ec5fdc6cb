"""Module metadata, read lazily and cached beside the modules (like depmod's modules.dep).

``MetaStore.get(name)`` returns the module's ``ModuleMeta`` (or raises
``MetaError``), reading the ELF file only the first time it is asked for and
only if the cache has no valid entry. A cache entry is valid only for the very
same file: its key is (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns). A
rebuilt module (new size or mtime), a replaced one (``mv``/``install`` gives a
new inode) or one touched in any way (ctime, which nobody can set back) is
read again. The cache file is written atomically, only when it changed and only
when the directory is writable; an unreadable or foreign cache is ignored.
"""

from __future__ import annotations

import json
import os

from buildtool.fsutil import write_if_changed
from buildtool.loader.meta import MetaError, ModuleMeta, read_meta

CACHE_NAME = ".buildtool-modules.cache.json"
CACHE_VERSION = 4  # 4: rows end with the provided names


def file_key(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


class MetaStore:
    def __init__(self, modules_dir: str, paths: dict[str, str], use_cache: bool = True) -> None:
        self.modules_dir = modules_dir
        self.paths = paths
        self.use_cache = use_cache
        self._metas: dict[str, ModuleMeta | MetaError] = {}
        # name -> [file key, meta row or None, error text or None]
        self._entries: dict[str, list] = {}
        self._dirty = False
        self.reads = 0  # ELF files actually parsed (for tests and the benchmark)
        if use_cache:
            self._entries = self._load_cache()

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
        got = self._metas.get(name)
        if got is None:
            got = self._metas[name] = self._read(name)
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
        if isinstance(entry, list) and len(entry) == 3 and entry[0] == key:
            try:
                if entry[2] is not None:
                    return MetaError(entry[2])
                return ModuleMeta.from_row(name, path, entry[1])
            except (TypeError, KeyError, ValueError):
                pass
        self.reads += 1
        try:
            meta = read_meta(path, name)
        except MetaError as exc:
            if self.use_cache:
                self._entries[name] = [key, None, str(exc)]
                self._dirty = True
            return exc
        if self.use_cache:
            self._entries[name] = [key, meta.to_row(), None]
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

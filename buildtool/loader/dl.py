"""libc's dynamic-loading calls through ctypes, with prototypes set.

``ctypes.CDLL`` is not used for modules: its objects are never dlclose()d, so
nothing opened that way could ever be unloaded. Handles are plain integers
(``c_void_p``); ``None`` means NULL.

Flags are the platform's (``os.RTLD_*``). Every failing call raises ``DlError``
carrying ``dlerror()``'s message (or a fixed text when glibc gives none, as
with ``RTLD_NOLOAD`` on a module that is not loaded).
"""

from __future__ import annotations

import ctypes
import os

from buildtool.errors import BuildtoolError

RTLD_LAZY = os.RTLD_LAZY
RTLD_NOW = os.RTLD_NOW
RTLD_LOCAL = os.RTLD_LOCAL
RTLD_GLOBAL = os.RTLD_GLOBAL
RTLD_NOLOAD = os.RTLD_NOLOAD
RTLD_NODELETE = os.RTLD_NODELETE
RTLD_DEFAULT = None  # ((void *) 0) in glibc: search the global scope


class DlError(BuildtoolError, OSError):
    """A dlopen/dlsym/dlclose that failed; ``str()`` is dlerror()'s text."""

    def render(self) -> str:
        return f"buildtool: error: {self}"


def _libdl() -> ctypes.CDLL:
    # glibc >= 2.34 has the dl* functions in libc.so.6; older ones in libdl.so.2.
    # libc itself is never unloaded, so a CDLL of it is harmless.
    for name in ("libc.so.6", "libdl.so.2"):
        try:
            lib = ctypes.CDLL(name)
            lib.dlopen  # noqa: B018 - raises AttributeError when absent
            return lib
        except (OSError, AttributeError):
            continue
    raise DlError("cannot find dlopen in libc.so.6 or libdl.so.2")


class Dl:
    """The four calls, bound once. One instance per loader context (no global state)."""

    def __init__(self) -> None:
        lib = _libdl()
        self._dlopen = lib.dlopen
        self._dlopen.restype = ctypes.c_void_p
        self._dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        self._dlsym = lib.dlsym
        self._dlsym.restype = ctypes.c_void_p
        self._dlsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self._dlclose = lib.dlclose
        self._dlclose.restype = ctypes.c_int
        self._dlclose.argtypes = [ctypes.c_void_p]
        self._dlerror = lib.dlerror
        self._dlerror.restype = ctypes.c_char_p
        self._dlerror.argtypes = []
        # The C functions themselves, for the loader's start loop (buildtool/loader/runtime.py), which
        # runs once per module: it passes an encoded path and checks the result itself (``open_failure``),
        # saving the two Python calls around each.
        self.raw_open = self._dlopen
        self.raw_sym = self._dlsym

    def error(self) -> str | None:
        msg = self._dlerror()
        return msg.decode("utf-8", "replace") if msg else None

    def open(self, path: str | None, mode: int) -> int:
        """dlopen(); raises DlError. ``path`` None opens the main program."""
        handle = self._dlopen(os.fsencode(path) if path is not None else None, mode)
        if not handle:
            raise self.open_failure(path)
        return handle

    def open_failure(self, path: str | None) -> DlError:
        """The error of a dlopen() of ``path`` that just returned NULL."""
        return DlError(self.error() or f"{path}: dlopen failed (not loaded)")

    def try_open(self, path: str, mode: int) -> int | None:
        """dlopen() that returns None instead of raising (for RTLD_NOLOAD probes)."""
        self._dlerror()
        handle = self._dlopen(os.fsencode(path), mode)
        if not handle:
            self._dlerror()
            return None
        return handle

    def sym(self, handle: int | None, name: str | bytes) -> int | None:
        """dlsym(); the address or None. ``handle`` None is RTLD_DEFAULT (global scope)."""
        return self._dlsym(handle, name if isinstance(name, bytes) else name.encode())

    def close(self, handle: int) -> None:
        self._dlerror()
        if self._dlclose(handle) != 0:
            raise DlError(self.error() or "dlclose failed")

    def is_loaded(self, path: str) -> bool:
        """Whether ``path`` is still loaded (RTLD_NOLOAD probe; the probe's handle is closed)."""
        handle = self.try_open(path, RTLD_LAZY | RTLD_NOLOAD)
        if handle is None:
            return False
        self.close(handle)
        return True


def mapped_files(pid: str = "self") -> set[str]:
    """Real paths of the files mapped into a process, from /proc/PID/maps."""
    out: set[str] = set()
    with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                out.add(parts[5].rstrip("\n").removesuffix(" (deleted)"))
    return out

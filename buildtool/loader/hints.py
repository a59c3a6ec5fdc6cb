"""What to do next, for the loader's refusals: who defines a missing symbol, which
modules provide an interface, which module name was meant.

Only a refusal pays for these (the binaries are read, without loading them, when
a message needs them), so the loader's normal path is unchanged.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable, Iterable, Mapping

from buildtool.suggest import did_you_mean

CORE_LIBRARY = "libastcore.so"


@lru_cache(maxsize=None)
def _defined(path: str, mtime: float) -> frozenset[str]:
    from buildtool.elfinfo import read_binary
    from buildtool.errors import RecordError

    try:
        return frozenset(read_binary(path).defined)
    except (RecordError, OSError):
        return frozenset()


def defined_by(path: str) -> frozenset[str]:
    try:
        return _defined(path, os.stat(path).st_mtime)
    except OSError:
        return frozenset()


def core_candidates(modules_dir: str) -> list[str]:
    """Where the core library is, seen from a module directory: installed
    (<libdir>/asterisk/modules -> <libdir>/libastcore.so) or a build directory
    (build/modules -> build/core/libastcore.so)."""
    here = os.path.abspath(modules_dir)
    found = []
    for candidate in (os.path.join(here, "..", "..", CORE_LIBRARY), os.path.join(here, "..", "core", CORE_LIBRARY)):
        candidate = os.path.normpath(candidate)
        if os.path.isfile(candidate):
            found.append(candidate)
    return found


def missing_symbols(name: str, missing: Iterable[str], modules_dir: str, paths: Mapping[str, str],
                    preloaded: Iterable[str]) -> str:
    """The sentences after "undefined symbol X": which module or library defines each
    missing symbol, and what to add (a MODULEINFO line, or --preload-library)."""
    missing = list(missing)
    preloaded = {os.path.realpath(p) for p in preloaded}
    out = []
    by_module: dict[str, list[str]] = {}
    by_core: dict[str, list[str]] = {}
    for symbol in missing:
        owner = next((other for other, path in sorted(paths.items())
                      if other != name and symbol in defined_by(path)), None)
        if owner is not None:
            by_module.setdefault(owner, []).append(symbol)
            continue
        core = next((c for c in core_candidates(modules_dir)
                     if os.path.realpath(c) not in preloaded and symbol in defined_by(c)), None)
        if core is not None:
            by_core.setdefault(core, []).append(symbol)
    for owner, symbols in sorted(by_module.items()):
        out.append(f"{', '.join(symbols)} {'is' if len(symbols) == 1 else 'are'} defined by {owner}, which {name} "
                   f"does not require: add <depend>{owner}</depend> to its MODULEINFO")
    for core, symbols in sorted(by_core.items()):
        out.append(f"{', '.join(symbols)} {'is' if len(symbols) == 1 else 'are'} defined by the core library "
                   f"{core}, which is not loaded: pass --preload-library {core}")
    return "; ".join(out)


def interface_providers(iface: str, names: Iterable[str], meta: Callable[[str], object], autoload: bool) -> str:
    """Why no provider of ``iface`` is loaded, and what would load one."""
    from buildtool.errors import MetaError

    providers = []
    for other in sorted(names):
        try:
            if iface in meta(other).provides:
                providers.append(other)
        except MetaError:  # an unreadable module provides nothing; the loader reports it on its own
            continue
    if not providers:
        return f"no module in the directory provides {iface}"
    listed = ", ".join(providers)
    if autoload:
        return f"its providers here ({listed}) were not loaded; see their own reasons"
    # With autoload=no, a module that requires the interface pulls in the preferred provider
    # (docs/loader.md, "Preferred providers"), unless modules.conf keeps it out.
    return (f"its providers here are {listed}, none of them loaded (see their own reasons): with autoload=no "
            f"only the preferred provider is pulled in, unless noload keeps it out; name the one to use with "
            f"'prefer => {providers[0]}.so' or 'load => {providers[0]}.so' in modules.conf")


def module_name(name: str, known: Iterable[str]) -> str:
    return did_you_mean(name, known)

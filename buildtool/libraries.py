"""A module's MODULEINFO libraries as pkg-config packages and link flags (out-of-tree builds).

In tree, modules/meson.build turns each library into ``dependency()``. Out of
tree, ``buildtool cflags --libs`` / ``--dependencies`` do the same from the
module's own MODULEINFO, so the author never writes the list twice: a library
is the catalogue's pkg-config name (``crypto`` -> ``libcrypto``), or its own
name when the catalogue does not know it. A required library pkg-config cannot
find is an error at the MODULEINFO line that names it; an optional one is left
out (and its ``HAVE_<LIB>`` is not defined).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass

from buildtool.catalog import Catalog
from buildtool.diagnostics import Diagnostic, error
from buildtool.model import Module


@dataclass(frozen=True)
class Library:
    name: str          # as MODULEINFO writes it
    package: str       # pkg-config / meson dependency() name
    required: bool
    found: bool


def package_name(name: str, catalog: Catalog) -> str:
    entry = catalog.library(name)
    return entry.dependency if entry else name


def _exists(package: str) -> bool:
    if not shutil.which("pkg-config"):
        return False
    return subprocess.run(["pkg-config", "--exists", package], capture_output=True, check=False).returncode == 0


def libraries(module: Module, catalog: Catalog) -> list[Library]:
    out = []
    for names, required in ((module.libraries_required, True), (module.libraries_optional, False)):
        for name in names:
            package = package_name(name, catalog)
            out.append(Library(name, package, required, _exists(package)))
    return out


def _where(module: Module, source: bytes, name: str) -> tuple[int, int]:
    """Line and column of the MODULEINFO element naming ``name`` (the block's line if not found)."""
    text = source.decode("utf-8", "replace")
    match = re.search(r"<(?:depend|use)\b[^>]*>\s*(" + re.escape(name) + r")\s*</", text)
    if not match:
        return max(module.line, 1), 1
    start = match.start(1)
    line = text.count("\n", 0, start) + 1
    return line, start - (text.rfind("\n", 0, start) + 1) + 1


def missing(module: Module, source: bytes, found: list[Library]) -> list[Diagnostic]:
    out = []
    for lib in found:
        if lib.required and not lib.found:
            line, col = _where(module, source, lib.name)
            how = "pkg-config is not installed" if not shutil.which("pkg-config") else \
                f"pkg-config does not know '{lib.package}'"
            alias = f" (pkg-config package {lib.package}, from the catalogue)" if lib.package != lib.name else ""
            out.append(error(module.source, line, col, "library-unavailable",
                             f"{module.name} requires library {lib.name}{alias}, which is not found: {how}; install "
                             f"its development package (or extend PKG_CONFIG_PATH), or fix the name in MODULEINFO",
                             module=module.name, data={"library": lib.name, "package": lib.package}))
    return out


def _pkg_config(what: str, found: list[Library]) -> list[str]:
    packages = [lib.package for lib in found if lib.found]
    if not packages:
        return []
    result = subprocess.run(["pkg-config", what, *packages], capture_output=True, text=True, check=False)
    return shlex.split(result.stdout)


def link_flags(found: list[Library]) -> list[str]:
    return _pkg_config("--libs", found)


def compile_flags(found: list[Library]) -> list[str]:
    return _pkg_config("--cflags", found)


def have_flags(found: list[Library]) -> list[str]:
    """``-DHAVE_<LIB>=1`` for each library that is there, as the in-tree build defines it."""
    return [f"-DHAVE_{re.sub(r'[^A-Z0-9]', '_', lib.name.upper())}=1" for lib in found if lib.found]

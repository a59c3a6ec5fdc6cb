"""Symbols against declarations, the way the kernel's modpost derives dependencies from symbols.

Every strong undefined dynamic symbol of a built module must be defined by:

1. a module it requires, directly or through what that module requires, or a
   provider of an interface it uses (and what that provider requires);
2. the core: the files given with ``--core`` (the core binary or library),
   libc and the dynamic loader of the binary's architecture;
3. a library it names in MODULEINFO (``<depend>``/``<use type="external">``),
   found through the binary's ``DT_NEEDED`` entries and read for its dynamic
   symbols; system libraries (libc, libm, libpthread, libgcc_s, libstdc++,
   ...) count as the core.

Otherwise: defined by a module it only uses optionally -> ``optional-module-symbol``;
by another module -> ``undeclared-dependency`` naming the symbol, the module and
the MODULEINFO line to add; by a ``DT_NEEDED`` library MODULEINFO does not name ->
``undeclared-library``; by nothing -> ``unresolved-symbol`` (a note only when no
``--core`` was given, since the core's API cannot be known then). A required
module none of whose symbols are used is a note (``unused-dependency``): it may
be needed for what it registers at run time, not for its symbols.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

from buildtool.catalog import Catalog
from buildtool.check import at_module
from buildtool.diagnostics import Diagnostic, error, note, warning
from buildtool.elfinfo import Binary, read_binary
from buildtool.errors import RecordError
from buildtool.model import Module, Tree

SYSTEM_LIBRARY = re.compile(
    r"^(libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libgcc_s|libstdc\+\+|libatomic"
    r"|ld-linux[-\w.]*|ld64|ld)\.so(\.|$)")

# Where a target's system libraries live on a Debian-like host (multiarch and cross packages).
_TRIPLETS = {
    "EM_X86_64": ("x86_64-linux-gnu", ("ld-linux-x86-64.so.2",), ("/lib64", "/usr/lib64")),
    "EM_AARCH64": ("aarch64-linux-gnu", ("ld-linux-aarch64.so.1",), ()),
    "EM_386": ("i386-linux-gnu", ("ld-linux.so.2",), ("/usr/i686-linux-gnu/lib",)),
    "EM_ARM": ("arm-linux-gnueabihf", ("ld-linux-armhf.so.3", "ld-linux.so.3"), ("/usr/arm-linux-gnueabi/lib",)),
    "EM_RISCV": ("riscv64-linux-gnu", ("ld-linux-riscv64-lp64d.so.1",), ()),
    "EM_PPC64": ("powerpc64le-linux-gnu", ("ld64.so.2",), ()),
    "EM_S390": ("s390x-linux-gnu", ("ld64.so.1",), ()),
}


def search_dirs(machine: str, sysroot: str | None = None) -> list[str]:
    triplet, _, extra = _TRIPLETS.get(machine, ("", (), ()))
    dirs = []
    if triplet:
        dirs += [f"/lib/{triplet}", f"/usr/lib/{triplet}", f"/usr/{triplet}/lib"]
    dirs += list(extra) + ["/lib", "/usr/lib", "/usr/local/lib"]
    if sysroot:
        return [os.path.join(sysroot, d.lstrip("/")) for d in dirs]
    return dirs


@dataclass
class SymbolContext:
    catalog: Catalog
    core_files: list[str] = field(default_factory=list)
    library_path: list[str] = field(default_factory=list)
    sysroot: str | None = None
    _libs: dict[tuple[str, str], Binary | None] = field(default_factory=dict)
    _core: dict[str, frozenset[str]] = field(default_factory=dict)
    core_given: frozenset[str] = frozenset()
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def load_core(self) -> None:
        """The symbols of each --core file and of the shared libraries it needs: a module
        is loaded into the core's process, whose global scope holds them all (Asterisk's
        main/asterisk brings libm, libuuid, ... that modules call without naming them)."""
        names: set[str] = set()
        for path in self.core_files:
            try:
                core = read_binary(path)
            except RecordError as exc:
                self.diagnostics.append(error(path, 0, 0, "io-error", f"--core: {exc}"))
                continue
            names |= core.defined
            pending, seen = list(core.needed), set()
            while pending:
                soname = pending.pop()
                if soname in seen:
                    continue
                seen.add(soname)
                lib = self.find_library(soname, core)
                if lib is not None:
                    names |= lib.defined
                    pending.extend(lib.needed)
        self.core_given = frozenset(names)

    def find_library(self, soname: str, binary: Binary) -> Binary | None:
        key = (binary.machine, soname, binary.runpath and os.path.dirname(binary.path))
        if key in self._libs:
            return self._libs[key]
        origin = os.path.dirname(os.path.abspath(binary.path))
        dirs = [p.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for p in binary.runpath]
        dirs += self.library_path + search_dirs(binary.machine, self.sysroot)
        found = None
        for directory in dirs:
            candidate = os.path.join(directory, soname)
            if os.path.isfile(candidate):
                try:
                    lib = read_binary(candidate)
                except RecordError:
                    continue
                if lib.machine == binary.machine and lib.elfclass == binary.elfclass:
                    found = lib
                    break
        self._libs[key] = found
        return found

    def core_for(self, binary: Binary) -> frozenset[str]:
        """--core symbols plus libc and the dynamic loader of ``binary``'s architecture."""
        if binary.machine not in self._core:
            names = set(self.core_given)
            _, loaders, _ = _TRIPLETS.get(binary.machine, ("", (), ()))
            for soname in ("libc.so.6",) + loaders:
                lib = self.find_library(soname, Binary(binary.path, binary.machine, binary.elfclass,
                                                       binary.little_endian))
                if lib is not None:
                    names |= lib.defined
            self._core[binary.machine] = frozenset(names)
        return self._core[binary.machine]


@lru_cache(maxsize=None)
def _pkg_config_libs(dependency: str) -> tuple[str, ...]:
    if not shutil.which("pkg-config"):
        return ()
    try:
        out = subprocess.run(["pkg-config", "--libs-only-l", dependency], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(flag[2:] for flag in out.stdout.split() if flag.startswith("-l"))


def library_stems(name: str, catalog: Catalog) -> set[str]:
    """The soname stems (``libz``) a MODULEINFO library name may stand for."""
    lib = catalog.library(name)
    names = {name.lower()}
    if lib is not None:
        names.add(lib.dependency.lower())
        names |= {n.lower() for n in _pkg_config_libs(lib.dependency)}
    stems = set()
    for n in names:
        stems.add(n if n.startswith("lib") else "lib" + n)
    return stems


def _stem(soname: str) -> str:
    return soname.split(".so")[0].lower()


def closure(tree: Tree, start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        module = tree.modules.get(name)
        if module is not None:
            todo.extend(module.requires)
    return seen


def _more(symbols: list[str]) -> str:
    return symbols[0] + (f" (and {len(symbols) - 1} more)" if len(symbols) > 1 else "")


def check(tree: Tree, binaries: Mapping[str, Binary], context: SymbolContext,
          only: set[str] | None = None) -> list[Diagnostic]:
    """Check each binary's symbols (those named in ``only``, when given: the others,
    installed modules, only define symbols)."""
    findings: list[Diagnostic] = list(context.diagnostics)
    definers: dict[str, list[str]] = {}
    for name in sorted(binaries):
        for symbol in binaries[name].defined:
            definers.setdefault(symbol, []).append(name)
    for name in sorted(binaries):
        module = tree.modules.get(name)
        if module is None or (only is not None and name not in only):
            continue
        findings.extend(_check_module(tree, module, binaries[name], definers, context, set(binaries)))
    return findings


def _check_module(tree: Tree, module: Module, binary: Binary, definers: Mapping[str, list[str]],
                  context: SymbolContext, built: set[str]) -> list[Diagnostic]:
    name = module.name
    at = at_module(module)
    providers = {p for iface in module.interfaces_required + module.interfaces_optional
                 for p in tree.providers(iface)}
    allowed = closure(tree, set(module.requires) | providers) - {name}
    optional = closure(tree, module.optional_modules) - allowed - {name}
    core = context.core_for(binary)
    declared_stems = set()
    for lib in module.libraries_required + module.libraries_optional:
        declared_stems |= library_stems(lib, context.catalog)
    libraries: list[tuple[str, Binary, bool]] = []  # (soname, lib, acceptable)
    missing_libs: list[str] = []
    for soname in binary.needed:
        lib = context.find_library(soname, binary)
        if lib is None:
            missing_libs.append(soname)
            continue
        acceptable = bool(SYSTEM_LIBRARY.match(soname)) or _stem(soname) in declared_stems
        libraries.append((soname, lib, acceptable))

    used_from: set[str] = set()
    undeclared: dict[str, list[str]] = {}
    optional_use: dict[str, list[str]] = {}
    undeclared_lib: dict[str, list[str]] = {}
    unresolved: list[str] = []
    for symbol in sorted(binary.undefined):
        owners = [m for m in definers.get(symbol, ()) if m != name]
        mine = [m for m in owners if m in allowed]
        if mine:
            used_from.update(mine)
            continue
        if symbol in core:
            continue
        in_libs = [(soname, ok) for soname, lib, ok in libraries if symbol in lib.defined]
        if any(ok for _, ok in in_libs):
            continue
        if in_libs:
            undeclared_lib.setdefault(in_libs[0][0], []).append(symbol)
            continue
        opt = [m for m in owners if m in optional]
        if opt:
            optional_use.setdefault(opt[0], []).append(symbol)
            continue
        if owners:
            undeclared.setdefault(owners[0], []).append(symbol)
            continue
        unresolved.append(symbol)

    findings: list[Diagnostic] = []
    for other, symbols in sorted(undeclared.items()):
        line = f"<depend>{other}</depend>"
        findings.append(error(*at, "undeclared-dependency",
                              f"{name} uses {_more(symbols)}, defined by {other}, which it does not require: "
                              f"add {line} to its MODULEINFO", module=name,
                              data={"symbol": symbols[0], "symbols": symbols, "defined_by": other,
                                    "also_defined_by": [m for m in definers[symbols[0]] if m not in (other, name)],
                                    "add": line}))
    for other, symbols in sorted(optional_use.items()):
        findings.append(warning(*at, "optional-module-symbol",
                                f"{name} needs {_more(symbols)} of {other}, which it only uses optionally; "
                                f"without {other} it cannot be linked: make it <depend>{other}</depend> "
                                "or reference the symbols weakly", module=name,
                                data={"symbol": symbols[0], "symbols": symbols, "defined_by": other}))
    for soname, symbols in sorted(undeclared_lib.items()):
        names = sorted(lib.name for lib in context.catalog.libraries.values()
                       if _stem(soname) in library_stems(lib.name, context.catalog))
        hint = (f"add <depend>{names[0]}</depend> to its MODULEINFO" if names
                else "declare the library in the catalogue and depend on it in MODULEINFO")
        findings.append(warning(*at, "undeclared-library",
                                f"{name} uses {_more(symbols)} from {soname}, a library its MODULEINFO does not "
                                f"name: {hint}", module=name,
                                data={"symbol": symbols[0], "symbols": symbols, "library": soname,
                                      "add": f"<depend>{names[0]}</depend>" if names else None}))
    if missing_libs:
        findings.append(note(*at, "library-not-found",
                             f"{name} needs {', '.join(missing_libs)}, not found (use --library-path or --sysroot); "
                             "symbols they may define are not checked", module=name,
                             data={"libraries": missing_libs}))
    if unresolved and not missing_libs:
        make = error if context.core_files else note
        tail = "" if context.core_files else " (no --core given: the core's symbols are unknown)"
        findings.append(make(*at, "unresolved-symbol",
                             f"{name} uses {_more(unresolved)}, which no required module, declared library or the "
                             f"core defines{tail}", module=name,
                             data={"symbol": unresolved[0], "symbols": unresolved}))
    for dep in module.requires:
        if dep in built and dep not in used_from and dep != name:
            findings.append(note(*at, "unused-dependency",
                                 f"{name} requires {dep} but uses none of its symbols "
                                 "(fine if it needs what {dep} registers at run time)".replace("{dep}", dep),
                                 module=name, data={"requires": dep}))
    return findings

"""Classify every name of every block and build the normalized ``Tree``.

A name is, in this order: a module of the scanned set, a core built-in, an
external library, a build option, an interface (provided by a scanned module or
declared in the catalogue), or a platform (only meaningful in ``<conflict>``).
``type=`` on the tag forces the kind. A required name that is none of these is
an error; an optional or conflicting one a warning, since nothing is lost if it
never exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from buildtool.catalog import Catalog
from buildtool.diagnostics import Diagnostic, error, warning, sorted_unique
from buildtool.fields import FIELDS, LIST
from buildtool.model import EXCLUSIVE_KINDS, Module, Tree
from buildtool.moduleinfo import Declarations, NameRef, Position


@dataclass
class ScannedModule:
    name: str
    source: str
    category: str
    decl: Declarations | None  # None: the source has no (valid) block
    displayname: str = ""
    names: tuple = ()          # xmldoc.ProvidedName: what its DOCUMENTATION says it provides
    names_from: str = ""       # the file the names were read from, when it is not ``source``


@dataclass(frozen=True)
class TreeNames:
    """What resolving one module needs of the rest of its tree: every module name, and every
    interface some module ``<provide>``s (the meson build's per-module step, buildtool/modstep.py)."""

    modules: frozenset[str]
    provided: frozenset[str]


# The lists a MODULEINFO block declares, one set each while a module is resolved (the field table's).
_LISTS = tuple(f.name for f in FIELDS if f.kind == LIST and f.tag)


class _Resolver:
    def __init__(self, scanned: list[ScannedModule], catalog: Catalog, installed: Tree | None = None,
                 others: TreeNames | None = None):
        self.scanned = scanned
        self.catalog = catalog
        self.installed = installed.modules if installed else {}
        self.modules = {m.name for m in scanned} | set(self.installed)
        self.provided = {ref.name for m in scanned if m.decl for ref in m.decl.names if ref.tag == "provide"}
        self.provided |= {iface for m in self.installed.values() for iface in m.provides}
        if others is not None:
            self.modules |= others.modules
            self.provided |= others.provided
        self.interfaces = self.provided | catalog.interfaces
        self.diagnostics: list[Diagnostic] = []
        # (module, required module) -> where the requirement is written, for cycle reports.
        self.edge_at: dict[tuple[str, str], Position] = {}

    def _suggest(self, name: str, modules_only: bool = False) -> str:
        # Memoized: a real tree repeats one unknown name in many blocks (a missing
        # catalogue leaves TEST_FRAMEWORK unknown in ~100), and each lookup
        # compares it with every known name.
        memo = self.__dict__.setdefault("_suggestions", {})
        if (name, modules_only) not in memo:
            memo[(name, modules_only)] = self._suggest_uncached(name, modules_only)
        return memo[(name, modules_only)]

    def _suggest_uncached(self, name: str, modules_only: bool) -> str:
        from buildtool.suggest import did_you_mean

        pool = self.modules if modules_only else self.modules | self.catalog.known_names() | self.interfaces
        return did_you_mean(name, pool)

    def _kind(self, ref: NameRef) -> str | None:
        if ref.type == "module":
            return "module" if ref.name in self.modules else None
        if ref.type == "external":
            return "library"
        if ref.type == "interface":
            return "interface" if ref.name in self.interfaces else None
        if ref.type == "option":
            return "option" if ref.name in self.catalog.options else None
        if ref.type == "builtin":
            return "builtin" if ref.name in self.catalog.builtins else None
        if ref.name in self.modules:
            return "module"
        if ref.name in self.catalog.builtins:
            return "builtin"
        if self.catalog.library(ref.name):
            return "library"
        if ref.name in self.catalog.options:
            return "option"
        if ref.name in self.interfaces:
            return "interface"
        if ref.name in self.catalog.platforms:
            return "platform"
        return None

    def _unknown(self, module: str, ref: NameRef) -> None:
        required = ref.tag == "depend"
        if ref.type:
            what = {"module": "module", "interface": "interface", "option": "build option",
                    "builtin": "core built-in"}[ref.type]
            code = "missing-module" if ref.type == "module" else "unknown-name"
            text = f"<{ref.tag} type=\"{ref.type}\">{ref.name}</{ref.tag}>: no {what} '{ref.name}' is known"
        else:
            code = "unknown-name"
            text = (f"<{ref.tag}>{ref.name}</{ref.tag}>: '{ref.name}' is not a module of the scanned tree, "
                    "a core built-in, a library, a build option or an interface")
        text += self._suggest(ref.name, modules_only=ref.type == "module")
        make = error if required else warning
        self.diagnostics.append(make(ref.at.path, ref.at.line, ref.at.column, code, text, module=module))

    def module(self, scanned: ScannedModule) -> Module:
        decl = scanned.decl
        names = tuple(n.key for n in scanned.names)
        if decl is None:
            return Module(name=scanned.name, source=scanned.source, line=0, category=scanned.category,
                          displayname=scanned.displayname, names=names)
        got = SimpleNamespace(**{name: set() for name in _LISTS})
        for ref in decl.names:
            if ref.tag == "provide":
                got.provides.add(ref.name)
                continue
            kind = self._kind(ref)
            if ref.tag == "conflict":
                if kind is None:
                    self._unknown(scanned.name, ref)
                got.conflicts.add(ref.name)
                continue
            if ref.tag == "enhance":
                if kind != "module":
                    self.diagnostics.append(warning(
                        ref.at.path, ref.at.line, ref.at.column, "unknown-name",
                        f"<enhance>{ref.name}</enhance>: '{ref.name}' is not a module of the scanned tree"
                        + self._suggest(ref.name, modules_only=True), module=scanned.name))
                got.enhances.add(ref.name)
                continue
            required = ref.tag == "depend"
            if kind is None:
                self._unknown(scanned.name, ref)
                continue
            if kind == "module":
                if ref.name == scanned.name:
                    self.diagnostics.append(error(ref.at.path, ref.at.line, ref.at.column, "self-dependency",
                                                  f"module '{ref.name}' names itself in <{ref.tag}>",
                                                  module=scanned.name))
                    continue
                if required:
                    got.requires.add(ref.name)
                    self.edge_at.setdefault((scanned.name, ref.name), ref.at)
                else:
                    got.optional_modules.add(ref.name)
            elif kind == "library":
                lib = self.catalog.library(ref.name)
                name = lib.name if lib else ref.name
                (got.libraries_required if required else got.libraries_optional).add(name)
            elif kind == "option":
                (got.options_required if required else got.options_optional).add(ref.name)
            elif kind == "builtin":
                # A core built-in is compiled into the core: it never gates the build, so
                # required or not it is always there to build against. At load time it is
                # required when written <depend>, or <use type="builtin"> (the form an
                # Asterisk tree needs: its menuselect takes any <depend> name it cannot find
                # for a missing build dependency and drops the module). An untyped
                # <use>cdr</use> stays optional, which for a built-in records nothing.
                if required or ref.type == "builtin":
                    got.builtins.add(ref.name)
            elif kind == "interface":
                (got.interfaces_required if required else got.interfaces_optional).add(ref.name)
            elif kind == "platform":
                self.diagnostics.append(warning(ref.at.path, ref.at.line, ref.at.column, "platform-dependency",
                                                f"<{ref.tag}>{ref.name}</{ref.tag}> names a platform; "
                                                "platforms are only meaningful in <conflict>", module=scanned.name))
        # A module both required and optional is required.
        got.optional_modules -= got.requires
        got.libraries_optional -= got.libraries_required
        got.options_optional -= got.options_required
        got.interfaces_optional -= got.interfaces_required
        scalars = {k: v for k, (v, _) in decl.scalars.items()}
        if "replacement" in decl.scalars:
            value, at = decl.scalars["replacement"]
            if value not in self.modules:
                self.diagnostics.append(warning(at.path, at.line, at.column, "unknown-name",
                                                f"<replacement>{value}</replacement> is not a module of the scanned tree"
                                                + self._suggest(value, modules_only=True), module=scanned.name))
        return Module(
            name=scanned.name,
            source=scanned.source,
            line=decl.at.line,
            category=scanned.category,
            displayname=scanned.displayname,
            support_level=scalars.get("support_level"),
            default_enabled=scalars.get("defaultenabled", "yes") == "yes",
            **{name: tuple(getattr(got, name)) for name in _LISTS},
            deprecated_in=scalars.get("deprecated_in"),
            removed_in=scalars.get("removed_in"),
            replacement=scalars.get("replacement"),
            names=names,
        )

    def claims(self, modules: dict[str, Module]) -> None:
        """Two modules providing one application or function: the dialplan could run either, so it is
        an error, at each later claim (in module name order). Not between variants built from one source
        file (Asterisk's app_voicemail_imap.c is a link to app_voicemail.c), nor between modules where one
        declares a <conflict> with the other: they are never loaded together."""
        import os

        first: dict[str, ScannedModule] = {}
        for item in sorted(self.scanned, key=lambda s: s.name):
            for provided in item.names:
                if provided.kind not in EXCLUSIVE_KINDS:
                    continue
                owner = first.setdefault(provided.key, item)
                if owner is item:
                    continue
                if os.path.realpath(owner.names_from or owner.source) == os.path.realpath(item.names_from
                                                                                           or item.source):
                    continue
                if owner.name in modules[item.name].conflicts or item.name in modules[owner.name].conflicts:
                    continue
                # The other claim by file name and line only: the message may go into a generated
                # header (an #error at this element), which must not hold absolute paths.
                other = next(n for n in owner.names if n.key == provided.key)
                self.diagnostics.append(error(
                    item.names_from or item.source, provided.line, provided.column, "provided-name-duplicate",
                    f"{provided.kind} {provided.name} is also provided by {owner.name} "
                    f"({os.path.basename(owner.names_from or owner.source)}:{other.line}); two "
                    "modules may not provide one application or function (declare <conflict> if they are "
                    "alternatives)", module=item.name, data={"name": provided.key, "modules": [owner.name, item.name]}))

    def cycles(self, modules: dict[str, Module]) -> None:
        for cycle in required_cycles({**self.installed, **modules}):
            # Reported on the first scanned module of the cycle (an installed one may come first by name).
            scanned = [i for i, name in enumerate(cycle[:-1]) if name in modules]
            if not scanned:
                continue  # among installed modules only: not this tree's to report
            at_first = scanned[0]
            cycle = cycle[at_first:-1] + cycle[:at_first] + [cycle[at_first]]
            first, second = cycle[0], cycle[1]
            at = self.edge_at.get((first, second))
            path = " -> ".join(cycle)
            module = modules[first]
            line, col = (at.line, at.column) if at else (module.line, 1)
            self.diagnostics.append(error(module.source, line, col, "dependency-cycle",
                                          f"required dependency cycle: {path}", module=first,
                                          data={"cycle": list(cycle)}))


def is_builtin(name: str, tree: Tree, catalog: Catalog) -> bool:
    """A name a hand-written ``.requires`` may hold that is a core built-in: declared in the
    catalogue's ``builtins``, or no module of the tree and no other known name, and without the
    ``_`` every module name has (``cdr``, ``http``). ``check --hand-written`` and ``migrate`` use it."""
    if name in catalog.builtins:
        return True
    if name in tree.modules or "_" in name:
        return False
    return not (catalog.library(name) or name in catalog.options or name in catalog.interfaces
                or name in catalog.platforms)


def required_cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Each required cycle as a closed path ``[a, b, ..., a]`` (a requires b ...), starting at its smallest name."""
    from buildtool import graphs  # here: resolving one module (the build's per-module step) needs no graph

    return [cycle.path for cycle in graphs.cycles({name: m.requires for name, m in modules.items()})]


def resolve_one(scanned: ScannedModule, catalog: Catalog, others: TreeNames) -> tuple[Module, list[Diagnostic]]:
    """One module of a tree whose other modules are known only by ``others``: its data and its own
    diagnostics, as ``resolve`` of the whole tree gives them when no cross-module check (cycles,
    duplicate provided names) fails; the build runs those at configure time and re-configures when
    an edit changes what they read (buildtool/modstep.py)."""
    resolver = _Resolver([scanned], catalog, others=others)
    return resolver.module(scanned), resolver.diagnostics


def resolve(scanned: list[ScannedModule], catalog: Catalog,
            diagnostics: list[Diagnostic] | None = None, installed: Tree | None = None) -> Tree:
    """The tree of ``scanned``; names may also refer to ``installed`` modules (out-of-tree builds)."""
    resolver = _Resolver(scanned, catalog, installed)
    modules: dict[str, Module] = {}
    for item in sorted(scanned, key=lambda s: s.name):
        modules[item.name] = resolver.module(item)
    resolver.cycles(modules)
    if any(item.names for item in scanned):
        resolver.claims(modules)
    return Tree(modules=modules, diagnostics=tuple(sorted_unique(list(diagnostics or []) + resolver.diagnostics)))

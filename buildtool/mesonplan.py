"""The configure-time plan that the top-level ``meson.build`` reads.

meson has no JSON parser, so the plan is plain text, one record per line,
fields separated by ``|`` and lists by single spaces (MODULEINFO names never
contain either). Records, in this order:

``library|NAME|DEPENDENCY``
    every external library any module names (required or optional), with the
    meson ``dependency()`` / pkg-config name from the catalogue (the name
    itself when the catalogue does not list it).

``columns|name|source|default_enabled|requires|...|platform_conflicts``
    first: the names of the module records' fields (``MODULE_FIELDS``), so
    meson reads a field by its name (``m[col['requires']]``), never by a
    position written twice.

``interface|NAME|CATALOGUED|PROVIDERS``
    every interface a module requires; ``CATALOGUED`` is ``yes`` when the
    catalogue declares it (provided outside the tree, always available);
    ``PROVIDERS`` the modules of the tree that ``<provide>`` it.

``module|NAME|SOURCE|DEFAULT_ENABLED|<the plan's lists>|PLATFORM_CONFLICTS``
    one per module, in dependency order: every required module and every
    provider of a required interface comes before the module
    (``graphs.topological_order``, ties broken by name, so the order is the
    same on every run).
    ``SOURCE`` is the file name inside the module directory;
    ``DEFAULT_ENABLED`` is ``yes``/``no`` (``<defaultenabled>``); then one
    field per list of the field table (``buildtool/fields.py``) that decides
    whether or how a module is built (``Field.plan``), named as the table
    names it (``requires`` and ``conflicts`` keep only modules of the tree;
    other lists are not in the plan, so editing them never re-configures);
    ``PLATFORM_CONFLICTS``
    are conflicting platforms as meson's ``host_machine.system()`` names.

Which modules are built, and why not, is decided here too (``decide``), once
meson has looked the libraries up: ``buildtool meson-plan --decide PLAN``
gets the facts only meson knows (libraries found, options, the host system)
and prints, in plan order, ``built|NAME`` or ``disabled|NAME|REASON``, the
reason naming the chain ("requires res_curl, which requires library curl
(not found)").
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from buildtool.catalog import Catalog
from buildtool.diagnostics import Diagnostic, Severity, error
from buildtool.fields import PLAN_LISTS
from buildtool.fsutil import write_if_changed
from buildtool.generate import HeaderGenerator
from buildtool.model import Module, Tree
from buildtool.scan import discover

FIELD_SEP = "|"
LIST_SEP = " "
MODULE_FIELDS = ("module", "name", "source", "default_enabled", *PLAN_LISTS, "platform_conflicts")
# Lists that keep only the modules of the tree (meson builds or explains those alone).
TREE_ONLY = ("requires", "conflicts")

# MODULEINFO platform names -> meson's host_machine.system() names.
PLATFORM_SYSTEMS = {
    "win32": "windows", "win64": "windows", "windows": "windows", "mingw": "windows", "mingw32": "windows",
    "cygwin": "cygwin", "darwin": "darwin", "macos": "darwin", "macosx": "darwin", "linux": "linux",
    "freebsd": "freebsd", "openbsd": "openbsd", "netbsd": "netbsd", "dragonfly": "dragonfly",
    "solaris": "sunos", "sunos": "sunos", "android": "android",
}


@dataclass(frozen=True)
class MesonPlan:
    lines: list[str]
    diagnostics: list[Diagnostic]

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def list_sources(paths: list[str]) -> tuple[list[str], list[Diagnostic]]:
    """The module source file names (no directory) that ``scan`` would read, sorted."""
    sources, diagnostics = discover(paths)
    return sorted({os.path.basename(s.path) for s in sources}), diagnostics


def dependency_order(tree: Tree) -> tuple[list[str], list[Diagnostic]]:
    """Modules with everything they require first: required modules and providers of required interfaces.

    Ties are broken by name. Required-module cycles are already scan errors;
    a cycle that only exists through interface providers is reported here.
    """
    modules = tree.modules
    edges: dict[str, set[str]] = {}
    for name, module in modules.items():
        before = {r for r in module.requires if r in modules}
        for iface in module.interfaces_required:
            before |= {p for p in tree.providers(iface) if p != name}
        edges[name] = before
    from buildtool import graphs  # here: the build's per-module step imports this module for module_record

    placed = graphs.topological_order(modules, {name: sorted(before) for name, before in edges.items()})
    order, left = placed.order, placed.left
    diagnostics: list[Diagnostic] = []
    if left and not any(d.code == "dependency-cycle" for d in tree.diagnostics):
        for cycle in graphs.cycles({name: sorted(edges[name] & set(left)) for name in left}):
            module = modules[cycle.path[0]]
            diagnostics.append(error(
                module.source, module.line or 1, 1, "dependency-cycle",
                "modules cannot be ordered: " + " needs ".join(cycle.path)
                + " (a cycle through required modules or providers of required interfaces)",
                module=module.name, data={"cycle": cycle.path}))
    return order + left, diagnostics


def _check_field(value: str, what: str, module: Module) -> list[Diagnostic]:
    if FIELD_SEP in value or any(c.isspace() for c in value) or not value:
        return [error(module.source, module.line or 1, 1, "bad-name",
                      f"{what} '{value}' cannot be passed to meson (empty, or contains '|' or white space)",
                      module=module.name)]
    return []


def make_meson_plan(tree: Tree, catalog: Catalog) -> MesonPlan:
    diagnostics = list(tree.diagnostics)
    order, more = dependency_order(tree)
    diagnostics += more
    modules = tree.modules
    lines: list[str] = [FIELD_SEP.join(("columns",) + MODULE_FIELDS[1:])]

    libraries: dict[str, str] = {}
    first_user: dict[str, Module] = {}  # the first module (in tree order) naming each library
    for module in modules.values():
        for lib in module.libraries_required + module.libraries_optional:
            if lib not in libraries:
                entry = catalog.library(lib)
                libraries[lib] = entry.dependency if entry else lib
                first_user[lib] = module
    for name in sorted(libraries):
        diagnostics += _check_field(libraries[name], f"dependency name of library {name}", first_user[name])
        lines.append(FIELD_SEP.join(("library", name, libraries[name])))

    interfaces = sorted({i for m in modules.values() for i in m.interfaces_required})
    for iface in interfaces:
        catalogued = "yes" if iface in catalog.interfaces else "no"
        lines.append(FIELD_SEP.join(("interface", iface, catalogued, LIST_SEP.join(tree.providers(iface)))))

    for name in order:
        lines.append(module_record(modules[name], modules, catalog.platforms))
    return MesonPlan(lines, diagnostics)


def module_record(module: Module, modules, platforms) -> str:
    """A module's plan line (``module|NAME|...``); ``modules``: the names of the tree's modules,
    ``platforms``: the catalogue's. The build's per-module step compares one module's line with
    the configured plan this way (buildtool/modstep.py)."""
    lowered = {p.lower() for p in platforms}
    systems = sorted({PLATFORM_SYSTEMS.get(c.lower(), c.lower()) for c in module.conflicts
                      if c not in modules and c.lower() in lowered})
    fields = ["module", module.name, os.path.basename(module.source), "yes" if module.default_enabled else "no"]
    fields += [LIST_SEP.join(n for n in getattr(module, key) if key not in TREE_ONLY or n in modules)
               for key in PLAN_LISTS]
    fields.append(LIST_SEP.join(systems))
    assert len(fields) == len(MODULE_FIELDS)
    return FIELD_SEP.join(fields)


def parse_plan(text: str) -> dict[str, list[dict[str, object]]]:
    """The plan back as Python data (for tests and tools): records grouped by kind."""
    out: dict[str, list[dict[str, object]]] = {"library": [], "interface": [], "module": []}
    for line in text.splitlines():
        fields = line.split(FIELD_SEP)
        kind = fields[0]
        if kind == "columns":
            continue
        if kind == "library":
            out["library"].append({"name": fields[1], "dependency": fields[2]})
        elif kind == "interface":
            out["interface"].append({"name": fields[1], "catalogued": fields[2] == "yes",
                                     "providers": fields[3].split()})
        elif kind == "module":
            record: dict[str, object] = dict(zip(MODULE_FIELDS[1:4], fields[1:4]))
            record.update({key: value.split() for key, value in zip(MODULE_FIELDS[4:], fields[4:])})
            out["module"].append(record)
    return out


@dataclass(frozen=True)
class BuildFacts:
    """What only meson knows at configure time, for ``decide``."""

    found_libraries: frozenset[str]     # libraries whose dependency() was found
    build_options: frozenset[str]       # -Dbuild_options
    disabled: frozenset[str]            # -Ddisable_modules
    skip_default_disabled: bool         # -Ddefault_disabled=skip
    system: str                         # host_machine.system()


def decide(plan: dict[str, list[dict[str, object]]], facts: BuildFacts) -> dict[str, str | None]:
    """Every module of the plan (``parse_plan``), in plan order -> None when it is built, else why not.

    The plan's order puts what a module requires first, so its fate is known when the module is
    reached. Between two modules in ``<conflict>`` (either may declare it), the first built wins.
    """
    from buildtool.explain import blocking_requirement

    dependency_names = {lib["name"]: lib["dependency"] for lib in plan["library"]}
    interfaces = {iface["name"]: iface for iface in plan["interface"]}
    conflicts: dict[str, list[str]] = {}
    for module in plan["module"]:
        for other in module["conflicts"]:
            conflicts.setdefault(module["name"], []).append(other)
            conflicts.setdefault(other, []).append(module["name"])
    reasons: dict[str, str | None] = {}
    built: set[str] = set()

    def not_built(name: str) -> str | None:
        return None if name in built else reasons.get(name) or "is not a module of the tree"

    for module in plan["module"]:
        name = module["name"]
        reason = None
        if name in facts.disabled:
            reason = "is left out by -Ddisable_modules"
        elif module["default_enabled"] == "no" and facts.skip_default_disabled:
            reason = "is <defaultenabled>no</defaultenabled> and -Ddefault_disabled=skip"
        if reason is None and facts.system in module["platform_conflicts"]:
            reason = "conflicts with the platform " + facts.system
        if reason is None:
            blocked = blocking_requirement(module["requires"], not_built)
            reason = blocked[1] if blocked else None
        if reason is None:
            for lib in module["libraries_required"]:
                if lib not in facts.found_libraries:
                    depname = dependency_names[lib]
                    reason = f"requires library {lib} (not found{': dependency ' + depname if depname != lib else ''})"
                    break
        if reason is None:
            for opt in module["options_required"]:
                if opt not in facts.build_options:
                    reason = f"requires build option {opt} (not in -Dbuild_options)"
                    break
        if reason is None:
            for iface in module["interfaces_required"]:
                if interfaces[iface]["catalogued"]:
                    continue
                providers = interfaces[iface]["providers"]
                if any(p in built for p in providers):
                    continue
                why = [f"{p} {reasons.get(p) or 'is not decided yet'}" for p in providers]
                reason = (f"requires interface {iface}, whose providers are not built ({'; '.join(why)})" if why
                          else f"requires interface {iface}, which no module provides")
                break
        if reason is None:
            for other in conflicts.get(name, ()):
                if other in built:
                    reason = (f"conflicts with {other}, which is built (-Ddisable_modules={other} builds this "
                              "one instead)")
                    break
        reasons[name] = reason
        if reason is None:
            built.add(name)
    return reasons


def decision_text(reasons: dict[str, str | None]) -> str:
    """``decide``'s answer as meson reads it: ``built|NAME`` or ``disabled|NAME|REASON``, in plan order."""
    return "".join(f"built{FIELD_SEP}{name}\n" if reason is None else f"disabled{FIELD_SEP}{name}{FIELD_SEP}{reason}\n"
                   for name, reason in reasons.items())


def write_empty_headers(paths: list[str], out_dir: str | os.PathLike) -> list:
    """Headers with every injected field empty (the build's ``-Dinjection=false``, for benchmarks).

    No MODULEINFO is read: this is what a build costs without the injection.
    """
    sources, _ = discover(paths)
    generator = HeaderGenerator()
    written = []
    for source in sorted(sources, key=lambda s: s.name):
        module = Module(name=source.name, source=source.path, line=0)
        path, _ = generator.write(module, b"", out_dir)
        written.append(path)
    return written


def without(tree: Tree, drop: set[str]) -> Tree:
    """The tree without the ``drop``ped (not built) modules and their diagnostics: what is installed."""
    return Tree(modules={name: m for name, m in tree.modules.items() if name not in drop},
                diagnostics=tuple(d for d in tree.diagnostics if d.module not in drop))


def select_tree(tree_path: str | os.PathLike, drop: set[str], out: str | os.PathLike) -> bool:
    """Write the tree JSON without the ``drop``ped (not built) modules; True when the file changed."""
    from buildtool import treefile

    return write_if_changed(out, treefile.to_json(without(treefile.read(str(tree_path)), drop)))

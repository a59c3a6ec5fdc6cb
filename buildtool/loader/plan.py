"""The plan: which modules load, in which order, and why - from metadata only.

Nothing here opens a module. Inputs are the discovered names, a ``get(name)``
that returns a module's ``ModuleMeta`` (raising ``MetaError`` for a file that
is not a readable module) and the parsed modules.conf. ``get`` is called
lazily: with ``autoload = no`` only the named modules and what they require
are ever read.

Rules (docs/loader.md has them with examples):

- autoload = yes: every module is selected, except ``noload`` ones; noload on
  a module implies noload for every module that *requires* it, recursively
  (not through optional modules, interfaces or enhances). A module so excluded
  that is also named by load/preload/require/preload-require is an error that
  names both lines and the chain.
- autoload = no: the named modules are selected, and load implies load for all
  they require, recursively. Such a module that is also ``noload`` is an error
  naming both lines and the chain.
- Order: a topological order of the selected modules with these edges:
  required module before its dependant (hard); every provider of an interface
  before any module that uses it, required use (hard) or optional use (soft);
  an optional module before its user when both load (soft); Asterisk's
  ``enhances``: a module E that enhances D loads before every module that
  requires D, and such a module holds a reference on E (soft). Preload modules
  and everything that must precede them come first. Ties are broken by name.
  A cycle of hard edges is an error naming the whole cycle; a soft edge that
  would close a cycle is dropped (and said so in ``notes``).
- Two selected modules where one declares a conflict with the other: error.
"""

from __future__ import annotations

import gc
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable, Iterable

from buildtool import graphs
from buildtool.diagnostics import Diagnostic, error
from buildtool.loader.config import Entry, ModulesConfig
from buildtool.errors import MetaError
from buildtool.explain import blocking_requirement
from buildtool.loader.meta import ModuleMeta
from buildtool.loader.provided import Providers

LOAD_KINDS = ("preload", "preload-require", "load", "require")
REQUIRED_KINDS = ("require", "preload-require")
PRELOAD_KINDS = ("preload", "preload-require")


class Outcome(StrEnum):
    """What the plan decided for one module (the value is the word the docs use)."""

    LOAD = "load"                  # selected, and nothing known stops it
    SKIP = "skip"                  # not loaded: a rule of modules.conf, a cycle, or not a module
    WILL_DECLINE = "will decline"  # selected or named, but it cannot load whatever its code does


@dataclass(slots=True)
class Decision:
    """One module's outcome: everything the report, ``buildtool modules`` and ``graph`` say about it."""

    outcome: Outcome | None = None   # None: read (or found unreadable), not decided yet
    why: str = ""                    # the explanation, for every module decided
    reason: str = ""                 # SKIP: the rule; WILL_DECLINE: what stops it
    invalid: str = ""                # why the file is not a readable module ("" when it is one)
    chain: list[str] | None = None   # loaded as a dependency: from it back to ... the root, reversed


@dataclass
class LoadPlan:
    config: ModulesConfig
    order: list[str] = field(default_factory=list)          # selected modules, in load order
    selected: set[str] = field(default_factory=set)
    metas: dict[str, ModuleMeta] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)  # every known or named module
    errors: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    explicit: set[str] = field(default_factory=set)          # chosen by config itself, not as a dependency
    required: dict[str, Entry] = field(default_factory=dict)  # require/preload-require entries
    preload: set[str] = field(default_factory=set)
    cycles: list[list[str]] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (before, after, kind)
    providers: Providers | None = None  # provided names and interfaces (buildtool.loader.provided)

    @property
    def ok(self) -> bool:
        return not self.errors

    def decision(self, name: str) -> Decision:
        found = self.decisions.get(name)
        if found is None:
            found = self.decisions[name] = Decision()
        return found

    def _decide(self, name: str, outcome: Outcome, why: str, reason: str = "") -> Decision:
        found = self.decision(name)
        found.outcome, found.why, found.reason = outcome, why, reason
        return found

    def _skip(self, name: str, text: str) -> None:
        self._decide(name, Outcome.SKIP, text, text)

    # Views by outcome, built on each access (for reports and tests; the planner reads ``decisions``).
    @property
    def why(self) -> dict[str, str]:
        return {n: d.why for n, d in self.decisions.items() if d.outcome is not None}

    @property
    def skipped(self) -> dict[str, str]:
        return {n: d.reason for n, d in self.decisions.items() if d.outcome is Outcome.SKIP}

    @property
    def predicted(self) -> dict[str, str]:
        return {n: d.reason for n, d in self.decisions.items() if d.outcome is Outcome.WILL_DECLINE}

    @property
    def invalid(self) -> dict[str, str]:
        return {n: d.invalid for n, d in self.decisions.items() if d.invalid}

    @property
    def dependency_chain(self) -> dict[str, list[str]]:
        return {n: d.chain for n, d in self.decisions.items() if d.chain is not None}


def _chain_text(chain: list[str]) -> str:
    return " -> ".join(chain)


def plan_load(names: list[str] | dict, get: Callable[[str], ModuleMeta], config: ModulesConfig,
             module_dir_label: str = "the modules directory", tree=None) -> LoadPlan:
    """``tree``: the sources' tree (buildtool.model.Tree), to say which module would provide a name
    that no built module provides."""
    # The planner makes many small acyclic objects; the cyclic GC would only rescan them.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _plan_load(names, get, config, module_dir_label, tree)
    finally:
        if was_enabled:
            gc.enable()


def _plan_load(names, get, config: ModulesConfig, module_dir_label: str, tree=None) -> LoadPlan:
    plan = LoadPlan(config=config)
    known = set(names)
    metas = plan.metas
    decisions = plan.decisions

    def invalid(name: str) -> str:
        found = decisions.get(name)
        return found.invalid if found is not None else ""

    def meta(name: str) -> ModuleMeta | None:
        if name in metas:
            return metas[name]
        if name not in known or invalid(name):
            return None
        try:
            metas[name] = m = get(name)
            return m
        except MetaError as exc:
            plan.decision(name).invalid = str(exc)
            return None

    # Provided names in modules.conf (load-provider => application:Gosub) become the module's line.
    providers = plan.providers = Providers(known, meta, config, module_dir_label, tree)
    config = plan.config = providers.expand(plan.errors)
    noload = config.named("noload")
    loadnamed = config.named(*LOAD_KINDS)
    plan.required = config.named(*REQUIRED_KINDS)

    # A module named both load-ish and noload: both lines.
    for name, entry in loadnamed.items():
        if name in noload:
            plan.errors.append(error(entry.path, entry.line, entry.column, "loader-load-noload",
                                     f"{entry.describe()} contradicts {noload[name].describe()}", module=name))

    selected: set[str] = set()
    if config.autoload:
        for name in sorted(known):
            meta(name)
        valid = sorted(metas)
        requiredby: dict[str, list[str]] = {}
        for name in valid:
            for dep in metas[name].requires:
                requiredby.setdefault(dep, []).append(name)
        # Implied noload, breadth first from each noload root (in name order), to what requires it.
        excluded = _spread(sorted(noload.items()), lambda cur: requiredby.get(cur, ()))
        passed_over = providers.passed_over(loadnamed)
        autoloaded = f"loaded: {config.describe_autoload()}"  # the why of most modules: built once

        for name in sorted(known):
            if name in noload:
                plan._skip(name, f"not loaded: {noload[name].describe()}")
            elif name in excluded:
                root = excluded[name][1]
                chain = _trail(excluded, name)
                text = (f"not loaded: it requires {root.name}, which is noload ({root.describe()}); "
                        f"implied noload through {_chain_text(chain)}")
                plan._skip(name, text)
                if name in loadnamed:
                    entry = loadnamed[name]
                    plan.errors.append(error(
                        entry.path, entry.line, entry.column, "loader-implied-noload",
                        f"{entry.describe()} cannot be honoured: {root.describe()} implies noload for "
                        f"{name}, which requires {root.name} ({_chain_text(chain)})", module=name,
                        data={"chain": chain, "lines": [entry.where, root.where]}))
            elif name in passed_over:
                plan._skip(name, passed_over[name])
            elif invalid(name):
                plan._skip(name, f"not loaded: {invalid(name)}")
            else:
                selected.add(name)
                plan.explicit.add(name)
                entry = loadnamed.get(name)
                plan._decide(name, Outcome.LOAD, f"loaded: named by {entry.describe()}" if entry else autoloaded)
    else:
        # Implied load, breadth first from the named modules in file order, to what they require.
        roots = sorted(loadnamed.values(), key=lambda e: (e.line, e.name))

        interface_pull: dict[str, tuple[str, str]] = {}  # provider -> (interface, why this provider)

        def required(cur: str) -> list[str]:
            m = meta(cur)
            if m is None:
                return []
            deps = [dep for dep in m.requires if dep in known]
            # A required interface pulls in its chosen provider (docs/loader.md, preferred providers).
            for iface in m.interfaces_required:
                pulled = providers.pulled_provider(iface, loadnamed)
                if pulled is not None:
                    deps.append(pulled[0])
                    interface_pull.setdefault(pulled[0], (iface, pulled[1]))
            return deps

        pulled = _spread([(e.name, e) for e in roots], required)

        for name in sorted(known | set(loadnamed)):
            if name in loadnamed:
                entry = loadnamed[name]
                if name not in known or meta(name) is None:
                    continue  # reported below as a named module that cannot load
                if name not in noload:
                    selected.add(name)
                    plan.explicit.add(name)
                    plan._decide(name, Outcome.LOAD, f"loaded: named by {entry.describe()}")
                else:  # both lines: an error above, and not loaded
                    plan._skip(name, f"not loaded: {noload[name].describe()}")
            elif name in pulled:
                dependant, root = pulled[name]
                chain = list(reversed(_trail(pulled, name)))
                if name in noload:
                    nl = noload[name]
                    plan.errors.append(error(
                        nl.path, nl.line, nl.column, "loader-implied-load",
                        f"{nl.describe()} contradicts {root.describe()}, which implies load for {name} "
                        f"({_chain_text(chain)})", module=name,
                        data={"chain": chain, "lines": [nl.where, root.where]}))
                    plan._skip(name, f"not loaded: {nl.describe()}")
                elif meta(name) is None:
                    plan._skip(name, f"not loaded: {invalid(name)}")
                else:
                    selected.add(name)
                    dep_meta = meta(dependant)
                    if name in interface_pull and (dep_meta is None or name not in dep_meta.requires):
                        iface, reason = interface_pull[name]
                        why = (f"loaded: provides interface {iface}, which {dependant} requires "
                               f"({name} is {reason}); implied load from {root.describe()} "
                               f"({_chain_text(chain)})")
                    else:
                        why = (f"loaded: required by {dependant}; implied load from "
                               f"{root.describe()} ({_chain_text(chain)})")
                    plan._decide(name, Outcome.LOAD, why).chain = chain
            elif name in noload:
                plan._skip(name, f"not loaded: {noload[name].describe()}")
            else:
                plan._skip(name, f"not loaded: {config.describe_autoload()} and nothing named or required it")

    # Named modules that cannot load at all: not in the directory, or not a readable module.
    for name, entry in sorted(loadnamed.items()):
        if name in noload:
            continue
        if name not in known:
            from buildtool.loader.hints import module_name
            reason = (f"named by {entry.describe()}, but there is no {name}.so in {module_dir_label}"
                      f"{module_name(name, known)}")
            plan._decide(name, Outcome.WILL_DECLINE, f"not loaded: {reason}", reason)
        elif invalid(name):
            reason = f"named by {entry.describe()}, but {invalid(name)}"
            plan._decide(name, Outcome.WILL_DECLINE, f"not loaded: {reason}", reason)

    plan.selected = selected
    _check_conflicts(plan, loadnamed)
    _order(plan)
    _predict_declines(plan, known)
    return plan


def _check_conflicts(plan: LoadPlan, loadnamed: dict[str, Entry]) -> None:
    reported = set()
    for name in sorted(plan.selected):
        for other in plan.metas[name].conflicts:
            if other in plan.selected and other != name and frozenset((name, other)) not in reported:
                reported.add(frozenset((name, other)))
                entry = loadnamed.get(name) or loadnamed.get(other)
                path, line, col = ((entry.path, entry.line, entry.column) if entry
                                   else (plan.metas[name].path or plan.config.path, 0, 0))
                plan.errors.append(error(
                    path, line, col, "loader-conflict",
                    f"{name} conflicts with {other}, and both would be loaded ({name}: {plan.decisions[name].why}; "
                    f"{other}: {plan.decisions[other].why}); noload one of them", module=name,
                    data={"modules": [name, other]}))


def _order(plan: LoadPlan) -> None:
    sel = plan.selected
    metas = plan.metas
    providers: dict[str, list[str]] = {}
    enhancers: dict[str, list[str]] = {}
    for name in sorted(sel):
        m = metas[name]
        for iface in m.provides:
            providers.setdefault(iface, []).append(name)
        for target in m.enhances:
            enhancers.setdefault(target, []).append(name)

    hard_preds: dict[str, list[str]] = {n: [] for n in sel}
    soft_preds: dict[str, list[str]] = {n: [] for n in sel}
    edges = plan.edges
    for name in sorted(sel):
        m = metas[name]
        hp = hard_preds[name]
        sp = soft_preds[name]
        for dep in m.requires:
            if dep in sel:
                hp.append(dep)
                edges.append((dep, name, "requires"))
            for enh in enhancers.get(dep, ()):
                if enh != name:
                    sp.append(enh)
                    edges.append((enh, name, "enhances"))
        for dep in m.optional_modules:
            if dep in sel:
                sp.append(dep)
                edges.append((dep, name, "optional"))
        for iface in m.interfaces_required:
            for prov in providers.get(iface, ()):
                if prov != name:
                    hp.append(prov)
                    edges.append((prov, name, "uses " + iface))
        for iface in m.interfaces_optional:
            for prov in providers.get(iface, ()):
                if prov != name:
                    sp.append(prov)
                    edges.append((prov, name, "optionally uses " + iface))

    # Preload group: preload modules and everything that must come before them.
    preload_roots = [n for n, e in plan.config.named(*PRELOAD_KINDS).items() if n in sel]
    group0 = set(preload_roots)
    stack = list(preload_roots)
    while stack:
        cur = stack.pop()
        for pred in hard_preds[cur] + soft_preds[cur]:
            if pred not in group0:
                group0.add(pred)
                stack.append(pred)
    plan.preload = group0

    placed = graphs.topological_order(sel, hard_preds, soft_preds,
                                      priority=lambda n: (0 if n in group0 else 1, n))
    plan.order.extend(placed.order)
    for forced, dropped in placed.dropped:
        plan.notes.append(f"ordering {', '.join(dropped)} before {forced} dropped: optional, interface or "
                          "enhances edges form a cycle there")
    if placed.left:
        _report_cycles(plan, placed.left, hard_preds)


def _spread(roots: list[tuple[str, Entry]],
            neighbours: Callable[[str], Iterable[str]]) -> dict[str, tuple[str, Entry]]:
    """Breadth first from each root, in the order given: every module reached -> (the module it was
    reached from, the root's config entry). Roots themselves are not in the result."""
    reached: dict[str, tuple[str, Entry]] = {}
    seen = {name for name, _ in roots}
    queue = deque(roots)
    while queue:
        cur, root = queue.popleft()
        for nxt in neighbours(cur):
            if nxt not in seen:
                seen.add(nxt)
                reached[nxt] = (cur, root)
                queue.append((nxt, root))
    return reached


def _trail(reached: dict[str, tuple[str, Entry]], name: str) -> list[str]:
    """``name``, the module it was reached from, ... back to the root."""
    chain = [name]
    while chain[-1] in reached:
        chain.append(reached[chain[-1]][0])
    return chain


def _report_cycles(plan: LoadPlan, left: list[str], hard_preds: dict[str, list[str]]) -> None:
    """Name each cycle of required edges among the modules left, in full."""
    nodes = set(left)
    in_cycle: set[str] = set()
    for cycle in graphs.cycles({n: [p for p in hard_preds[n] if p in nodes] for n in nodes}):
        said = cycle.path
        in_cycle |= set(cycle.component)
        plan.cycles.append(said)
        start = said[0]
        m = plan.metas[start]
        extra = (f" (strongly connected: {', '.join(cycle.component)})"
                 if len(cycle.component) > len(said) - 1 else "")
        plan.errors.append(error(m.path or plan.config.path, 0, 0, "loader-cycle",
                                 "required dependencies form a cycle: " + " requires ".join(said) + extra,
                                 module=start, data={"cycle": said}))
    for name in left:
        plan._skip(name, "not loaded: in a cycle of required dependencies" if name in in_cycle
                   else "not loaded: depends on a cycle of required dependencies")


def _predict_declines(plan: LoadPlan, known: set[str]) -> None:
    """Selected modules that cannot load whatever their code does: a required module missing or unreadable,
    a required interface nobody selected provides. Propagated along required edges, in load order."""
    will: set[str] = set()
    decisions = plan.decisions
    provided: dict[str, list[str]] = {}

    def fate(dep: str) -> str | None:
        if dep in will:
            return None
        found = decisions.get(dep)
        if found is not None and found.outcome is Outcome.WILL_DECLINE:
            return f"will decline: {found.reason}"
        if dep not in known:
            return "is not in the modules directory"
        if found is not None and found.invalid:
            return f"is not a loadable module: {found.invalid}"
        if dep not in plan.selected:
            return f"is not loaded ({found.why if found is not None else ''})"
        return None  # selected, placed later or kept out by a cycle: said where that is decided

    for name in plan.order:
        m = plan.metas[name]
        blocked = blocking_requirement(m.requires, fate)
        reason = blocked[1] if blocked else None
        if reason is None:
            for iface in m.interfaces_required:
                if not provided.get(iface):
                    reason = f"uses interface {iface}, but no module that provides it will be loaded"
                    break
        if reason:
            mine = decisions[name]
            mine.outcome, mine.reason, mine.why = Outcome.WILL_DECLINE, reason, f"will decline: {reason} ({mine.why})"
            continue
        will.add(name)
        for iface in m.provides:
            provided.setdefault(iface, []).append(name)

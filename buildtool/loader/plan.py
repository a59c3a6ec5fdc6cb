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
import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

from buildtool import graphs
from buildtool.diagnostics import Diagnostic, error
from buildtool.loader.config import Entry, ModulesConfig
from buildtool.loader.meta import MetaError, ModuleMeta
from buildtool.loader.provided import Providers

LOAD_KINDS = ("preload", "preload-require", "load", "require")
REQUIRED_KINDS = ("require", "preload-require")
PRELOAD_KINDS = ("preload", "preload-require")


@dataclass
class Plan:
    config: ModulesConfig
    order: list[str] = field(default_factory=list)          # selected modules, in load order
    selected: set[str] = field(default_factory=set)
    metas: dict[str, ModuleMeta] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)   # name -> why the file is not a module
    why: dict[str, str] = field(default_factory=dict)       # every known name -> explanation
    skipped: dict[str, str] = field(default_factory=dict)   # not selected: rule or config
    predicted: dict[str, str] = field(default_factory=dict)  # selected but will decline (missing deps)
    errors: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    explicit: set[str] = field(default_factory=set)          # chosen by config itself, not as a dependency
    required: dict[str, Entry] = field(default_factory=dict)  # require/preload-require entries
    preload: set[str] = field(default_factory=set)
    cycles: list[list[str]] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (before, after, kind)
    dependency_chain: dict[str, list[str]] = field(default_factory=dict)
    providers: Providers | None = None  # provided names and interfaces (buildtool.loader.provided)

    @property
    def ok(self) -> bool:
        return not self.errors


def _chain_text(chain: list[str]) -> str:
    return " -> ".join(chain)


def make_plan(names: list[str] | dict, get: Callable[[str], ModuleMeta], config: ModulesConfig,
              module_dir_label: str = "the modules directory", tree=None) -> Plan:
    """``tree``: the sources' tree (buildtool.model.Tree), to say which module would provide a name
    that no built module provides."""
    # The planner makes many small acyclic objects; the cyclic GC would only rescan them.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _make_plan(names, get, config, module_dir_label, tree)
    finally:
        if was_enabled:
            gc.enable()


def _make_plan(names, get, config: ModulesConfig, module_dir_label: str, tree=None) -> Plan:
    plan = Plan(config=config)
    known = set(names)
    metas = plan.metas

    def meta(name: str) -> ModuleMeta | None:
        if name in metas:
            return metas[name]
        if name in plan.invalid or name not in known:
            return None
        try:
            metas[name] = m = get(name)
            return m
        except MetaError as exc:
            plan.invalid[name] = str(exc)
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

        for name in sorted(known):
            if name in noload:
                plan.skipped[name] = plan.why[name] = f"not loaded: {noload[name].describe()}"
            elif name in excluded:
                root = excluded[name][1]
                chain = _trail(excluded, name)
                text = (f"not loaded: it requires {root.name}, which is noload ({root.describe()}); "
                        f"implied noload through {_chain_text(chain)}")
                plan.skipped[name] = plan.why[name] = text
                if name in loadnamed:
                    entry = loadnamed[name]
                    plan.errors.append(error(
                        entry.path, entry.line, entry.column, "loader-implied-noload",
                        f"{entry.describe()} cannot be honoured: {root.describe()} implies noload for "
                        f"{name}, which requires {root.name} ({_chain_text(chain)})", module=name,
                        data={"chain": chain, "lines": [entry.where, root.where]}))
            elif name in passed_over:
                plan.skipped[name] = plan.why[name] = passed_over[name]
            elif name in plan.invalid:
                plan.skipped[name] = plan.why[name] = f"not loaded: {plan.invalid[name]}"
            else:
                selected.add(name)
                plan.explicit.add(name)
                entry = loadnamed.get(name)
                plan.why[name] = (f"loaded: named by {entry.describe()}" if entry
                                  else f"loaded: {config.describe_autoload()}")
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
                    plan.why[name] = f"loaded: named by {entry.describe()}"
                else:  # both lines: an error above, and not loaded
                    plan.skipped[name] = plan.why[name] = f"not loaded: {noload[name].describe()}"
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
                    plan.skipped[name] = plan.why[name] = f"not loaded: {nl.describe()}"
                elif meta(name) is None:
                    plan.skipped[name] = plan.why[name] = f"not loaded: {plan.invalid[name]}"
                else:
                    selected.add(name)
                    plan.dependency_chain[name] = chain
                    dep_meta = meta(dependant)
                    if name in interface_pull and (dep_meta is None or name not in dep_meta.requires):
                        iface, reason = interface_pull[name]
                        plan.why[name] = (f"loaded: provides interface {iface}, which {dependant} requires "
                                          f"({name} is {reason}); implied load from {root.describe()} "
                                          f"({_chain_text(chain)})")
                    else:
                        plan.why[name] = (f"loaded: required by {dependant}; implied load from "
                                          f"{root.describe()} ({_chain_text(chain)})")
            elif name in noload:
                plan.skipped[name] = plan.why[name] = f"not loaded: {noload[name].describe()}"
            else:
                plan.skipped[name] = plan.why[name] = (f"not loaded: {config.describe_autoload()} and nothing "
                                                       "named or required it")

    # Named modules that cannot load at all: not in the directory, or not a readable module.
    for name, entry in sorted(loadnamed.items()):
        if name in noload:
            continue
        if name not in known:
            from buildtool.loader.hints import module_name
            plan.predicted[name] = (f"named by {entry.describe()}, but there is no {name}.so in {module_dir_label}"
                                    f"{module_name(name, known)}")
            plan.why[name] = f"not loaded: {plan.predicted[name]}"
        elif name in plan.invalid:
            plan.predicted[name] = f"named by {entry.describe()}, but {plan.invalid[name]}"
            plan.why[name] = f"not loaded: {plan.predicted[name]}"
            plan.skipped.pop(name, None)

    plan.selected = selected
    _check_conflicts(plan, loadnamed)
    _order(plan)
    _predict_declines(plan, known)
    return plan


def _check_conflicts(plan: Plan, loadnamed: dict[str, Entry]) -> None:
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
                    f"{name} conflicts with {other}, and both would be loaded ({name}: {plan.why[name]}; "
                    f"{other}: {plan.why[other]}); noload one of them", module=name,
                    data={"modules": [name, other]}))


def _order(plan: Plan) -> None:
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

    succ: dict[str, list[tuple[str, bool]]] = {n: [] for n in sel}
    hard_in = {}
    soft_in = {}
    for name in sel:
        hard_in[name] = len(hard_preds[name])
        soft_in[name] = len(soft_preds[name])
        for p in hard_preds[name]:
            succ[p].append((name, True))
        for p in soft_preds[name]:
            succ[p].append((name, False))

    # The order is the smallest ready module first (preload group, then name): a priority
    # order, so a heap it stays (a level-by-level order would differ from it). The keys are
    # ranks from one sort (plain ints: the cheapest comparison heapq can make), which keeps
    # the heap's log factor a small constant next to the per-edge work above (issue 9).
    by_rank = sorted(sel, key=lambda n: (0 if n in group0 else 1, n))
    rank = {n: i for i, n in enumerate(by_rank)}
    key = rank.__getitem__

    heap = [key(n) for n in sel if not hard_in[n] and not soft_in[n]]
    heapq.heapify(heap)
    # Nodes whose hard edges are all satisfied: where a soft cycle is broken, in O(log n).
    hard_ready = [key(n) for n in sel if not hard_in[n]]
    heapq.heapify(hard_ready)
    emitted: set[str] = set()
    order = plan.order
    remaining = len(sel)
    while remaining:
        if not heap:
            forced = None
            while hard_ready:
                cand = by_rank[heapq.heappop(hard_ready)]
                if cand not in emitted:
                    forced = cand
                    break
            if forced is None:
                _report_cycles(plan, [n for n in sorted(sel) if n not in emitted], hard_preds)
                return
            dropped = sorted(p for p in soft_preds[forced] if p not in emitted)
            plan.notes.append(f"ordering {', '.join(dropped)} before {forced} dropped: optional, interface or "
                              "enhances edges form a cycle there")
            soft_in[forced] = 0
            heapq.heappush(heap, key(forced))
        cur = by_rank[heapq.heappop(heap)]
        if cur in emitted:
            continue
        emitted.add(cur)
        order.append(cur)
        remaining -= 1
        for nxt, hard in succ[cur]:
            if nxt in emitted:
                continue
            if hard:
                hard_in[nxt] -= 1
                if not hard_in[nxt]:
                    heapq.heappush(hard_ready, key(nxt))
            else:
                soft_in[nxt] -= 1
            if not hard_in[nxt] and soft_in[nxt] <= 0:
                heapq.heappush(heap, key(nxt))


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


def _report_cycles(plan: Plan, left: list[str], hard_preds: dict[str, list[str]]) -> None:
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
        plan.why[name] = ("not loaded: in a cycle of required dependencies" if name in in_cycle
                          else "not loaded: depends on a cycle of required dependencies")
        plan.skipped[name] = plan.why[name]


def _predict_declines(plan: Plan, known: set[str]) -> None:
    """Selected modules that cannot load whatever their code does: a required module missing or unreadable,
    a required interface nobody selected provides. Propagated along required edges, in load order."""
    will: set[str] = set()
    provided: dict[str, list[str]] = {}
    for name in plan.order:
        m = plan.metas[name]
        reason = None
        for dep in m.requires:
            if dep in will:
                continue
            if dep in plan.predicted:
                reason = f"requires {dep}, which will decline: {plan.predicted[dep]}"
            elif dep not in known:
                reason = f"requires {dep}, which is not in the modules directory"
            elif dep in plan.invalid:
                reason = f"requires {dep}, which is not a loadable module: {plan.invalid[dep]}"
            elif dep not in plan.selected:
                reason = f"requires {dep}, which is not loaded ({plan.why.get(dep, '')})"
            if reason:
                break
        if reason is None:
            for iface in m.interfaces_required:
                if not provided.get(iface):
                    reason = f"uses interface {iface}, but no module that provides it will be loaded"
                    break
        if reason:
            plan.predicted[name] = reason
            plan.why[name] = f"will decline: {reason} ({plan.why.get(name, '')})"
            continue
        will.add(name)
        for iface in m.provides:
            provided.setdefault(iface, []).append(name)

"""Runtime commands beyond load/unload/reload (docs/loader.md):

- ``load-provider KIND:NAME``: load the module that provides a name (``application:Gosub``,
  ``function:LEN``, ``interface:sorcery_wizard``), with what it needs. Required interfaces that no
  running module provides get their chosen provider first (``buildtool.loader.provided.choose``).
- ``refresh [-r] NAME``: unload NAME (with ``-r``, everything holding a reference on it first, in
  reverse load order), then load them back in their original order. It either completes or
  returns to the running set it started from, with the same use counts: a module whose load
  fails is loaded again, in order, with those after it. The result says which:
  ``completed``, ``rolled back`` (the starting set again) or ``incomplete`` (it could not be
  restored; the modules missing are named).

Both work on a started ``Loader`` through its public methods and its per-module state.
"""

from __future__ import annotations

from buildtool.loader.config import module_name
from buildtool.errors import CommandError, NotProvided
from buildtool.loader.provided import Providers
from buildtool.loader.runtime import DECLINED, FAILED, NOT_LOADED, RUNNING, Loader


def providers_of(loader: Loader) -> Providers:
    return Providers(loader.paths, loader.meta, loader.load_plan().config, loader.modules_dir,
                     loader.source_tree)


def load_provider(loader: Loader, arg: str) -> dict:
    if not arg:
        raise CommandError("usage: load-provider KIND:NAME (application:Gosub, function:LEN, interface:NAME)")
    providers = providers_of(loader)
    try:
        module, text = providers.resolve(arg)
    except NotProvided as exc:
        raise CommandError(str(exc)) from None
    if module not in loader.paths:
        raise CommandError(f"{text}, but there is no {module}.so in {loader.modules_dir}")
    if loader.states.get(module) is not None and loader.states[module].status == RUNNING:
        loader.states[module].explicit = True
        return {"loaded": [], "module": module, "message": f"{text}; {module} is already loaded"}
    before = len(loader.order)
    # Required interfaces along the way: their chosen provider, when none runs yet.
    for name in [*providers.needs(module), module]:
        meta = loader.meta(name)
        for iface in meta.interfaces_required if meta else ():
            if any(loader.states[p].status == RUNNING for p in providers.interface_providers(iface)
                   if p in loader.states):
                continue
            chosen = providers.choose(providers.interface_providers(iface), f"interface {iface}")
            if chosen is not None and chosen[0] != name:
                loader.load(chosen[0])
    result = loader.load(module)
    loaded = loader.order[before:]
    return {"loaded": loaded, "module": module,
            "message": f"{text}: loaded {', '.join(loaded)}" if loaded else result["message"]}


def _reset(loader: Loader, name: str) -> None:
    st = loader.state(name)
    if st.status in (DECLINED, FAILED, NOT_LOADED):
        st.status, st.reason, st.chain = NOT_LOADED, "", []


def refresh(loader: Loader, arg: str) -> dict:
    words = arg.split()
    flags = {w for w in words if w.startswith("-")}
    rest = [w for w in words if not w.startswith("-")]
    if len(rest) != 1 or flags - {"-r", "--recursive"}:
        raise CommandError("usage: refresh [-r|--recursive] NAME")
    name = module_name(rest[0])
    if name is None:
        raise CommandError(f"{rest[0]!r} is not a module name (names, never paths)")
    st = loader.states.get(name)
    if st is None or st.status != RUNNING:
        raise CommandError(f"{name} is not loaded")
    users = loader.dependants(name)
    if users and not flags:
        raise CommandError(f"{name} is in use by {', '.join(sorted(users))}; 'refresh -r {name}' reloads them too")
    victims = users + [name]  # reverse load order: users first
    start_order = list(loader.order)
    start_counts = loader.use_counts()
    explicit = {n: loader.states[n].explicit for n in start_order}
    # Everything else stays loaded: unloading a victim must not unload a dependency it was the
    # last user of (it is needed again in a moment), so those are pinned for the duration.
    pinned = [n for n in start_order if n not in victims and not explicit[n]]
    for n in pinned:
        loader.states[n].explicit = True
    unloaded: list[str] = []
    failed: dict[str, str] = {}
    try:
        try:
            for victim in victims:
                loader._unload_one(victim, unloaded)
        except CommandError as exc:
            failed["(unload)"] = str(exc)  # an unload() refused: load back what went, below
        again = [n for n in start_order if n in unloaded]  # the original load order
        reloaded = _load_in_order(loader, again, explicit, failed)
        retried: list[str] = []
        if failed:
            # Back to the starting set: each module that is not running is loaded again, in order.
            retried = _load_in_order(loader, [n for n in again if not _running(loader, n)], explicit, {})
    finally:
        for n in pinned:
            if n in loader.states:
                loader.states[n].explicit = False
    counts = loader.use_counts()
    missing = [n for n in start_order if not _running(loader, n)]
    same = not missing and set(loader.order) == set(start_order) and counts == start_counts
    if not failed:
        result = "completed"
        message = f"refreshed {', '.join(again)}"
    elif same:
        result = "rolled back"
        message = (f"refresh of {name} failed ({'; '.join(f'{k}: {v}' for k, v in failed.items())}); "
                   f"rolled back: the running set is the one it started from, with the same use counts")
    else:
        result = "incomplete"
        message = (f"refresh of {name} failed ({'; '.join(f'{k}: {v}' for k, v in failed.items())}) and the "
                   f"starting set could not be restored: not running: {', '.join(missing) or '(none)'}")
    out = {"unloaded": unloaded, "loaded": reloaded + retried, "message": message,
           "refresh": {"result": result, "unloaded": unloaded, "reloaded": reloaded, "retried": retried,
                       "failed": failed, "missing": missing, "use_counts_before": start_counts}}
    if result != "completed":
        raise CommandError(message, unloaded=unloaded, loaded=out["loaded"], refresh=out["refresh"])
    return out


def _running(loader: Loader, name: str) -> bool:
    st = loader.states.get(name)
    return st is not None and st.status == RUNNING


def _load_in_order(loader: Loader, names: list[str], explicit: dict[str, bool], failed: dict[str, str]) -> list[str]:
    loaded: list[str] = []
    for n in names:
        if _running(loader, n):
            continue
        _reset(loader, n)
        status = loader._ensure(n, explicit=explicit.get(n, False), stack=())
        if status == RUNNING:
            loaded.append(n)
        else:
            # Left declined or failed, so the modules after it that need it decline with the chain.
            failed[n] = f"{status}: {loader.state(n).reason}"
    return loaded


def explanations(loader: Loader, names: list[str] = ()) -> list[dict]:
    """The report's ``provided``: for each provided-name line of modules.conf and each ``--explain``
    name, which module provides it and what that module needs (read from the records only)."""
    plan = loader.load_plan()
    providers = plan.providers or providers_of(loader)
    out = []
    for entry in plan.config.entries:
        if entry.written:
            item = providers.explain(entry.written.split("=>", 1)[1].strip())
            item["line"] = f"{entry.written} at {entry.where}"
            out.append(item)
    out += [providers.explain(name) for name in names]
    return out


COMMANDS = {"load-provider": load_provider, "refresh": refresh}

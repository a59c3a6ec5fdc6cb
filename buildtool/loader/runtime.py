"""The loader context: start-up from a plan, then runtime load/unload/reload.

One ``Loader`` object holds everything (like kmod's ``kmod_ctx``): the dl
binding, the metadata store, the plan, each module's state. No global state.

What runs when (constructors run at *any* dlopen, lazy or not):

1. discovery and planning: no module code; the ELF files (or the cache) are read.
2. ``_ensure_each`` opens each: ``dlopen(path, RTLD_LAZY | RTLD_LOCAL)`` - the module's
   constructors run here; then ``dlsym("__ast_module_info")`` and the struct's
   version/size check. Only modules that are going to be loaded get here, and
   only after every module they require has loaded.
3. ``_check_symbols``: every undefined non-weak dynamic symbol must resolve in
   the global scope (``dlsym`` on the main program's handle) or in the module's own
   dependencies (``dlsym(handle)``). A missing one is a clean refusal naming
   the symbol; otherwise the module's first call to it would kill the process.
4. the module's ``load()``.
5. for a GLOBAL_SYMBOLS module: ``dlopen(path, RTLD_NOW | RTLD_GLOBAL |
   RTLD_NOLOAD)`` promotes it to the global scope; that extra handle is closed.

Refusals before ``load()`` (dlopen error, no info symbol, struct version or
size mismatch, missing symbol) are DECLINE, as Asterisk treats a module that
cannot be opened - unless the module is named by ``require``/
``preload-require``, where any non-success stops start-up.
"""

from __future__ import annotations

import gc
import os
import sys
from itertools import repeat
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Container, Iterable

from buildtool.errors import AbiError, CommandError, MetaError, StartupStopped
from buildtool.explain import blocking_requirement
from buildtool.loader import abi
from buildtool.loader.abi import checked_struct
from buildtool.loader.cache import MetaStore
from buildtool.loader.config import ModulesConfig, module_name
from buildtool.loader.dl import RTLD_GLOBAL, RTLD_LAZY, RTLD_LOCAL, RTLD_NOLOAD, RTLD_NOW, Dl, DlError, mapped_files
from buildtool.loader.meta import Listing, ModuleMeta, discover
from buildtool.loader.plan import LoadPlan, plan_load

_OPEN_MODE = RTLD_LAZY | RTLD_LOCAL  # constructors run, symbols bound at first call, nothing exported
_SYMBOL = abi.SYMBOL
_GLOBAL_SYMBOLS = abi.GLOBAL_SYMBOLS
_SUCCESS = abi.SUCCESS
_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()

class Status(StrEnum):
    """A module's state in the running loader (kmod's ``kmod_module_initstate``); the value is the
    word the report, the journal and the messages use ("requires X, which declined: ...")."""

    RUNNING = "running"
    DECLINED = "declined"
    FAILED = "failed"
    NOT_LOADED = "not loaded"


RUNNING, DECLINED, FAILED, NOT_LOADED = Status.RUNNING, Status.DECLINED, Status.FAILED, Status.NOT_LOADED


@dataclass(frozen=True, slots=True)
class StartupProblem:
    """Something that went wrong in the loader itself (not a module's refusal): the report's
    ``errors`` entry with code ``loader-startup``, and a line on stderr when start-up stopped."""

    message: str
    code = "loader-startup"

    def to_json(self) -> dict:
        return {"severity": "error", "code": self.code, "message": self.message}


@dataclass(slots=True)  # one per module, built and read in the load path
class ModuleState:
    name: str
    path: str
    status: Status = NOT_LOADED
    reason: str = ""
    handle: int | None = None
    info: abi.AstModuleInfo | None = None      # its struct, while it is open
    use_count: int = 0
    explicit: bool = False                       # loaded by config or command, not only as a dependency
    refs: list[str] = field(default_factory=list)  # modules this one holds a reference on
    chain: list[str] = field(default_factory=list)  # for a decline: this module -> ... -> the root cause
    seq: int = 0                                 # load sequence number (unload goes in reverse)


class Loader:
    def __init__(self, modules_dir: str, config: ModulesConfig | None = None, *, listing: Listing | None = None,
                 use_cache: bool = True, dl: Dl | None = None) -> None:
        self.modules_dir = os.path.abspath(modules_dir)
        self.config = config or ModulesConfig()
        self.dl = dl or Dl()
        # The plan cache also knows the directory's modules while the directory is unchanged
        # (buildtool/loader/plancache.py): a warm start does not list it.
        self._plan_cache = None
        if use_cache:
            from buildtool.loader.plancache import PlanCache
            self._plan_cache = PlanCache(self.modules_dir, self.config, listing)
            self.paths = self._plan_cache.paths
        else:
            self.paths = discover(self.modules_dir, listing)
        self.store = MetaStore(self.modules_dir, self.paths, use_cache=use_cache)
        self.states: dict[str, ModuleState] = {}
        self.order: list[str] = []          # loaded, in load order
        self.errors: list[StartupProblem] = []
        self.plan: LoadPlan | None = None
        self.preloaded: list[str] = []
        self.stopped = False
        self._seq = 0
        self._providers: dict[str, list[str]] = {}  # interface -> running providers
        self._enhancers: dict[str, list[str]] = {}  # module -> running modules that enhance it
        self._in_startup = True
        self._global_syms: set[str] = set()  # names known to resolve in the global scope
        # The main program's handle: dlsym on it searches the global scope (the program, its
        # libraries, every RTLD_GLOBAL object). Not RTLD_DEFAULT: glibc records a lookup through
        # RTLD_DEFAULT as a dependency of the caller (libffi, here) on the object that defines the
        # symbol, and that object could then never be unmapped.
        self._global_scope = self.dl.open(None, RTLD_LAZY)
        # Modules refused before any of their code runs (e.g. a source hash that the
        # xmldoc document does not vouch for), with the reason; they count as declined.
        self.refusals: dict[str, str] = {}
        # Set by buildtool.loader.supervise in a supervised child: what happens is recorded where the
        # parent can read it if module code kills the process.
        self.journal = None
        # The sources' tree (--tree), or None: it says which module would provide a name no built
        # module provides (buildtool.loader.provided).
        self.source_tree = None
        # The plan cache consulted by load_plan (None with --no-cache or --tree): its ``reused``
        # says whether the plan came from it.
        self.plan_cache = None

    # -- metadata -------------------------------------------------------------------------------------
    def meta(self, name: str) -> ModuleMeta | None:
        if name not in self.paths:
            return None
        try:
            return self.store.get(name)
        except MetaError:
            return None

    def load_plan(self) -> LoadPlan:
        """The plan: the one kept beside the modules when none of its inputs changed
        (buildtool/loader/plancache.py), else planned now (and kept for the next start)."""
        if self.plan is None:
            kept = None
            if self._plan_cache is not None and self.source_tree is None:
                kept = self.plan_cache = self._plan_cache
                self.plan = kept.load(self.store.get)
            if self.plan is not None:
                self.store.prime(self.plan.metas)
            else:
                self.plan = plan_load(list(self.paths), self.store.get, self.config, self.modules_dir,
                                      tree=self.source_tree)
                self.store.save()
                if kept is not None:
                    kept.save(self.plan)
        return self.plan

    def state(self, name: str) -> ModuleState:
        st = self.states.get(name)
        if st is None:
            st = self.states[name] = ModuleState(name, self.paths.get(name, ""))
        return st

    # -- start-up -------------------------------------------------------------------------------------
    def preload_library(self, path: str) -> None:
        """The core's role: a library whose symbols modules call, opened RTLD_NOW | RTLD_GLOBAL first."""
        self.dl.open(os.path.abspath(path) if os.sep in path else path, RTLD_NOW | RTLD_GLOBAL)
        self.preloaded.append(path)

    def start(self) -> bool:
        """Load the plan. False when start-up stopped (FAILURE, or a required module not loaded)."""
        # Start-up makes many small acyclic objects: keep the cyclic GC from rescanning them.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._start()
        finally:
            self._in_startup = False
            if was_enabled:
                gc.enable()

    def _start(self) -> bool:
        plan = self.load_plan()
        if not plan.ok:
            self.stopped = True
            return False
        for name, reason in sorted(plan.predicted.items()):
            if name not in self.paths:  # named but absent: never attempted below
                st = self.state(name)
                st.status, st.reason, st.chain = DECLINED, reason, [name]
                self._note(st)
        states, order = self.states, plan.order
        # Each module's state, made in one pass (what _ensure_each would make one at a time).
        fresh = [n for n in order if n not in states]
        states.update(zip(fresh, map(ModuleState, fresh, map(self.paths.get, fresh, repeat("")))))
        try:
            self._ensure_each(order, plan.explicit, ())
            for name, entry in sorted(plan.required.items()):
                st = self.state(name)
                if st.status != RUNNING:
                    self._stop(name, f"required by {entry.describe()} but {st.status}: {st.reason}")
        except StartupStopped:
            self.stopped = True
            for name in plan.order:
                st = self.state(name)
                if st.status == NOT_LOADED and not st.reason:
                    st.reason = "start-up stopped before it was attempted"
            return False
        return True

    def _stop(self, name: str, message: str) -> None:
        st = self.state(name)
        if st.status != FAILED:
            st.status, st.reason = FAILED, message
            self._note(st)
        self._error(f"start-up stopped: {name}: {message}")
        raise StartupStopped(message)

    def _decline(self, st: ModuleState, reason: str, chain: list[str] | None = None) -> str:
        st.status, st.reason, st.chain = DECLINED, reason, chain or [st.name]
        self._note(st)
        if self._in_startup and self.plan is not None and st.name in self.plan.required and not self.stopped:
            entry = self.plan.required[st.name]
            self._stop(st.name, f"required by {entry.describe()}, but declined: {reason}")
        return DECLINED

    # -- loading modules, dependencies first ----------------------------------------------------------
    def _ensure(self, name: str, explicit: bool, stack: tuple[str, ...]) -> str:
        """Load one module (explicitly or only as a dependency): its status."""
        return self._ensure_each((name,), (name,) if explicit else (), stack)

    def _ensure_each(self, names: Iterable[str], explicit: Container[str], stack: tuple[str, ...]) -> str:
        """Load each of ``names`` in turn, what each requires first (recursively, as dependencies):
        the status of the last. Start-up runs the whole plan order through one call, so everything
        this loop reads is looked up once, not per module: this is the loader's hot path, the only
        work it does per module beyond bare dlopen + dlsym + load()."""
        states, paths, refusals, store_get, known_metas = (self.states, self.paths, self.refusals, self.store.get,
                                                          self.store.known)
        dl, journal, known_global, providers = self.dl, self.journal, self._global_syms, self._providers
        raw_open, raw_sym, loaded, enhancers = dl.raw_open, dl.raw_sym, self.order, self._enhancers
        status = NOT_LOADED
        for name in names:
            st = states.get(name) or self.state(name)
            if name in explicit:
                st.explicit = True
            status = st.status
            if status is not NOT_LOADED:
                continue
            if name in stack:
                status = self._decline(st, "required dependencies form a cycle: "
                                       + " requires ".join(stack + (name,)))
                continue
            if name not in paths:
                from buildtool.loader.hints import module_name
                status = self._decline(st, f"there is no {name}.so in {self.modules_dir}{module_name(name, paths)}")
                continue
            meta = known_metas.get(name)
            if meta.__class__ is not ModuleMeta:  # not read yet, or not readable: the store reads or says why
                try:
                    meta = store_get(name)
                except MetaError as exc:
                    status = self._decline(st, f"not a loadable module: {exc}")
                    continue
            if name in refusals:
                status = self._decline(st, refusals[name])
                continue
            for dep in meta.requires:
                dst = states.get(dep)
                if dst is None or dst.status is not RUNNING:
                    status = self._requirements(st, meta, stack)  # loads them, or says which one blocks
                    break
            if status is not NOT_LOADED:
                continue
            for iface in meta.interfaces_required:
                if not providers.get(iface):
                    from buildtool.loader.hints import interface_providers
                    why = interface_providers(iface, paths, store_get, self.config.autoload)
                    status = self._decline(st, f"uses interface {iface}, but no loaded module provides it: {why}")
                    break
            if status is not NOT_LOADED:
                continue
            # Open it (its constructors run), check its struct, its name and its undefined symbols, load it.
            if journal is not None:
                journal.opening(name)
            path = st.path
            st.handle = handle = raw_open(path.encode(_FS_ENCODING, _FS_ERRORS), _OPEN_MODE)  # os.fsencode's
            if not handle:
                status = self._decline(st, f"dlopen failed: {dl.open_failure(path)}")
                continue
            address = raw_sym(handle, _SYMBOL)
            if not address:
                status = self._refuse(st, f"no {_SYMBOL.decode()} symbol: not a module built with buildtool's "
                                      "module.h")
                continue
            try:
                st.info = struct = checked_struct(address)
            except AbiError as exc:
                status = self._refuse(st, f"refused: {exc}")
                continue
            if struct.name != name.encode():  # bytes against bytes: no decode per module
                status = self._refuse(st, f"refused: its info struct names module {abi.Info(struct).name!r}, "
                                      f"the file is {name}.so")
                continue
            if not known_global.issuperset(meta.undefined):
                reason = self._check_symbols(st, meta)  # some not yet found in the global scope
                if reason:
                    status = self._refuse(st, reason)
                    continue
            if journal is not None:
                journal.calling(name, "load")
            load = struct.load  # what _call does, without the call
            result = load() if load else None  # c_int: an int already
            if result != _SUCCESS:
                status = self._not_loaded(st, result)
                continue
            status = st.status = RUNNING
            st.reason = ""
            if st.chain:
                st.chain = []
            self._seq = st.seq = self._seq + 1
            loaded.append(name)
            # References: required modules, loaded optional modules, loaded enhancers of required modules
            # (Asterisk's enhances), loaded providers of used interfaces. Each kind is looked at only
            # when the module has some (most have only requires).
            if enhancers:
                refs = []
                for dep in meta.requires:
                    refs.append(dep)
                    refs.extend(e for e in enhancers.get(dep, ()) if e != name)
            else:
                refs = list(meta.requires)
            if meta.optional_modules:
                refs.extend(d for d in meta.optional_modules if self._running(d))
            if meta.interfaces_required or meta.interfaces_optional:
                for iface in meta.interfaces_required + meta.interfaces_optional:
                    refs.extend(p for p in providers.get(iface, ()) if p != name)
            if len(refs) > 1:
                refs = list(dict.fromkeys(refs))
            st.refs = refs
            for dep in refs:
                states[dep].use_count += 1
            if meta.provides:
                for iface in meta.provides:
                    providers.setdefault(iface, []).append(name)
            if meta.enhances:
                for target in meta.enhances:
                    enhancers.setdefault(target, []).append(name)
            if struct.flags & _GLOBAL_SYMBOLS:
                extra = dl.try_open(path, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)
                if extra is None:
                    self._error(f"{name}: could not promote to the global scope")
                else:
                    dl.close(extra)
            if journal is not None:
                journal.state(st)
        return status

    def _requirements(self, st: ModuleState, meta: ModuleMeta, stack: tuple[str, ...]) -> Status:
        """Load what ``st`` requires that is not running yet: NOT_LOADED when all of it then runs
        (``st`` may go on), else ``st`` declined, naming the requirement that blocks it."""
        states, name = self.states, st.name

        def fate(dep: str) -> str | None:
            dst = states.get(dep)
            if dst is not None and dst.status == RUNNING:
                return None
            status = self._ensure(dep, explicit=False, stack=stack + (name,))
            return None if status == RUNNING else f"{status}: {self.state(dep).reason}"

        blocked = blocking_requirement(meta.requires, fate)
        if blocked is None:
            return NOT_LOADED
        dep, reason = blocked
        return self._decline(st, reason, [name] + self.state(dep).chain)

    def _not_loaded(self, st: ModuleState, result: int | None) -> Status:
        """``st``'s load() is missing or did not return SUCCESS: closed again, declined or failed."""
        self._close(st)
        if result is None:
            return self._decline(st, "its info struct has no load function")
        if result == abi.FAILURE:
            st.status, st.reason = FAILED, "load() returned FAILURE"
            self._note(st)
            if self._in_startup and not self.stopped:
                self._stop(st.name, st.reason)
            return FAILED
        return self._decline(st, f"load() returned {abi.RESULT_NAMES.get(result, str(result))}")

    def _check_symbols(self, st: ModuleState, meta: ModuleMeta) -> str | None:
        known = self._global_syms
        sym = self.dl.sym
        handle = st.handle
        missing = []
        for name in meta.undefined:
            if name in known:
                continue
            if sym(self._global_scope, name):
                known.add(name)  # the global scope only grows, until a global module is unloaded
            elif not sym(handle, name):
                missing.append(name)
        if missing:
            from buildtool.loader.hints import missing_symbols
            hint = missing_symbols(st.name, missing, self.modules_dir, self.paths, self.preloaded)
            return (f"refused before its load(): undefined symbol{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} not found in the global scope (nor in its own libraries)"
                    + (f": {hint}" if hint else ""))
        return None

    def _close(self, st: ModuleState) -> None:
        st.info = None
        if st.handle is not None:
            handle, st.handle = st.handle, None
            if self.journal is not None:
                self.journal.calling(st.name, "dlclose")  # its destructors run here
            try:
                self.dl.close(handle)
            except DlError as exc:
                self._error(f"{st.name}: dlclose: {exc}")

    def _note(self, st: ModuleState) -> None:
        if self.journal is not None:
            self.journal.state(st)

    def _error(self, message: str) -> None:
        self.errors.append(StartupProblem(message))
        if self.journal is not None:
            self.journal.error(message)

    def _call(self, st: ModuleState, function: str) -> int | None:
        """Call one of the module's functions (module code: the journal names it first)."""
        if self.journal is not None:
            self.journal.calling(st.name, function)
        fn = getattr(st.info, function)
        return fn() if fn else None  # c_int: an int already; a NULL pointer is falsy

    def _refuse(self, st: ModuleState, reason: str) -> str:
        """A refusal before the module's load() ran: closed again, declined."""
        self._close(st)
        return self._decline(st, reason)

    def _running(self, name: str) -> bool:
        st = self.states.get(name)
        return st is not None and st.status == RUNNING

    # -- runtime commands -----------------------------------------------------------------------------
    def _resolve(self, name: str) -> str:
        resolved = module_name(name)
        if resolved is None:
            raise CommandError(f"{name!r} is not a module name (names, never paths)")
        return resolved

    def load(self, name: str) -> dict:
        """Runtime ``load NAME``: what it requires first (as dependencies), then NAME (explicit)."""
        name = self._resolve(name)
        if name not in self.paths:
            raise CommandError(f"no module {name} in {self.modules_dir}")
        self._in_startup = False
        if self._running(name):
            self.state(name).explicit = True
            self._note(self.state(name))
            return {"loaded": [], "message": f"{name} is already loaded"}
        before = list(self.order)
        # A runtime load retries modules that declined earlier (the cause may be gone).
        for st in self.states.values():
            if st.status in (DECLINED, FAILED):
                st.status, st.reason, st.chain = NOT_LOADED, "", []
                self._note(st)
        status = self._ensure(name, explicit=True, stack=())
        loaded = self.order[len(before):]
        if status != RUNNING:
            raise CommandError(f"{name} {status}: {self.state(name).reason}", loaded=loaded)
        return {"loaded": loaded, "message": f"loaded {', '.join(loaded)}"}

    def dependants(self, name: str) -> list[str]:
        """Running modules that hold a reference on ``name``, directly or not, in reverse load order."""
        users: dict[str, list[str]] = {}
        for other in self.order:
            for dep in self.states[other].refs:
                users.setdefault(dep, []).append(other)
        seen: set[str] = set()
        stack = [name]
        while stack:
            cur = stack.pop()
            for user in users.get(cur, ()):
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
        return sorted(seen, key=lambda n: -self.states[n].seq)

    def unload(self, name: str, recursive: bool = False) -> dict:
        """Runtime ``unload NAME``: refused while in use; recursive unloads its dependants first."""
        name = self._resolve(name)
        self._in_startup = False
        if not self._running(name):
            raise CommandError(f"{name} is not loaded")
        st = self.states[name]
        users = self.dependants(name)
        if users and not recursive:
            direct = sorted(u for u in self.order if name in self.states[u].refs)
            raise CommandError(f"{name} is in use (use count {st.use_count}, by {', '.join(direct)}); "
                               "unload those first or unload recursively")
        unloaded: list[str] = []
        for victim in users + [name]:
            self._unload_one(victim, unloaded)
        return {"unloaded": unloaded, "message": f"unloaded {', '.join(unloaded)}"}

    def _unload_one(self, name: str, unloaded: list[str]) -> None:
        st = self.states[name]
        if st.status != RUNNING:
            return
        if st.use_count:
            raise CommandError(f"{name} is still in use (use count {st.use_count})", unloaded=unloaded)
        result = self._call(st, "unload") if st.info else None
        if result not in (None, 0):
            raise CommandError(f"{name}: unload() returned {result}; it stays loaded", unloaded=unloaded)
        meta = self.meta(name)
        for iface in meta.provides if meta else ():
            self._providers[iface].remove(name)
        for target in meta.enhances if meta else ():
            self._enhancers[target].remove(name)
        path = st.path
        if st.info and st.info.flags & abi.GLOBAL_SYMBOLS:
            self._global_syms.clear()
        self._close(st)
        st.status, st.reason = NOT_LOADED, "unloaded by a runtime command"
        self.order.remove(name)
        unloaded.append(name)
        if self.dl.is_loaded(path):
            self._error(f"{name}: could not be completely unloaded (another object is bound to its symbols)")
        refs, st.refs = st.refs, []
        self._note(st)
        for dep in refs:
            self.states[dep].use_count -= 1
        # Dependencies loaded only for it, and no longer needed, go too (never an explicit one).
        for dep in sorted(set(refs), key=lambda n: -self.states[n].seq):
            dst = self.states[dep]
            if dst.status == RUNNING and not dst.explicit and dst.use_count == 0:
                self._unload_one(dep, unloaded)

    def reload(self, name: str) -> dict:
        name = self._resolve(name)
        if not self._running(name):
            raise CommandError(f"{name} is not loaded")
        result = self._call(self.states[name], "reload")
        if result is None:
            raise CommandError(f"{name} has no reload function")
        if result != 0:
            raise CommandError(f"{name}: reload() returned {result}")
        return {"message": f"reloaded {name}"}

    def command_started(self, line: str) -> None:
        """A runtime command (``buildtool.loader.cli_support.run_command``) begins: start-up is over."""
        self._in_startup = False
        if self.journal is not None:
            self.journal.command(line)

    def command_finished(self, out: dict) -> dict:
        """The command's result, completed with the use counts and mapped files it left."""
        out["use_counts"] = self.use_counts()
        out["mapped"] = self.mapped()
        if self.journal is not None:
            self.journal.result(out)
        return out

    # -- reporting ------------------------------------------------------------------------------------
    def use_counts(self) -> dict[str, int]:
        return {n: self.states[n].use_count for n in self.order}

    def mapped(self) -> list[str]:
        """Modules of this directory whose file is mapped into the process (/proc/self/maps)."""
        files = mapped_files()
        return sorted(n for n, p in self.paths.items() if os.path.realpath(p) in files)


"""Who provides what: provided names ("application:Gosub") and interfaces, resolved to modules.

Everything here is read from the modules' records (``ModuleMeta.names``, ``.provides``): no module
code runs, and no xmldoc file is needed. A source tree (``--tree``, the scanner's JSON) only adds
what the binaries cannot say: which module *would* provide a name that no built module provides.

- ``resolve("application:Gosub")`` -> the module, and a sentence saying why; an unknown name gets a
  did-you-mean (``difflib``, as ``buildtool.resolve`` does for MODULEINFO names).
- ``choose(candidates)``: the one provider to use when several provide one interface (or one name):
  the module named by ``prefer => MODULE`` in modules.conf, otherwise the default, which is
  deterministic and said: support level (core, extended, deprecated, external, unknown), then name.
- ``expand(errors)``: modules.conf with every ``load-provider``/``require-provider`` line turned into
  the ``load``/``require`` line of the module it names (the entry keeps the line as written), and
  the ``prefer`` lines checked.
- ``passed_over()``: with ``autoload = yes``, the providers a ``prefer`` line passes over (they
  load only when named).
- ``pulled_provider(interface, named)``: with ``autoload = no``, the provider that a module
  requiring the interface pulls in.
"""

from __future__ import annotations

import difflib
from typing import Callable, Iterable

from buildtool.diagnostics import Diagnostic, error
from buildtool.errors import NotProvided
from buildtool.loader.config import PROVIDER_KINDS, Entry, ModulesConfig
from buildtool.loader.meta import ModuleMeta
from buildtool.model import PROVIDED_KINDS

# The kinds a provided name may have (the DOCUMENTATION elements), plus "interface" (MODULEINFO's <provide>).
NAME_KINDS = PROVIDED_KINDS
INTERFACE = "interface"
_KIND_BY_LOWER = {k.lower(): k for k in NAME_KINDS + (INTERFACE,)}
_LEVELS = ("core", "extended", "deprecated", "external")


def _rank(meta: ModuleMeta | None) -> tuple[int, str]:
    level = meta.support_level if meta else ""
    return (_LEVELS.index(level) if level in _LEVELS else len(_LEVELS), meta.name if meta else "")


def split(ref: str) -> tuple[str, str]:
    kind, _, name = ref.partition(":")
    return kind.strip(), name.strip()


def _did_you_mean(word: str, pool: Iterable[str]) -> str:
    pool = sorted(set(pool) - {word})
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not close:
        lowered: dict[str, str] = {}
        for item in pool:
            lowered.setdefault(item.lower(), item)
        close = [lowered[c] for c in difflib.get_close_matches(word.lower(), sorted(lowered), n=1, cutoff=0.6)]
    return f"; did you mean '{close[0]}'?" if close else ""


class Providers:
    def __init__(self, known: Iterable[str], meta: Callable[[str], ModuleMeta | None], config: ModulesConfig,
                 modules_dir_label: str = "the modules directory", tree=None) -> None:
        self.known = set(known)
        self.meta = meta
        self.config = config
        self.label = modules_dir_label
        self.tree = tree  # buildtool.model.Tree of the sources, or None
        self.prefer: dict[str, Entry] = config.named("prefer")
        self.noload = set(config.named("noload"))
        self._interfaces: dict[str, list[str]] | None = None
        self._names: dict[str, list[str]] = {}

    # -- the index, read once and only when a question needs it ----------------------------------------
    def _index(self) -> dict[str, list[str]]:
        if self._interfaces is None:
            self._interfaces = {}
            for name in sorted(self.known):
                m = self.meta(name)
                if m is None:
                    continue
                for iface in m.provides:
                    self._interfaces.setdefault(iface, []).append(name)
                for key in m.names:
                    self._names.setdefault(key, []).append(name)
        return self._interfaces

    def interface_providers(self, iface: str) -> list[str]:
        return list(self._index().get(iface, ()))

    def names(self) -> dict[str, list[str]]:
        self._index()
        return self._names

    # -- choosing one provider --------------------------------------------------------------------------
    def choose(self, candidates: list[str], what: str) -> tuple[str, str] | None:
        """The provider to use among ``candidates`` (noload ones never), and why."""
        usable = sorted(c for c in candidates if c not in self.noload)
        if not usable:
            return None
        if len(usable) == 1:
            return usable[0], f"the only module in {self.label} that provides {what}"
        for name in usable:
            if name in self.prefer:
                return name, f"preferred for {what} by {self.prefer[name].describe()}"
        best = min(usable, key=lambda n: _rank(self.meta(n)))
        return best, (f"the default choice for {what} among {', '.join(usable)}: support level (core first), "
                      "then name; 'prefer => MODULE' in modules.conf picks another")

    def preferred_interfaces(self) -> dict[str, tuple[str, Entry]]:
        """Interface -> (its preferred provider, the prefer line), for interfaces with several providers."""
        out: dict[str, tuple[str, Entry]] = {}
        for name, entry in sorted(self.prefer.items(), key=lambda kv: kv[1].line):
            m = self.meta(name)
            for iface in m.provides if m else ():
                out.setdefault(iface, (name, entry))
        return out

    def passed_over(self, named: Iterable[str]) -> dict[str, str]:
        """autoload = yes: providers of an interface whose preferred provider is another module, and not
        named by a load line themselves, nor the chosen provider of another interface they provide."""
        if not self.prefer:
            return {}
        named = set(named)
        preferred = self.preferred_interfaces()
        out: dict[str, str] = {}
        for iface, (chosen, entry) in sorted(preferred.items()):
            for other in self.interface_providers(iface):
                if other == chosen or other in named or other in out:
                    continue
                m = self.meta(other)
                if any(i not in preferred and len(self.interface_providers(i)) == 1 for i in m.provides):
                    continue  # the only provider of something else it provides: it stays
                out[other] = (f"not loaded: provides interface {iface}, whose preferred provider is {chosen} "
                              f"({entry.describe()}); name it with 'load =>' to load it as well")
        return out

    def pulled_provider(self, iface: str, named: Iterable[str]) -> tuple[str, str] | None:
        """autoload = no: the provider a module requiring ``iface`` pulls in (None when a named module
        already provides it, or nothing does)."""
        providers = self.interface_providers(iface)
        named = set(named)
        if any(p in named for p in providers) and not any(p in self.prefer for p in providers):
            return None
        return self.choose(providers, f"interface {iface}")

    # -- resolving a provided name ----------------------------------------------------------------------
    def resolve(self, ref: str) -> tuple[str, str]:
        """``kind:name`` -> (module, "application Gosub is provided by app_stack"); NotProvided otherwise."""
        kind_written, name = split(ref)
        kind = _KIND_BY_LOWER.get(kind_written.lower())
        if kind is None:
            raise NotProvided(f"{kind_written!r} is not a kind of provided name (expected "
                              f"{', '.join(NAME_KINDS + (INTERFACE,))})" + _did_you_mean(kind_written, _KIND_BY_LOWER.values()))
        what = f"{kind} {name}"
        if kind == INTERFACE:
            providers = self.interface_providers(name)
            if not providers:
                raise NotProvided(f"no module in {self.label} provides interface {name}"
                                  + _did_you_mean(name, self._index()))
            chosen = self.choose(providers, what)
            if chosen is None:
                raise NotProvided(f"every provider of interface {name} is noload: {', '.join(providers)}")
            return chosen[0], f"{what} is provided by {chosen[0]}, {chosen[1]}"
        index = self.names()
        key = f"{kind}:{name}"
        candidates = index.get(key)
        if not candidates:
            # Asterisk matches applications (and the other kinds) without regard to case.
            same = sorted(k for k in index if k.lower() == key.lower())
            if same:
                key, candidates = same[0], index[same[0]]
                what = f"{kind} {split(key)[1]}"
        if not candidates:
            raise self._not_provided(kind, name, index)
        chosen = self.choose(candidates, what)
        if chosen is None:
            raise NotProvided(f"{what} is provided by {', '.join(candidates)}, and every one is noload")
        if len(candidates) == 1:
            return chosen[0], f"{what} is provided by {chosen[0]}"
        return chosen[0], f"{what} is provided by {chosen[0]}, {chosen[1]}"

    def _not_provided(self, kind: str, name: str, index: dict[str, list[str]]) -> NotProvided:
        what = f"{kind} {name}"
        if self.tree is not None:
            for module in sorted(self.tree.modules.values(), key=lambda m: m.name):
                if any(k.lower() == f"{kind}:{name}".lower() for k in module.names):
                    needs = ", ".join(module.libraries_required + module.options_required)
                    built = (f"there is no {module.name}.so in {self.label}" if module.name not in self.known
                             else f"{module.name}.so is not a readable module")
                    return NotProvided(f"{what} is provided by {module.name}, which was not built: {built}"
                                       + (f" (its MODULEINFO requires {needs})" if needs else ""),
                                       code="loader-provider-not-built", module=module.name)
        same_name = sorted(k for k in index if split(k)[1].lower() == name.lower())
        if same_name:
            hint = f"; did you mean '{same_name[0]}'?"
        else:
            hint = _did_you_mean(name, [split(k)[1] for k in index if split(k)[0] == kind])
        return NotProvided(f"no module in {self.label} provides {what}{hint}")

    def needs(self, module: str) -> list[str]:
        """What loading ``module`` loads first: its required modules and the chosen providers of its
        required interfaces, recursively, dependencies before dependants."""
        out: list[str] = []
        seen = {module}

        def visit(name: str) -> None:
            m = self.meta(name)
            if m is None:
                return
            deps = list(m.requires)
            for iface in m.interfaces_required:
                chosen = self.choose(self.interface_providers(iface), f"interface {iface}")
                if chosen:
                    deps.append(chosen[0])
            for dep in deps:
                if dep not in seen:
                    seen.add(dep)
                    visit(dep)
                    out.append(dep)
        visit(module)
        return out

    def explain(self, ref: str) -> dict:
        """The dry-run explanation of a provided name: its module and what that module needs."""
        try:
            module, text = self.resolve(ref)
        except NotProvided as exc:
            return {"name": ref, "module": exc.module or None, "needs": [], "text": str(exc), "ok": False}
        needs = self.needs(module) if module in self.known else []
        missing = [n for n in needs if n not in self.known]
        tail = (f", which needs {', '.join(needs)} (loaded first, in that order)" if needs
                else ", which needs no other module")
        if missing:
            tail += f"; not in {self.label}: {', '.join(missing)}"
        return {"name": ref, "module": module, "needs": needs, "text": text + tail, "ok": not missing}

    # -- modules.conf --------------------------------------------------------------------------------
    def expand(self, errors: list[Diagnostic]) -> ModulesConfig:
        """The configuration with provided-name lines resolved to module lines; problems appended to
        ``errors`` with the line and column of the directive."""
        has_names = any(e.kind in PROVIDER_KINDS for e in self.config.entries)
        if not has_names and not self.prefer:
            return self.config
        entries: list[Entry] = []
        for entry in self.config.entries:
            if entry.kind not in PROVIDER_KINDS:
                entries.append(entry)
                continue
            written = f"{entry.kind} => {entry.name}"
            try:
                module, text = self.resolve(entry.name)
            except NotProvided as exc:
                if exc.code == "loader-provider-not-built":
                    # Like a named module that is absent: a decline (a stop for require-provider), said.
                    entries.append(Entry(PROVIDER_KINDS[entry.kind], exc.module, entry.path, entry.line,
                                         entry.column, written, str(exc)))
                    continue
                errors.append(error(entry.path, entry.line, entry.column, exc.code,
                                    f"'{written}': {exc}", data={"name": entry.name}))
                continue
            entries.append(Entry(PROVIDER_KINDS[entry.kind], module, entry.path, entry.line, entry.column,
                                 written, text))
        self._check_prefer(errors)
        return ModulesConfig(path=self.config.path, autoload=self.config.autoload,
                             autoload_line=self.config.autoload_line, entries=entries)

    def _check_prefer(self, errors: list[Diagnostic]) -> None:
        seen: dict[str, Entry] = {}
        for name, entry in sorted(self.prefer.items(), key=lambda kv: kv[1].line):
            m = self.meta(name) if name in self.known else None
            if m is None:
                errors.append(error(entry.path, entry.line, entry.column, "loader-prefer",
                                    f"{entry.describe()}: there is no readable {name}.so in {self.label}"
                                    + _did_you_mean(name, self.known), module=name))
                continue
            if not m.provides:
                errors.append(error(entry.path, entry.line, entry.column, "loader-prefer",
                                    f"{entry.describe()}: {name} provides no interface (no <provide> in its "
                                    "MODULEINFO), so there is nothing to prefer it for", module=name))
                continue
            if name in self.noload:
                errors.append(error(entry.path, entry.line, entry.column, "loader-prefer",
                                    f"{entry.describe()} contradicts 'noload => {name}'", module=name))
            for iface in m.provides:
                if iface in seen and seen[iface].name != name:
                    errors.append(error(entry.path, entry.line, entry.column, "loader-prefer",
                                        f"{entry.describe()} and {seen[iface].describe()} both prefer a provider "
                                        f"of interface {iface}; keep one", module=name,
                                        data={"interface": iface}))
                seen.setdefault(iface, entry)

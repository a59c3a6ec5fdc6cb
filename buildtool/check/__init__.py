"""``buildtool check``: the release checks, one small module per job.

- ``sources``: every scanner diagnostic (cycles included);
- ``graph_soundness`` (category ``graph``): conflicts, deprecated/removed requirements, support-level
  policy, and which modules would be built;
- ``binaries``: built modules against their sources (``--binaries``);
- ``symbols``: undefined symbols against declarations (``--binaries``);
- ``handwritten_drift``: hand-written lists against MODULEINFO (``--hand-written``);
- ``buildtool.xmldoc``: the xmldoc document against sources and binaries (``--xmldoc``).

``run`` returns the findings, the modules checked and each stage's time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from buildtool.catalog import Catalog
from buildtool.diagnostics import Diagnostic, error, sorted_unique
from buildtool.model import Module, Tree


def at_module(module: Module) -> tuple[str, int, int]:
    """Where a finding about a whole module points: its MODULEINFO line (line 1 when unknown)."""
    return module.source, max(module.line, 1), 1


@dataclass
class Options:
    paths: list[str]
    catalog: Catalog = field(default_factory=Catalog)
    binaries: str | None = None
    xmldoc: str | None = None
    hand_written: bool = False
    disabled: dict[str, str] = field(default_factory=dict)   # module -> reason
    # True when ``disabled`` is the build's own list (meson writes disabled.txt):
    # then <defaultenabled>no</defaultenabled> alone does not mean "not built".
    disabled_is_complete: bool = False
    missing_libraries: list[str] = field(default_factory=list)
    core: list[str] = field(default_factory=list)
    library_path: list[str] = field(default_factory=list)
    sysroot: str | None = None
    symbols: bool = True
    tree: Tree | None = None   # already scanned (an Asterisk root): ``paths`` is then not scanned again
    injected: bool = False     # the build injects MODULEINFO: an absent hand-written list is not drift
    # Out of tree (check --installed): the installed modules the scanned ones may depend
    # on, and the directory of their binaries (whose symbols the scanned modules may use).
    installed: Tree | None = None
    installed_binaries: str | None = None


@dataclass
class Result:
    tree: Tree
    findings: list[Diagnostic]
    timings: dict[str, float]   # stage -> seconds
    disabled: dict[str, str]

    @property
    def modules(self) -> list[str]:
        return sorted(self.tree.modules)

    @property
    def categories(self) -> dict[str, str]:
        return {name: m.category for name, m in self.tree.modules.items()}


def _installed_binaries(options: Options) -> dict:
    """The installed modules' binaries (``<moduledir>/<module>.so``), read without loading them."""
    from buildtool.elfinfo import read_binary
    from buildtool.errors import RecordError

    out = {}
    for name in sorted(options.installed.modules):
        path = Path(options.installed_binaries or "", f"{name}.so")
        if path.is_file():
            try:
                out[name] = read_binary(str(path))
            except RecordError:
                continue  # an unreadable installed binary defines nothing we can know
    return out


def run(options: Options) -> Result:
    from buildtool.check import binaries, graph_soundness, handwritten_drift, sources, symbols

    timings: dict[str, float] = {}
    start = time.perf_counter()
    if options.tree is not None:
        tree, findings = options.tree, list(options.tree.diagnostics)
    else:
        tree, findings = sources.check(options.paths, options.catalog)
    source_bytes: dict[str, bytes] = {}
    for name, module in tree.modules.items():
        try:
            source_bytes[name] = Path(module.source).read_bytes()
        except OSError as exc:
            findings.append(error(module.source, 0, 0, "io-error", f"cannot read: {exc.strerror}", module=name))
    disabled = graph_soundness.disabled_modules(tree, options.disabled, options.missing_libraries,
                                      default_disabled_is_off=not options.disabled_is_complete)
    # Installed modules take part in the graph (what the scanned ones require) but
    # are not themselves checked: their findings were the installed tree's own.
    whole = Tree({**options.installed.modules, **tree.modules}) if options.installed else tree
    findings += [d for d in graph_soundness.check(whole, disabled) if d.module is None or d.module in tree.modules]
    if options.installed is not None:
        # Out of tree, the module's libraries are what `cflags --libs` links: one absent
        # here is an error, as it is for the build (in tree, meson disables the module).
        from buildtool import libraries

        for name, module in tree.modules.items():
            if name in source_bytes:
                findings += libraries.missing(module, source_bytes[name], libraries.libraries(module, options.catalog))
    timings["scan"] = time.perf_counter() - start

    if options.hand_written:
        start = time.perf_counter()
        findings += handwritten_drift.check(tree, source_bytes, options.catalog, options.injected)
        timings["hand_written"] = time.perf_counter() - start

    built = {}
    if options.binaries:
        start = time.perf_counter()
        found, built = binaries.check(tree, source_bytes, options.binaries, disabled)
        findings += found
        findings += graph_soundness.disabled_notes(tree, {n: r for n, r in disabled.items() if n not in built})
        timings["binaries"] = time.perf_counter() - start
        if options.symbols:
            start = time.perf_counter()
            context = symbols.SymbolContext(options.catalog, list(options.core), list(options.library_path),
                                            options.sysroot)
            context.load_core()
            others = _installed_binaries(options) if options.installed else {}
            findings += symbols.check(whole, {**others, **built}, context, only=set(built))
            timings["symbols"] = time.perf_counter() - start

    if options.xmldoc:
        from buildtool import xmldoc

        start = time.perf_counter()
        document = xmldoc.load_document(options.xmldoc)
        findings += xmldoc.check_against_tree(document, tree, source_bytes)
        if built:
            records = [b.record for b in built.values() if b.record is not None]
            for d in xmldoc.verify_hashes(document, records, "refuse"):
                module = tree.modules.get(d.module or "")
                if module is not None:  # report at the module's MODULEINFO, the binary in the data
                    d = Diagnostic(module.source, max(module.line, 1), 1, d.severity, d.code, d.message,
                                   d.module, {**d.data, "binary": d.path})
                findings.append(d)
        timings["xmldoc"] = time.perf_counter() - start
    return Result(tree, sorted_unique(findings), timings, disabled)

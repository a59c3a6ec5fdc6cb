"""The meson build's generator, one module at a time (modules/meson.build, docs/build.md "The edit loop").

A MODULEINFO edit must cost about one compile, so nothing on a compile's path
reads the whole tree. The work is split:

- **configure** (``buildtool meson-plan --record PLAN --steps-dir DIR``, after
  the whole-tree scan that makes the plan): ``write_configured`` writes the
  *steps file* ``DIR/modinfo-steps.json``, what resolving one module needs of
  the others (``resolve.TreeNames``: every module name and every interface some
  module ``<provide>``s; the catalogue's libraries, options, built-ins,
  interfaces, platforms; per module its *signature*: its plan line, what it
  provides, the applications and functions it claims; and the header's
  skeleton, ``generate.make_skeleton``), then every module's header, tree
  fragment and ``.modinfo.block``, so a fresh build runs no Python per module.
- **build, per module** (``tools/modinfo_step.c``, or ``buildstep.py step``):
  a body edit leaves the block unchanged and ends there; a changed block runs
  ``module_step``: it scans that module's block, resolves it with the steps
  file, and when its signature is the configured one writes its header and
  fragment (each only when changed; ninja knows the header, not the fragment, so
  a fragment that changed gives an unchanged header a new time, and the tree
  step, which waits on the headers, runs); a changed signature is a plan change: it
  touches the reconfigure trigger and fails, before that module compiles.
  Everything another module's header depends on is in some signature (names,
  ``<provide>``, claims) or in the steps file, so no other header can be stale.
- **build, once** (``buildstep.tree_step``, off every compile's path):
  ``scan-tree.json`` and ``tree.json`` from the fragments, after any header changed.

Imported by the per-module step's Python process (``python -I -S``), so it
imports what resolving one module needs and no more.
"""

from __future__ import annotations

import json
import os
import sys

from buildtool.buildstep import (ARGS_NAME, BLOCK_SUFFIX, FRAGMENT_SUFFIX, HEADER_SUFFIX, STEPS_FILE,
                                 block_payload, plan_changed)
from buildtool.diagnostics import Diagnostic, Severity, sorted_unique
from buildtool.fsutil import write_if_changed
from buildtool.generate import HeaderGenerator, fill_skeleton, header_context, header_problems

# What the step's Python process imports from outside the standard library; run with -S, it finds
# them in the directories the steps file names (those of the interpreter that configured).
STEP_PACKAGES = ("buildtool", "lxml", "jinja2", "markupsafe")


def _dumps(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _claimed(module) -> list[str]:
    from buildtool.model import EXCLUSIVE_KINDS

    return sorted(key for key in module.names if key.split(":", 1)[0] in EXCLUSIVE_KINDS)


def signature(module, module_names, platforms) -> dict:
    """What of a module another module's header, or the plan, depends on."""
    from buildtool.mesonplan import module_record

    return {"plan": module_record(module, module_names, platforms), "provides": list(module.provides),
            "claims": _claimed(module)}


def _catalog_json(catalog) -> dict:
    return {"libraries": sorted([lib.name, lib.dependency] for lib in catalog.libraries.values()),
            "options": sorted(catalog.options), "builtins": sorted(catalog.builtins),
            "interfaces": sorted(catalog.interfaces), "platforms": sorted(catalog.platforms)}


def _catalog_from_json(data: dict):
    from buildtool.catalog import Catalog

    catalog = Catalog(options=set(data["options"]), builtins=set(data["builtins"]),
                      interfaces=set(data["interfaces"]), platforms=set(data["platforms"]))
    for name, dependency in data["libraries"]:
        catalog.add_library(name, dependency)
    return catalog


def _fragment(module, diagnostics: list[Diagnostic]) -> str:
    """A module's part of the tree JSON: its object, then one line per diagnostic, each exactly as
    ``treefile.to_json`` writes it inside the tree, so the tree step only joins text (``buildstep.tree_step``)."""
    return _dumps(module.to_json()) + "".join(_dumps(d.to_json()) for d in diagnostics)


def write_configured(tree, catalog, source_dir: str, steps_dir: str, trigger: str) -> None:
    """Configure time: the steps file, then every module's header, fragment and block (module doc).

    ``tree`` is the whole-tree scan the plan was made from, without errors (configuration stops on them).
    """
    import importlib

    from buildtool.generate import make_skeleton
    from buildtool.model import SCHEMA_VERSION

    names = set(tree.modules)
    own: dict[str, list[Diagnostic]] = {}
    for d in tree.diagnostics:
        own.setdefault(d.module, []).append(d)
    steps = {
        "python_path": sorted({os.path.dirname(os.path.dirname(os.path.abspath(importlib.import_module(p).__file__)))
                               for p in STEP_PACKAGES}),
        "source_dir": source_dir,
        "category": os.path.basename(os.path.abspath(source_dir)),
        "trigger": trigger,
        "catalog": _catalog_json(catalog),
        "provided": sorted({i for m in tree.modules.values() for i in m.provides}),
        "modules": {name: signature(m, names, catalog.platforms) for name, m in tree.modules.items()},
        "sources": sorted(os.path.basename(m.source) for m in tree.modules.values()),
        "skeleton": make_skeleton(),
        "schema": SCHEMA_VERSION,
    }
    os.makedirs(steps_dir, exist_ok=True)
    write_if_changed(os.path.join(steps_dir, STEPS_FILE), _dumps(steps))
    # The native step runs buildstep.py's steps with this command (and `serve` for the step server).
    step_command = [sys.executable, "-I", "-S", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                              "buildstep.py")]
    write_if_changed(os.path.join(steps_dir, ARGS_NAME), "".join(arg + "\n" for arg in step_command))
    generator = HeaderGenerator()
    for name, module in sorted(tree.modules.items()):
        with open(module.source, "rb") as handle:
            payload = block_payload(handle.read())
        diagnostics = own.get(name, [])
        _write_outputs(steps_dir, module, payload, diagnostics, steps["skeleton"], generator)
        block = os.path.join(steps_dir, name + BLOCK_SUFFIX)
        write_if_changed(block, payload)


def _write_outputs(out_dir: str, module, payload: bytes, diagnostics: list[Diagnostic], skeleton: str | None,
                   generator: HeaderGenerator) -> None:
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    problems = header_problems(module, payload.decode("latin-1"), errors)
    context = header_context(module, "", problems, hash_header=True)
    text = fill_skeleton(skeleton, context) if skeleton and not problems else generator.render_context(context)
    header = os.path.join(out_dir, module.name + HEADER_SUFFIX)
    header_written = write_if_changed(header, text)
    if write_if_changed(os.path.join(out_dir, module.name + FRAGMENT_SUFFIX), _fragment(module, diagnostics)):
        # The fragment is no output ninja knows of: the tree step waits on the headers, so a fragment
        # that changed (a warning, a line number) gives its header a new time even when its bytes stay.
        if not header_written:
            os.utime(header)


def module_step(source: str, out_dir: str, name: str, steps: dict, payload: bytes | None = None) -> int:
    """Build time: one module's header and fragment from its source (``payload``: its block, when
    the caller has read it) and the steps file's content (module doc)."""
    from buildtool.commands.common import print_diagnostics
    from buildtool.resolve import TreeNames, resolve_one
    from buildtool.scan import SourceFile, with_module, scan_source

    if payload is None:
        with open(source, "rb") as handle:
            payload = block_payload(handle.read())
    path = os.path.join(steps["source_dir"], os.path.basename(source))
    scanned, found = scan_source(SourceFile(path, name, steps["category"]), payload)
    catalog = _catalog_from_json(steps["catalog"])
    others = TreeNames(frozenset(steps["modules"]), frozenset(steps["provided"]))
    module, resolved = resolve_one(scanned, catalog, others)
    diagnostics = sorted_unique([d if d.module else with_module(d, name) for d in found] + resolved)
    print_diagnostics(diagnostics)
    if not any(d.severity is Severity.ERROR for d in diagnostics):
        # With errors the module fails to compile at its MODULEINFO line; its plan is compared once fixed.
        if signature(module, others.modules, catalog.platforms) != steps["modules"].get(name):
            return plan_changed(steps["trigger"], "changed: " + name)
    _write_outputs(out_dir, module, payload, diagnostics, steps["skeleton"], HeaderGenerator())
    return 0



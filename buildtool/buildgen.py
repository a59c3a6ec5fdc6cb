"""The build-time generator of the meson build: headers from the per-module blocks, and the plan check.

The meson build (modules/meson.build, docs/build.md "The edit loop") splits the
work so that an edit costs what it changes:

1. per module, ``tools/modinfo_step.c`` (or ``buildstep.py``) copies what the
   generator needs of the source into ``NAME.modinfo.block`` and writes the
   source hash into ``NAME.modinfo.hash.h``, each only when it changes;
2. one step lists the module directory into ``module-sources.txt`` (ninja
   re-runs it when the directory's entries change);
3. this generator runs when a block or the listing changed: it scans the
   blocks as the sources themselves would scan (same prefix, same offsets,
   same diagnostics with the real source paths), writes every header whose
   content changed, the scanned tree and the tree of the modules built (the
   one meson installs), and compares the plan (``mesonplan.make_meson_plan``) with the
   one meson configured. The plan is exactly what configuration decided from
   the sources, so when it is unchanged nothing configured can be stale.

When the plan changed (a module added, removed, enabled or disabled, a library
or a required module edge changed) the build files are stale: the generator
writes nothing, marks meson's configuration out of date (it touches a file
that build.ninja's regeneration rule depends on, ``--reconfigure-trigger``)
and fails with a message. ninja brings build.ninja up to date before building
anything, so the next ``ninja`` reconfigures by itself and builds the new plan.
It cannot be the same ``ninja`` run: ninja checks its manifest once, at the
start, and meson ignores build-directory files in a configure dependency list
(docs/build.md says what was tried).
"""

from __future__ import annotations

import os
import sys

from buildtool import mesonplan
from buildtool.catalog import Catalog
from buildtool.commands.common import print_diagnostics
from buildtool.diagnostics import Severity, has_errors
from buildtool.fsutil import write_if_changed
from buildtool.generate import BLOCK_SUFFIX, HeaderGenerator, header_name
from buildtool.scan import scan


def _summary(old: str, new: str) -> str:
    """What differs between two plans, in a few words (module names first)."""
    before = {line.split("|")[1]: line for line in old.splitlines() if line.startswith("module|")}
    after = {line.split("|")[1]: line for line in new.splitlines() if line.startswith("module|")}
    parts = []
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(n for n in set(before) & set(after) if before[n] != after[n])
    if added:
        parts.append("new modules: " + ", ".join(added))
    if removed:
        parts.append("removed modules: " + ", ".join(removed))
    if changed:
        parts.append("changed: " + ", ".join(changed))
    if not parts:
        parts.append("libraries or interfaces")
    return "; ".join(parts)


def _plan_changed(trigger: str, why: str) -> int:
    try:
        os.utime(trigger)
    except OSError as exc:
        print(f"{trigger}: error: cannot mark the configuration out of date: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"buildtool: the module plan changed ({why}); the build files are regenerated when ninja runs "
          "next: run ninja again (nothing was built with the old plan)", file=sys.stderr)
    return 1


def run(source_dir: str, blocks_dir: str, out_dir: str, catalog: Catalog, configured_plan: str,
        listing: str, trigger: str, tree_out: str | None, built_tree_out: str | None = None,
        drop: frozenset[str] = frozenset()) -> int:
    """The generator's whole run (module doc); ``built_tree_out`` gets the tree without ``drop``
    (the modules meson does not build), which is what meson installs."""
    with open(configured_plan, encoding="utf-8") as handle:
        configured = handle.read()
    with open(listing, encoding="utf-8") as handle:
        present = handle.read().split()
    expected = sorted(str(m["source"]) for m in mesonplan.parse_plan(configured)["module"])
    if present != expected:
        new = sorted(set(present) - set(expected))
        gone = sorted(set(expected) - set(present))
        why = "; ".join(filter(None, ("new sources: " + ", ".join(new) if new else "",
                                      "removed sources: " + ", ".join(gone) if gone else "")))
        return _plan_changed(trigger, why)

    payloads: dict[str, bytes] = {}
    cache_path = os.path.join(out_dir, CACHE_NAME)
    cache = _load_cache(cache_path)
    parsed: dict[str, tuple] = cache.get("parsed", {})
    rendered: dict[str, tuple] = cache.get("rendered", {})
    new_parsed: dict[str, tuple] = {}
    misses: list[str] = []

    def read(source) -> bytes:
        with open(os.path.join(blocks_dir, source.name + BLOCK_SUFFIX), "rb") as handle:
            payloads[source.name] = handle.read()
        return payloads[source.name]

    def parse(source, data: bytes):
        # Parsing (lxml) is the costly part of a scan; a block that did not change
        # parses the same, so only the edited modules are parsed again.
        hit = parsed.get(source.path)
        if hit is not None and hit[0] == data:
            result = hit[1], hit[2]
        else:
            from buildtool.scan import scan_source

            result = scan_source(source, data)
            misses.append(source.path)
        new_parsed[source.path] = (data, *result)
        return result

    tree = scan([source_dir], catalog, read=read, parse=parse)
    print_diagnostics(tree.diagnostics)
    if not has_errors(tree.diagnostics):
        # With errors the plan cannot be made; the broken modules fail to compile at
        # their MODULEINFO line instead, and the plan is compared once they are fixed.
        plan = mesonplan.make_meson_plan(tree, catalog)
        extra = [d for d in plan.diagnostics if d not in tree.diagnostics]
        if plan.failed:
            print_diagnostics(extra)
            return 1
        if plan.text() != configured:
            return _plan_changed(trigger, _summary(configured, plan.text()))
    generator = HeaderGenerator()
    errors_of: dict[str, list] = {}
    for d in tree.diagnostics:
        if d.severity is Severity.ERROR and d.module:
            errors_of.setdefault(d.module, []).append(d)
    new_rendered: dict[str, tuple] = {}
    changed = False
    for name, module in sorted(tree.modules.items()):
        # A header is a function of exactly these; when they are as last time
        # (and the header is still there) it would be rewritten identically.
        key = (module, tuple(errors_of.get(name, ())), payloads[name])
        new_rendered[name] = key
        if rendered.get(name) == key and os.path.exists(os.path.join(out_dir, header_name(name))):
            continue
        changed = True
        generator.write(module, payloads[name], out_dir, errors_of.get(name, []), hash_header=True)
    same = not changed and set(rendered) == set(new_rendered) and cache.get("diagnostics") == tree.diagnostics
    if tree_out and not (same and os.path.exists(tree_out)):
        from buildtool import treefile

        write_if_changed(tree_out, treefile.to_json(tree))
    if built_tree_out and not (same and cache.get("drop") == drop and os.path.exists(built_tree_out)):
        from buildtool import treefile

        write_if_changed(built_tree_out, treefile.to_json(mesonplan.without(tree, drop)))
    if not (same and not misses and set(parsed) == set(new_parsed) and cache.get("drop") == drop):
        _save_cache(cache_path, {"parsed": new_parsed, "rendered": new_rendered, "diagnostics": tree.diagnostics,
                                 "drop": drop})
    return 0


CACHE_NAME = "modinfo-cache.pickle"


def _code_key() -> tuple:
    """What the cached parses and headers were made by: the modules that make them."""
    from buildtool import __version__

    here = os.path.dirname(os.path.abspath(__file__))
    names = ("buildgen.py", "clex.py", "extract.py", "safexml.py", "moduleinfo.py", "resolve.py", "scan.py",
             "generate.py", "model.py", "handwritten.py", os.path.join("templates", "modinfo.h.j2"))
    stamps = []
    for name in names:
        try:
            st = os.stat(os.path.join(here, name))
            stamps.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            stamps.append((name, None, None))
    return (__version__, tuple(stamps))


def _load_cache(path: str) -> dict:
    """The last run's parses and header inputs; empty when missing, unreadable or made by other code."""
    import pickle

    try:
        with open(path, "rb") as handle:
            data = pickle.load(handle)
    except Exception:  # a cache is never worth failing the build: start afresh
        return {}
    return data if isinstance(data, dict) and data.get("code") == _code_key() else {}


def _save_cache(path: str, data: dict) -> None:
    import pickle

    data["code"] = _code_key()
    write_if_changed(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))

"""Hand-written lists (``check --hand-written``): the info struct's copies against MODULEINFO.

For every module, ``.requires``, ``.optional_modules`` and ``.enhances`` inside
``AST_MODULE_INFO(...)`` (read by ``buildtool.handwritten``: adjacent literals,
several lines, any field order) are compared with what MODULEINFO declares.
``.requires`` is compared with the required modules plus the required core
built-ins, as the generator does. A module whose MODULEINFO names modules and
whose info struct names none (``AST_MODULE_INFO_STANDARD``, or no such field)
drifts too: in a tree that still relies on the copies, its loader would not
know them.

A name only the hand-written ``.requires`` has that is a core built-in
(declared in the catalogue's ``builtins``, or no module of the tree and no
other known name, and without the ``_`` every module name has, like ``cdr``,
``http``) is ``hand-written-builtin``, not drift: MODULEINFO says it with
``<depend>cdr</depend>`` once the catalogue declares ``builtins = ["cdr"]``.

A field under a preprocessor conditional (``#ifdef HAVE_PJPROJECT``) holds
only when its condition does, which MODULEINFO cannot express: it is reported
as ``hand-written-conditional`` (a note with the condition), never compared
and never dropped (``migrate`` leaves it in place).
"""

from __future__ import annotations

from typing import Mapping

from buildtool import handwritten
from buildtool.catalog import Catalog
from buildtool.diagnostics import Diagnostic, error, note, warning
from buildtool.resolve import is_builtin
from buildtool.model import Module, Tree


def declared(module: Module) -> dict[str, set[str]]:
    return {"requires": set(module.requires) | set(module.builtins),
            "optional_modules": set(module.optional_modules),
            "enhances": set(module.enhances)}


def check(tree: Tree, sources: Mapping[str, bytes], catalog: Catalog, injected: bool = False) -> list[Diagnostic]:
    findings: list[Diagnostic] = []
    for name in sorted(tree.modules):
        module = tree.modules[name]
        data = sources.get(name)
        if data is None:
            continue
        findings.extend(check_module(module, data.decode("latin-1"), tree, catalog, injected))
    return findings


def check_module(module: Module, text: str, tree: Tree, catalog: Catalog, injected: bool = False) -> list[Diagnostic]:
    """``injected``: the build injects MODULEINFO (an Asterisk tree after asterisk-setup), so a
    list that is not written by hand is the goal, not drift; only written lists are compared."""
    found = handwritten.find(text)
    wanted = declared(module)
    out: list[Diagnostic] = []
    name = module.name
    for field in handwritten.LIST_FIELDS:
        item = found.fields.get(field) if found else None
        if item is not None and item.condition:
            out.append(note(module.source, item.line, item.column, "hand-written-conditional",
                            f"hand-written .{field} = {item.text} holds only under {item.condition}: a conditional "
                            "dependency that MODULEINFO cannot express; it keeps precedence and migrate leaves it",
                            module=name, data={"field": field, "condition": item.condition}))
            continue
        if item is not None and item.value is None:
            out.append(warning(module.source, item.line, item.column, "hand-written-unreadable",
                               f"hand-written .{field} = {item.text} is not a string literal; it cannot be compared "
                               "with MODULEINFO", module=name, data={"field": field}))
            continue
        if item is None and injected:
            continue
        written = set(item.names()) if item else set()
        if item:
            line, column = item.line, item.column
        elif found:
            line, column = found.line, 1
        else:
            line, column = max(module.line, 1), 1
        only_hand = written - wanted[field]
        builtins = sorted(n for n in only_hand if field == "requires" and is_builtin(n, tree, catalog))
        only_hand = sorted(only_hand - set(builtins))
        only_info = sorted(wanted[field] - written)
        if only_hand or only_info:
            parts = []
            if only_info:
                parts.append("only in MODULEINFO: " + ", ".join(only_info))
            if only_hand:
                parts.append("only hand-written: " + ", ".join(only_hand))
            if item:
                message = f'hand-written .{field} = "{item.value}" disagrees with MODULEINFO ({"; ".join(parts)})'
            else:
                message = (f"the info struct has no .{field}, but MODULEINFO declares {', '.join(only_info)} "
                           f"(add .{field} = \"{','.join(sorted(wanted[field]))}\" or inject it)")
            out.append(error(module.source, line, column, "hand-written-drift", message, module=name,
                             data={"field": field, "only_in_moduleinfo": only_info,
                                   "only_in_hand_written": only_hand}))
        if builtins:
            undeclared = [n for n in builtins if n not in catalog.builtins]
            hint = "add " + " ".join(f"<depend>{n}</depend>" for n in builtins) + " to MODULEINFO"
            if undeclared:
                hint += " and declare " + ", ".join(undeclared) + " in the catalogue's builtins"
            out.append(error(module.source, line, column, "hand-written-builtin",
                             f"hand-written .{field} names core built-in {', '.join(builtins)}, which MODULEINFO "
                             f"does not declare: {hint} (buildtool migrate does it)", module=name,
                             data={"field": field, "only_in_hand_written": builtins, "only_in_moduleinfo": [],
                                   "not_in_catalogue": undeclared}))
    return out

"""The tree's serialized forms: JSON (model.SCHEMA_VERSION), menuselect XML, a text summary."""

from __future__ import annotations

import json

from lxml import etree

from buildtool.errors import InputError
from buildtool.fields import FIELDS, LIST, Field
from buildtool.model import Tree


def to_json(tree: Tree) -> str:
    """Compact, sorted keys, one line: json's C encoder only runs without ``indent``
    (5x faster on a large tree); pipe it through ``python -m json.tool`` to read it."""
    return json.dumps(tree.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def read(path: str) -> Tree:
    try:
        with open(path, encoding="utf-8") as handle:  # not pathlib: start-up counts (issue 9)
            data = json.loads(handle.read())
        return Tree.from_json(data)
    except OSError as exc:
        raise InputError(path, 0, 0, f"cannot read tree: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(path, 1, 1, f"not a buildtool tree: {exc}") from None


def _groups(order: tuple[str, ...]) -> list[tuple[Field, ...]]:
    """The field table's MODULEINFO lists, those sharing a JSON key (libraries: required, optional)
    together, in ``order`` (by JSON key), then the others in table order."""
    groups: dict[str, list[Field]] = {}
    for f in FIELDS:
        if f.kind == LIST and f.tag:
            groups.setdefault(f.json[0], []).append(f)
    keys = [k for k in order if k in groups] + [k for k in groups if k not in order]
    return [tuple(groups[k]) for k in keys]


# menuselect's element order: an entry of several fields is one run of elements ordered by name (the
# required and optional interfaces). Libraries and required build options are untyped <depend>s
# there, and built-ins a <use type="builtin"> (docs/scanner.md, "builtin"): menuselect drops a module
# whose <depend> it cannot find. A list not named here comes last, in table order.
_MENUSELECT_ORDER = ("requires", "libraries_required", "options_required", "builtins",
                     ("interfaces_required", "interfaces_optional"), "optional_modules", "libraries_optional",
                     "options_optional", "provides", "enhances", "conflicts")
_MENUSELECT_TAGS = {"libraries_required": ("depend", None), "options_required": ("depend", None),
                    "builtins": ("use", "builtin"), "options_optional": ("use", None)}
_MENUSELECT_RANK = {name: rank for rank, entry in enumerate(_MENUSELECT_ORDER)
                    for name in ((entry,) if isinstance(entry, str) else entry)}
_MENUSELECT_RUNS = {name for entry in _MENUSELECT_ORDER if not isinstance(entry, str) for name in entry}
_MENUSELECT_FIELDS = sorted((f for f in FIELDS if f.kind == LIST and f.tag),
                            key=lambda f: _MENUSELECT_RANK.get(f.name, len(_MENUSELECT_ORDER)))


def _menuselect_items(module) -> list[tuple[str, str | None, str]]:
    """The module's lists as menuselect elements (tag, type, name), in menuselect's order."""
    items = []
    for f in _MENUSELECT_FIELDS:
        tag, kind = _MENUSELECT_TAGS.get(f.name, (f.tag, f.tag_type))
        rank = _MENUSELECT_RANK.get(f.name, len(_MENUSELECT_ORDER))
        items += [(rank, n if f.name in _MENUSELECT_RUNS else "", tag, kind, n) for n in getattr(module, f.name)]
    items.sort(key=lambda item: item[:2])  # stable: a field's names stay in order, a run's go by name
    return [item[2:] for item in items]


# The summary's order and labels; a pair is "required, optional?".
_TEXT_GROUPS = [({"optional_modules": "optional"}.get(g[0].json[0], g[0].json[0]), g)
                for g in _groups(("requires", "optional_modules", "enhances", "provides", "interfaces",
                                  "libraries", "options", "builtins", "conflicts"))]


def to_menuselect_xml(tree: Tree) -> str:
    """menuselect-tree compatible XML: a <category> per module directory, a <member> per module."""
    root = etree.Element("menu", name="Asterisk Module Selection")
    categories: dict[str, etree._Element] = {}
    for name in sorted(tree.modules):
        module = tree.modules[name]
        category = module.category or "modules"
        if category not in categories:
            categories[category] = etree.SubElement(
                root, "category", name=f"MENUSELECT_{category.upper()}", displayname=category, remove_on_change="")
        member = etree.SubElement(categories[category], "member", name=name, displayname=module.displayname or name,
                                  remove_on_change=f"{category}/{name}.o {category}/{name}.so")
        if module.support_level:
            etree.SubElement(member, "support_level").text = module.support_level
        if not module.default_enabled:
            etree.SubElement(member, "defaultenabled").text = "no"
        for tag, kind, value in _menuselect_items(module):
            etree.SubElement(member, tag, **({"type": kind} if kind else {})).text = value
        for tag, value in (("deprecated_in", module.deprecated_in), ("removed_in", module.removed_in),
                           ("replacement", module.replacement)):
            if value:
                etree.SubElement(member, tag).text = value
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def to_text(tree: Tree) -> str:
    lines = []
    for name in sorted(tree.modules):
        m = tree.modules[name]
        parts = [f"{name} [{m.support_level or 'unspecified'}]"]
        for label, group in _TEXT_GROUPS:
            values = tuple(n + ("?" if f.tag == "use" and len(group) > 1 else "")
                           for f in group for n in getattr(m, f.name))
            if values:
                parts.append(f"{label}: {', '.join(values)}")
        if m.replacement:
            parts.append(f"replaced by {m.replacement}")
        lines.append("  ".join(parts))
    errors = sum(1 for d in tree.diagnostics if d.severity.value == "error")
    warnings = sum(1 for d in tree.diagnostics if d.severity.value == "warning")
    lines.append(f"{len(tree.modules)} modules, {errors} errors, {warnings} warnings")
    return "\n".join(lines) + "\n"

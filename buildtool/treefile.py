"""The tree's serialized forms: JSON (schema 3, model.SCHEMA_VERSION), menuselect XML, a text summary."""

from __future__ import annotations

import json

from lxml import etree

from buildtool.errors import InputError
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
        for dep in module.requires:
            etree.SubElement(member, "depend", type="module").text = dep
        for dep in module.libraries_required + module.options_required:
            etree.SubElement(member, "depend").text = dep
        for builtin in module.builtins:
            # menuselect would drop a module whose <depend> it cannot find (docs/scanner.md, "builtin").
            etree.SubElement(member, "use", type="builtin").text = builtin
        for iface in module.uses:
            etree.SubElement(member, "depend" if iface.required else "use", type="interface").text = iface.name
        for dep in module.optional_modules:
            etree.SubElement(member, "use", type="module").text = dep
        for dep in module.libraries_optional:
            etree.SubElement(member, "use", type="external").text = dep
        for dep in module.options_optional:
            etree.SubElement(member, "use").text = dep
        for iface in module.provides:
            etree.SubElement(member, "provide").text = iface
        for target in module.enhances:
            etree.SubElement(member, "enhance").text = target
        for other in module.conflicts:
            etree.SubElement(member, "conflict").text = other
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
        for label, values in (("requires", m.requires), ("optional", m.optional_modules),
                              ("enhances", m.enhances), ("provides", m.provides),
                              ("uses", tuple(u.name + ("" if u.required else "?") for u in m.uses)),
                              ("libraries", m.libraries_required + tuple(x + "?" for x in m.libraries_optional)),
                              ("options", m.options_required + tuple(x + "?" for x in m.options_optional)),
                              ("builtins", m.builtins), ("conflicts", m.conflicts)):
            if values:
                parts.append(f"{label}: {', '.join(values)}")
        if m.replacement:
            parts.append(f"replaced by {m.replacement}")
        lines.append("  ".join(parts))
    errors = sum(1 for d in tree.diagnostics if d.severity.value == "error")
    warnings = sum(1 for d in tree.diagnostics if d.severity.value == "warning")
    lines.append(f"{len(tree.modules)} modules, {errors} errors, {warnings} warnings")
    return "\n".join(lines) + "\n"

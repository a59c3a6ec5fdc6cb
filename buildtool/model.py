"""The normalized dependency tree: what every later stage reads.

A ``Module`` holds only classified names: by the time one exists, every name in
its MODULEINFO block has been decided to be a module, a core built-in, a
library, a build option or an interface (see ``resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, make_dataclass
from typing import Any, Iterable, Mapping

from buildtool.diagnostics import Diagnostic
from buildtool.fields import FIELDS, LIST, MODULE_LISTS, json_get, json_put

# The version of the injected record layout (include/asterisk/module.h,
# AST_MODULE_INFO_ABI_VERSION): the generator writes it, buildtool.elfinfo reads it back.
ABI_VERSION = 1

# 2 added ``displayname``; 3 added ``names`` (what a module's DOCUMENTATION says it provides);
# 4 replaced ``uses`` (a list of {name, required}) by ``interfaces`` ({required, optional}, as libraries).
SCHEMA_VERSION = 4
# Older trees are still read: displayname is then "", names ().
READABLE_SCHEMAS = (1, 2, 3, 4)

SUPPORT_LEVELS = ("core", "extended", "deprecated", "external")

# What a module provides by name: the DOCUMENTATION elements that name what its load() registers
# (dialplan applications and functions, AMI actions, AGI commands, configuration files). A name is
# carried as "kind:name" in the tree, the record and modules.conf.
PROVIDED_KINDS = ("application", "function", "manager", "agi", "configInfo")
# Kinds where two modules claiming one name is an error: the dialplan can only run one of them.
EXCLUSIVE_KINDS = ("application", "function")


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def _module_post_init(self) -> None:
    # One canonical form (sorted, unique) so equal data is equal bytes everywhere.
    for name in MODULE_LISTS:
        object.__setattr__(self, name, _names(getattr(self, name)))


def _module_to_json(self) -> dict[str, Any]:
    out: dict[str, Any] = {"category": self.category, "displayname": self.displayname, "line": self.line,
                           "name": self.name, "source": self.source}
    for f in _DATA:
        value = getattr(self, f.name)
        json_put(out, f, list(value) if f.kind == LIST else value)
    return out


def _module_from_json(cls, obj: Mapping[str, Any]) -> "Module":
    data = {f.name: json_get(obj, f, f.default) for f in _DATA}
    if "uses" in obj:  # schema 1 to 3: [{"name": iface, "required": bool}]
        data["interfaces_required"] = [u["name"] for u in obj["uses"] if u["required"]]
        data["interfaces_optional"] = [u["name"] for u in obj["uses"] if not u["required"]]
    return cls(name=obj["name"], source=obj["source"], line=obj["line"], category=obj.get("category", ""),
               displayname=obj.get("displayname", ""),
               **{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


# Every datum of the field table that a module carries (those with a tree JSON key).
_DATA = tuple(f for f in FIELDS if f.json is not None)

# A scanned module: where it is, and its data as the field table (buildtool/fields.py) lists it, each
# attribute named as the table names it (``requires``, ``interfaces_optional``, ``support_level``...).
# Made from the table, so a field added there is an attribute, a JSON key and a canonical list here.
Module = make_dataclass(
    "Module",
    [("name", str), ("source", str), ("line", int),
     ("category", str, field(default="")),
     # Asterisk's menuselect display name (the AST_MODULE_INFO description)
     ("displayname", str, field(default=""))]
    + [(f.name, Any, field(default=f.default)) for f in _DATA],
    frozen=True,
    namespace={"__post_init__": _module_post_init, "to_json": _module_to_json,
               "from_json": classmethod(_module_from_json), "__module__": __name__},
)


@dataclass(frozen=True)
class Tree:
    modules: Mapping[str, Module]
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "modules": {name: self.modules[name].to_json() for name in sorted(self.modules)},
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Tree":
        if obj.get("schema") not in READABLE_SCHEMAS:
            raise ValueError(f"unsupported tree schema {obj.get('schema')!r} (expected {SCHEMA_VERSION})")
        return cls(
            modules={name: Module.from_json(m) for name, m in obj["modules"].items()},
            diagnostics=tuple(Diagnostic.from_json(d) for d in obj.get("diagnostics", ())),
        )

    def providers(self, interface: str) -> tuple[str, ...]:
        return tuple(sorted(n for n, m in self.modules.items() if interface in m.provides))

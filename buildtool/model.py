"""The normalized dependency tree: what every later stage reads.

A ``Module`` holds only classified names: by the time one exists, every name in
its MODULEINFO block has been decided to be a module, a core built-in, a
library, a build option or an interface (see ``resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from buildtool.diagnostics import Diagnostic

# The version of the injected record layout (include/asterisk/module.h,
# AST_MODULE_INFO_ABI_VERSION): the generator writes it, buildtool.elfinfo reads it back.
ABI_VERSION = 1

# 2 added ``displayname``; 3 added ``names`` (what a module's DOCUMENTATION says it provides).
SCHEMA_VERSION = 3
# Older trees are still read: displayname is then "", names ().
READABLE_SCHEMAS = (1, 2, 3)

SUPPORT_LEVELS = ("core", "extended", "deprecated", "external")

# What a module provides by name: the DOCUMENTATION elements that name what its load() registers
# (dialplan applications and functions, AMI actions, AGI commands, configuration files). A name is
# carried as "kind:name" in the tree, the record and modules.conf.
PROVIDED_KINDS = ("application", "function", "manager", "agi", "configInfo")
# Kinds where two modules claiming one name is an error: the dialplan can only run one of them.
EXCLUSIVE_KINDS = ("application", "function")


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


@dataclass(frozen=True, order=True)
class InterfaceUse:
    name: str
    required: bool

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "required": self.required}


@dataclass(frozen=True)
class Module:
    name: str
    source: str
    line: int
    category: str = ""
    displayname: str = ""  # Asterisk's menuselect display name (the AST_MODULE_INFO description)
    support_level: str | None = None
    default_enabled: bool = True
    requires: tuple[str, ...] = ()
    optional_modules: tuple[str, ...] = ()
    enhances: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    uses: tuple[InterfaceUse, ...] = ()
    libraries_required: tuple[str, ...] = ()
    libraries_optional: tuple[str, ...] = ()
    options_required: tuple[str, ...] = ()
    options_optional: tuple[str, ...] = ()
    builtins: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    deprecated_in: str | None = None
    removed_in: str | None = None
    replacement: str | None = None
    # What the module provides by name, from its DOCUMENTATION blocks: "kind:name" strings
    # ("application:Gosub", "function:LEN"; kinds in xmldoc.PROVIDED_KINDS).
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # One canonical form (sorted, unique) so equal data is equal bytes everywhere.
        for name in ("requires", "optional_modules", "enhances", "provides", "libraries_required",
                     "libraries_optional", "options_required", "options_optional", "builtins", "conflicts", "names"):
            object.__setattr__(self, name, _names(getattr(self, name)))
        object.__setattr__(self, "uses", tuple(sorted(set(self.uses))))

    @property
    def required_interfaces(self) -> tuple[str, ...]:
        return tuple(u.name for u in self.uses if u.required)

    @property
    def optional_interfaces(self) -> tuple[str, ...]:
        return tuple(u.name for u in self.uses if not u.required)

    def to_json(self) -> dict[str, Any]:
        return {
            "builtins": list(self.builtins),
            "category": self.category,
            "conflicts": list(self.conflicts),
            "default_enabled": self.default_enabled,
            "deprecated_in": self.deprecated_in,
            "displayname": self.displayname,
            "enhances": list(self.enhances),
            "libraries": {"optional": list(self.libraries_optional), "required": list(self.libraries_required)},
            "line": self.line,
            "name": self.name,
            "names": list(self.names),
            "optional_modules": list(self.optional_modules),
            "options": {"optional": list(self.options_optional), "required": list(self.options_required)},
            "provides": list(self.provides),
            "removed_in": self.removed_in,
            "replacement": self.replacement,
            "requires": list(self.requires),
            "source": self.source,
            "support_level": self.support_level,
            "uses": [u.to_json() for u in self.uses],
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Module":
        return cls(
            name=obj["name"],
            source=obj["source"],
            line=obj["line"],
            category=obj.get("category", ""),
            displayname=obj.get("displayname", ""),
            support_level=obj.get("support_level"),
            default_enabled=obj.get("default_enabled", True),
            requires=tuple(obj.get("requires", ())),
            optional_modules=tuple(obj.get("optional_modules", ())),
            enhances=tuple(obj.get("enhances", ())),
            provides=tuple(obj.get("provides", ())),
            uses=tuple(InterfaceUse(u["name"], u["required"]) for u in obj.get("uses", ())),
            libraries_required=tuple(obj.get("libraries", {}).get("required", ())),
            libraries_optional=tuple(obj.get("libraries", {}).get("optional", ())),
            options_required=tuple(obj.get("options", {}).get("required", ())),
            options_optional=tuple(obj.get("options", {}).get("optional", ())),
            builtins=tuple(obj.get("builtins", ())),
            conflicts=tuple(obj.get("conflicts", ())),
            deprecated_in=obj.get("deprecated_in"),
            removed_in=obj.get("removed_in"),
            replacement=obj.get("replacement"),
            names=tuple(obj.get("names", ())),
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

"""The field table: every piece of a module's dependency data, written once.

Each ``Field`` says where one datum lives in every form it takes: the
``model.Module`` attribute (also the loader's ``ModuleMeta`` attribute and the
meson plan column), the MODULEINFO element that declares it, the tree JSON key,
the ``.ast_modinfo`` record key, the ``struct ast_module_info`` member and the
generated header's ``AST_MODULE_<macro>``. The generator and its template, the
record reader, the ctypes mirror, xmldoc, the tree renderers and the meson plan
all iterate over ``FIELDS``; ``include/asterisk/module.h`` is C written by
hand, and tests/test_fields.py checks it against this table.

The record key, member and macro of the interface fields keep their first
names (``uses``: required interfaces, ``optional_uses``: optional ones):
changing them would change every module's bytes and the ABI. Everywhere in
Python they are ``interfaces_required`` and ``interfaces_optional``, as
libraries and options are; MODULEINFO's ``<use>`` always means optional.

"Library" is the one name of a shared library a module links (MODULEINFO's
``type="external"``, Asterisk's word, is kept only where that syntax is read
or written).
"""

from __future__ import annotations

from dataclasses import dataclass

LIST = "list"      # sorted, unique names; "a,b" in the record, a JSON array, "a b" in the meson plan
SCALAR = "scalar"  # one value or none


@dataclass(frozen=True)
class Field:
    name: str                          # model.Module / loader ModuleMeta attribute, meson plan column
    kind: str                          # LIST or SCALAR
    json: tuple[str, ...] | None       # key path in the tree JSON (None: not in the tree)
    tag: str | None = None             # the MODULEINFO element that declares it (None: not from MODULEINFO)
    tag_type: str | None = None        # its type= as written in MODULEINFO and xmldoc (None: untyped)
    record: str | None = None          # "key=value" key in the .ast_modinfo record (None: not injected)
    member: str | None = None          # struct ast_module_info member (None: record only)
    macro: str | None = None           # AST_MODULE_<macro> in the generated header
    asterisk: bool = False             # one of Asterisk's own members: at the place Asterisk's struct has it
    boolean: bool = False              # a SCALAR that is true or false ("yes"/"no" in the record)
    # A column of the meson plan (buildtool/mesonplan.py): it decides whether or how the module is
    # built. An edit to any other field rewrites headers without re-configuring.
    plan: bool = False

    @property
    def default(self):
        """The value when MODULEINFO does not say (<defaultenabled> is "yes" when absent)."""
        return () if self.kind == LIST else (True if self.boolean else None)


# In the record's order; the members not of Asterisk's struct follow in this order too.
FIELDS: tuple[Field, ...] = (
    Field("requires", LIST, ("requires",), "depend", "module", "requires", "requires", "REQUIRES", asterisk=True,
          plan=True),
    Field("optional_modules", LIST, ("optional_modules",), "use", "module", "optional_modules", "optional_modules",
          "OPTIONAL_MODULES", asterisk=True),
    Field("enhances", LIST, ("enhances",), "enhance", None, "enhances", "enhances", "ENHANCES", asterisk=True),
    Field("provides", LIST, ("provides",), "provide", None, "provides", "provides", "PROVIDES"),
    Field("interfaces_required", LIST, ("interfaces", "required"), "depend", "interface", "uses", "uses", "USES",
          plan=True),
    Field("interfaces_optional", LIST, ("interfaces", "optional"), "use", "interface", "optional_uses",
          "optional_uses", "OPTIONAL_USES"),
    Field("libraries_required", LIST, ("libraries", "required"), "depend", "external", "libraries", "libraries",
          "LIBRARIES", plan=True),
    Field("libraries_optional", LIST, ("libraries", "optional"), "use", "external", "optional_libraries",
          "optional_libraries", "OPTIONAL_LIBRARIES", plan=True),
    Field("options_required", LIST, ("options", "required"), "depend", "option", "options", "options", "OPTIONS",
          plan=True),
    Field("builtins", LIST, ("builtins",), "depend", "builtin", "builtins", "builtins", "BUILTINS"),
    Field("conflicts", LIST, ("conflicts",), "conflict", None, "conflicts", "conflicts", "CONFLICTS",
          plan=True),
    Field("support_level", SCALAR, ("support_level",), "support_level", None, "support_level", "support_level",
          "SUPPORT_LEVEL", asterisk=True),
    Field("default_enabled", SCALAR, ("default_enabled",), "defaultenabled", None, "default_enabled", boolean=True),
    Field("deprecated_in", SCALAR, ("deprecated_in",), "deprecated_in", None, "deprecated_in"),
    Field("removed_in", SCALAR, ("removed_in",), "removed_in", None, "removed_in"),
    Field("replacement", SCALAR, ("replacement",), "replacement", None, "replacement"),
    # Computed from the source bytes by the generator (or the build step), not a Module attribute.
    Field("source_hash", SCALAR, None, None, None, "source_hash", "source_hash", "SOURCE_HASH"),
    # What the module provides by name, from its DOCUMENTATION ("application:Gosub"), so a loader
    # resolves a name to its module from the binaries alone.
    Field("names", LIST, ("names",), None, None, "names"),
    # Declared, but not injected: an optional build option changes only how the module is compiled.
    Field("options_optional", LIST, ("options", "optional"), "use", "option", plan=True),
)

# The lists of a Module, in table order.
MODULE_LISTS = tuple(f.name for f in FIELDS if f.kind == LIST)
# The meson plan's columns.
PLAN_LISTS = tuple(f.name for f in FIELDS if f.plan)
# What the record carries, in its order.
RECORD_FIELDS = tuple(f for f in FIELDS if f.record)
RECORD_LISTS = tuple(f.record for f in RECORD_FIELDS if f.kind == LIST)
RECORD_BOOLEANS = tuple(f.record for f in RECORD_FIELDS if f.boolean)
# The comma-separated lists the header defines as AST_MODULE_<macro> (struct members).
HEADER_LISTS = tuple(f for f in FIELDS if f.kind == LIST and f.macro)


def record_text(field: Field, value) -> str:
    """A Module attribute's value as the record (and the header) writes it."""
    if field.kind == LIST:
        return ",".join(value)
    if field.boolean:
        return "yes" if value else "no"
    return value or ""


def json_get(obj: dict, field: Field, default=None):
    """The field's value in a tree JSON module object (``default`` when absent)."""
    for key in field.json[:-1]:
        obj = obj.get(key, {})
    return obj.get(field.json[-1], default)


def json_put(obj: dict, field: Field, value) -> None:
    for key in field.json[:-1]:
        obj = obj.setdefault(key, {})
    obj[field.json[-1]] = value

"""Recognise the shape of an Asterisk ``include/asterisk/module.h`` that injection relies on.

Injection goes through compiler flags only (a forced include), so it depends on
two facts of the header, checked here and nowhere assumed:

- ``struct ast_module_info`` has the members the injected data fills:
  ``requires``, ``optional_modules``, ``enhances`` (Asterisk 16 and later) and
  ``support_level``;
- the plain-C ``AST_MODULE_INFO(keystr, flags_to_set, desc, fields...)`` is a
  designated initializer of ``__mod_info`` whose hand-written ``fields`` come
  last, so fields placed before them are overridden by a hand-written one, as
  a hand-written field must keep precedence until it is migrated.

The macro's body is taken from the header itself (``original``) and re-defined
under another name, so the injected struct is always this Asterisk version's
own, constructor and all. Anything else is a refusal naming the header's line,
never a silently wrong struct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from buildtool.errors import InputError

MODULE_H = "include/asterisk/module.h"
INJECTED_MEMBERS = ("requires", "optional_modules", "enhances", "support_level")
PARAMETERS = ("keystr", "flags_to_set", "desc", "fields...")

_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+AST_MODULE_INFO\(([^)]*)\)((?:[^\n]*\\\n)*[^\n]*)", re.M)
_STRUCT = re.compile(r"^struct ast_module_info\s*\{(.*?)^\};", re.M | re.S)
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


@dataclass(frozen=True)
class ModuleHeader:
    path: str
    version: str          # the tree's .version, or "unknown"
    parameters: tuple[str, ...]
    body: str             # the plain-C AST_MODULE_INFO body, continuation lines joined
    line: int             # where that #define is


def _refuse(path: str, line: int, what: str) -> InputError:
    return InputError(path, line, 1, f"unsupported Asterisk module.h: {what}; buildtool asterisk-setup "
                                     "supports the designated-initializer AST_MODULE_INFO of Asterisk 16 and later "
                                     "and refuses any other shape rather than inject into a struct it does not know")


def read(root: str) -> ModuleHeader:
    """The module.h of an Asterisk source tree (its version from ``.version``)."""
    version_file = Path(root) / ".version"
    version = version_file.read_text(encoding="latin-1").strip() if version_file.is_file() else "unknown"
    return parse_file(str(Path(root) / MODULE_H), version)


def parse_file(path: str, version: str = "installed") -> ModuleHeader:
    try:
        text = Path(path).read_text(encoding="latin-1")
    except OSError as exc:
        raise InputError(path, 0, 0, f"cannot read Asterisk's module.h: {exc.strerror}") from None
    return parse(path, text, version)


def parse(path: str, text: str, version: str = "unknown") -> ModuleHeader:
    struct = _STRUCT.search(text)
    if struct is None:
        raise _refuse(path, 1, "no 'struct ast_module_info {' definition")
    members = set(re.findall(r"\b(\w+)\s*(?:\[[^\]]*\])?\s*;", _COMMENTS.sub("", struct.group(1))))
    missing = [m for m in INJECTED_MEMBERS if m not in members]
    if missing:
        line = text.count("\n", 0, struct.start()) + 1
        raise _refuse(path, line, "struct ast_module_info has no " + ", ".join(missing)
                      + " (Asterisk before 16 has no .requires)")
    # The plain-C definition is the one whose parameters end in "fields..." (the
    # C++ one is positional); there must be exactly one.
    candidates = [m for m in _DEFINE.finditer(text)
                  if tuple(p.strip() for p in m.group(1).split(","))[-1:] == ("fields...",)]
    if len(candidates) != 1:
        raise _refuse(path, 1, f"expected one plain-C '#define AST_MODULE_INFO(..., fields...)', found {len(candidates)}")
    define = candidates[0]
    line = text.count("\n", 0, define.start()) + 1
    parameters = tuple(p.strip() for p in define.group(1).split(","))
    if parameters != PARAMETERS:
        raise _refuse(path, line, f"AST_MODULE_INFO takes ({', '.join(parameters)}), not ({', '.join(PARAMETERS)})")
    body = " ".join(_COMMENTS.sub(" ", define.group(2).replace("\\\n", " ")).split())
    # The struct must be one designated initializer of __mod_info ending in the
    # hand-written fields: "... __mod_info = { .name = ..., fields };".
    initializer = re.match(r"static (?:const )?struct ast_module_info __mod_info = \{(.*?)\};", body)
    if initializer is None:
        raise _refuse(path, line, "AST_MODULE_INFO does not start with 'static struct ast_module_info __mod_info = {...};'")
    items = [item.strip() for item in initializer.group(1).split(",")]
    if items[-1] != "fields" or not all(item.startswith(".") for item in items[:-1]):
        raise _refuse(path, line, "the __mod_info initializer is not designated fields followed by 'fields'")
    return ModuleHeader(path, version, parameters, body, line)

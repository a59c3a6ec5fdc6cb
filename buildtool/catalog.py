"""What names mean when they are not modules of the scanned tree.

Three input forms, merged in the order given:

- the project's TOML (``*.toml``, read with ``tomllib``)::

      options = ["TEST_FRAMEWORK"]        # build options
      builtins = ["cdr", "http"]          # core built-in modules
      interfaces = ["sorcery"]            # interfaces provided outside the tree
      platforms = ["win32"]               # operating systems (for <conflict>)
      [libraries]
      zlib = "zlib"                       # name = meson/pkg-config dependency
      crypto = { dependency = "libcrypto" }

- Asterisk's ``menuselect-deps`` / ``menuselect-deps.in`` (``KEY=...`` lines):
  every key is a library, matched case-insensitively as menuselect does;
- menuselect XML (``build_tools/cflags.xml`` and the like): every
  ``<member name="...">`` is a build option (parsed by ``buildtool.safexml``:
  a DTD or entity declaration is refused).

Library names compare case-insensitively everywhere; the other kinds exactly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from buildtool import safexml
from buildtool.errors import InputError


@dataclass(frozen=True)
class Library:
    name: str
    dependency: str  # the meson dependency() / pkg-config name


@dataclass
class Catalog:
    libraries: dict[str, Library] = field(default_factory=dict)  # keyed by lower-case name
    options: set[str] = field(default_factory=set)
    builtins: set[str] = field(default_factory=set)
    interfaces: set[str] = field(default_factory=set)
    platforms: set[str] = field(default_factory=set)

    def library(self, name: str) -> Library | None:
        return self.libraries.get(name.lower())

    def add_library(self, name: str, dependency: str | None = None) -> None:
        self.libraries.setdefault(name.lower(), Library(name, dependency or name))

    def known_names(self) -> set[str]:
        return ({lib.name for lib in self.libraries.values()} | self.options | self.builtins
                | self.interfaces | self.platforms)

    def merge(self, other: "Catalog") -> None:
        for key, lib in other.libraries.items():
            self.libraries[key] = lib
        self.options |= other.options
        self.builtins |= other.builtins
        self.interfaces |= other.interfaces
        self.platforms |= other.platforms


_LIST_KEYS = ("options", "builtins", "interfaces", "platforms")
_DEPS_LINE = re.compile(r"^([A-Za-z0-9_]+)\s*=")


def _toml_position(path: str, text: str, exc: Exception) -> InputError:
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
    if "(at end of document)" in str(exc):
        line, col = text.count("\n") + 1, len(text) - (text.rfind("\n") + 1) + 1
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
    return InputError(path, line, col, f"invalid TOML: {message}")


def _key_position(text: str, key: str) -> tuple[int, int]:
    match = re.search(rf"^[ \t]*\[?[ \t]*{re.escape(key)}\b", text, re.M)
    if not match:
        return 1, 1
    line = text.count("\n", 0, match.start()) + 1
    return line, 1


def load_toml(path: str, text: str) -> Catalog:
    import tomllib  # only TOML catalogues pay for the import

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_position(path, text, exc) from None
    catalog = Catalog()
    for key in data:
        if key not in _LIST_KEYS and key != "libraries":
            raise InputError(path, *_key_position(text, key),
                             f"unknown catalogue key '{key}' (expected libraries, " + ", ".join(_LIST_KEYS) + ")")
    for key in _LIST_KEYS:
        values = data.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise InputError(path, *_key_position(text, key), f"'{key}' must be a list of names")
        getattr(catalog, key).update(values)
    libraries = data.get("libraries", {})
    if not isinstance(libraries, dict):
        raise InputError(path, *_key_position(text, "libraries"), "'libraries' must be a table")
    for name, spec in libraries.items():
        if isinstance(spec, str):
            catalog.add_library(name, spec)
        elif isinstance(spec, dict) and set(spec) <= {"dependency"} and isinstance(spec.get("dependency", name), str):
            catalog.add_library(name, spec.get("dependency", name))
        else:
            raise InputError(path, *_key_position(text, name),
                             f"library '{name}' must be a dependency name or {{ dependency = \"...\" }}")
    return catalog


def to_toml(catalog: Catalog) -> str:
    """The catalogue in the TOML form ``load_toml`` reads (sorted: same catalogue, same bytes)."""
    import json  # a JSON string of these names is a valid TOML basic string

    lines = [f"{key} = [{', '.join(json.dumps(v) for v in sorted(getattr(catalog, key)))}]" for key in _LIST_KEYS]
    lines.append("[libraries]")
    for key in sorted(catalog.libraries):
        lib = catalog.libraries[key]
        lines.append(f"{json.dumps(lib.name)} = {json.dumps(lib.dependency)}")
    return "\n".join(lines) + "\n"


def load_menuselect_deps(path: str, text: str) -> Catalog:
    catalog = Catalog()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _DEPS_LINE.match(line)
        if not match:
            raise InputError(path, number, 1, f"expected KEY=VALUE, got {line[:40]!r}")
        catalog.add_library(match.group(1).lower())
    return catalog


def load_menuselect_xml(path: str, data: bytes) -> Catalog:
    try:
        root = safexml.parse(data, "menuselect XML")
    except safexml.XMLError as exc:
        message = f"invalid menuselect XML: {exc.message}" if exc.kind == "syntax" else exc.message
        raise InputError(path, exc.line, max(exc.column, 1), message) from None
    catalog = Catalog()
    for member in root.iter("member"):
        name = member.get("name")
        if name:
            catalog.options.add(name)
    return catalog


def load(path: str) -> Catalog:
    """Read one catalogue file, choosing the form by its name."""
    try:
        with open(path, "rb") as handle:  # open/os, not pathlib: `buildtool scan` start-up counts (issue 9)
            data = handle.read()
    except OSError as exc:
        raise InputError(path, 0, 0, f"cannot read catalogue: {exc.strerror}") from None
    name = os.path.basename(path)
    if name.endswith(".toml"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(path, 1, exc.start + 1, "catalogue is not UTF-8") from None
        return load_toml(path, text)
    if name.endswith(".xml"):
        return load_menuselect_xml(path, data)
    if name.startswith("menuselect-deps"):
        return load_menuselect_deps(path, data.decode("latin-1"))
    raise InputError(path, 0, 0, "unknown catalogue form: expected *.toml, menuselect XML (*.xml) or menuselect-deps[.in]")


def load_all(paths: list[str]) -> Catalog:
    catalog = Catalog()
    for path in paths:
        catalog.merge(load(path))
    return catalog

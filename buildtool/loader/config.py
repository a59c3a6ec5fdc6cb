"""modules.conf in Asterisk's syntax.

    [modules]
    autoload = yes                ; or no
    preload => res_odbc.so        ; loaded first, with what it needs
    load => app_dial              ; names with or without .so
    noload => chan_alsa.so
    require => res_pjsip.so       ; must load, or start-up stops
    preload-require => res_config_odbc
    load-provider => application:Gosub     ; the module that provides it (docs/loader.md)
    require-provider => function:LEN       ; the same, and start-up stops unless it loads
    prefer => res_sorcery_memory           ; the provider to use of each interface it provides

``=`` and ``=>`` are interchangeable, ``;`` starts a comment (``\\;`` is a
literal semicolon), ``;-- ... --;`` is a block comment. Other sections are
ignored, as Asterisk does. Names are module names, never paths: a name with a
``/``, a ``\\``, a leading ``.`` or a NUL would reach outside the modules
directory and is refused, with file:line:col.

Errors are collected (all of them, not just the first) as Diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from buildtool.diagnostics import Diagnostic, error
from buildtool.fsutil import read_regular

KINDS = ("preload", "preload-require", "load", "require", "noload", "prefer")
# Directives whose value is a provided name ("kind:name"), not a module name; each becomes the
# module-name directive it stands for once the name is resolved (buildtool.loader.provided).
PROVIDER_KINDS = {"load-provider": "load", "require-provider": "require"}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+\-.]*\Z")


@dataclass(frozen=True)
class Entry:
    kind: str       # one of KINDS
    name: str       # module name, ".so" removed
    path: str       # config file
    line: int
    column: int
    # For a directive resolved from a provided name: the line as written and what resolved it
    # ("load-provider => application:Gosub", "application Gosub is provided by app_stack").
    written: str = ""
    resolution: str = ""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def describe(self) -> str:
        if self.written:
            return f"'{self.written}' at {self.where} ({self.resolution})"
        return f"'{self.kind} => {self.name}' at {self.where}"


@dataclass
class ModulesConfig:
    path: str = "<default>"
    autoload: bool = True
    autoload_line: int = 0
    entries: list[Entry] = field(default_factory=list)

    def named(self, *kinds: str) -> dict[str, Entry]:
        """First entry per module name among ``kinds`` (in file order)."""
        out: dict[str, Entry] = {}
        for entry in self.entries:
            if entry.kind in kinds and entry.name not in out:
                out[entry.name] = entry
        return out

    def describe_autoload(self) -> str:
        where = f" at {self.path}:{self.autoload_line}" if self.autoload_line else " (the default)"
        return f"autoload={'yes' if self.autoload else 'no'}{where}"


def module_name(value: str) -> str | None:
    """The module name for a config value, or None when it is not a plain name."""
    name = value[:-3] if value.lower().endswith(".so") else value
    return name if _NAME.match(name) and ".." not in name else None


def _strip_comment(line: str, in_block: bool) -> tuple[str, bool, int]:
    """The line without comments, whether a block comment is still open at its end, and the index
    of the ``;--`` that opened it on this line (-1 when it was opened before or is closed)."""
    out = []
    i = 0
    opened = -1
    while i < len(line):
        if in_block:
            end = line.find("--;", i)
            if end < 0:
                return "".join(out), True, opened
            i, in_block, opened = end + 3, False, -1
            continue
        ch = line[i]
        if ch == "\\" and line.startswith(";", i + 1):
            out.append(";")
            i += 2
            continue
        if ch == ";":
            if line.startswith(";--", i):
                in_block, opened = True, i
                i += 3
                continue
            break
        out.append(ch)
        i += 1
    return "".join(out), in_block, opened


def parse_config(text: str, path: str) -> tuple[ModulesConfig, list[Diagnostic]]:
    config = ModulesConfig(path=path)
    diags: list[Diagnostic] = []
    section: str | None = None
    in_block = False
    block_at = (0, 0)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line, in_block, opened = _strip_comment(raw, in_block)
        if opened >= 0:
            block_at = (lineno, opened + 1)
        stripped = line.strip()
        if not stripped:
            continue
        col0 = len(line) - len(line.lstrip()) + 1
        if stripped.startswith("["):
            match = re.match(r"\[([^\]]*)\]", stripped)
            if not match:
                diags.append(error(path, lineno, col0, "loader-config-syntax", f"malformed section header {stripped!r}"))
                continue
            section = match.group(1).strip()
            continue
        if stripped.startswith("#"):
            diags.append(error(path, lineno, col0, "loader-config-syntax",
                               f"directive {stripped.split()[0]!r} is not supported in modules.conf"))
            continue
        if section is None:
            diags.append(error(path, lineno, col0, "loader-config-syntax",
                               "setting before any section: modules.conf settings belong in [modules]"))
            continue
        if section.lower() != "modules":
            continue
        match = re.match(r"\s*([^=\s]+)\s*=>?\s*(.*?)\s*$", line)
        if not match:
            diags.append(error(path, lineno, col0, "loader-config-syntax",
                               f"expected 'key => value' or 'key = value', got {stripped!r}"))
            continue
        key, value = match.group(1).lower(), match.group(2)
        vcol = match.start(2) + 1
        if key == "autoload":
            if value.lower() in ("yes", "true", "y", "t", "1", "on"):
                config.autoload = True
            elif value.lower() in ("no", "false", "n", "f", "0", "off"):
                config.autoload = False
            else:
                diags.append(error(path, lineno, vcol, "loader-config-value",
                                   f"autoload must be yes or no, got {value!r}"))
                continue
            config.autoload_line = lineno
            continue
        if key not in KINDS and key not in PROVIDER_KINDS:
            diags.append(error(path, lineno, match.start(1) + 1, "loader-config-key",
                               f"unknown modules.conf setting {key!r} (expected autoload, "
                               + ", ".join(KINDS + tuple(PROVIDER_KINDS)) + ")"))
            continue
        if key in PROVIDER_KINDS:
            kind, sep, provided = value.partition(":")
            if not sep or not kind.strip() or not provided.strip():
                diags.append(error(path, lineno, vcol, "loader-config-value",
                                   f"'{key} =>' takes KIND:NAME (application:Gosub, function:LEN, "
                                   f"interface:sorcery_wizard), got {value!r}"))
                continue
            config.entries.append(Entry(key, f"{kind.strip()}:{provided.strip()}", path, lineno, vcol))
            continue
        if not value:
            diags.append(error(path, lineno, vcol, "loader-config-value", f"'{key} =>' names no module"))
            continue
        name = module_name(value)
        if name is None:
            diags.append(error(path, lineno, vcol, "loader-path",
                               f"{value!r} is not a module name: modules.conf names modules, never paths, "
                               "and nothing may reach outside the modules directory"))
            continue
        config.entries.append(Entry(key, name, path, lineno, vcol))
    if in_block:  # Asterisk's parser warns and drops the rest; silently dropped directives are worse
        diags.append(error(path, *block_at, "loader-config-syntax",
                           "block comment ';--' is never closed with '--;': every line after it would be ignored"))
    return config, diags


def read_config(path: str) -> tuple[ModulesConfig, list[Diagnostic]]:
    text = read_regular(path).decode("utf-8", "replace")  # a FIFO or a device is refused, not waited on
    return parse_config(text, path)

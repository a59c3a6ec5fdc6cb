"""Diagnostics are data: every stage returns them, the CLI renders them.

Codes are stable identifiers (documented in README.md, "Diagnostic codes"); a
message may be reworded, a code never changes meaning.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping


class Severity(enum.Enum):
    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str
    module: str | None = None
    # Finding-specific structured data (e.g. "field", "only_in_moduleinfo");
    # merged into the JSON object so CI can read it without parsing messages.
    data: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
        }
        if self.module is not None:
            out["module"] = self.module
        for key, value in self.data.items():
            out[key] = value
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Diagnostic":
        known = {"path", "line", "column", "severity", "code", "message", "module"}
        return cls(
            path=obj["path"],
            line=obj["line"],
            column=obj["column"],
            severity=Severity(obj["severity"]),
            code=obj["code"],
            message=obj["message"],
            module=obj.get("module"),
            data={k: v for k, v in obj.items() if k not in known},
        )

    def render(self) -> str:
        """Compiler style: ``path:line:col: severity: message [code]``."""
        return f"{self.path}:{self.line}:{self.column}: {self.severity.value}: {self.message} [{self.code}]"


def error(path: str, line: int, column: int, code: str, message: str, **kw: Any) -> Diagnostic:
    return Diagnostic(path, line, column, Severity.ERROR, code, message, **kw)


def warning(path: str, line: int, column: int, code: str, message: str, **kw: Any) -> Diagnostic:
    return Diagnostic(path, line, column, Severity.WARNING, code, message, **kw)


def note(path: str, line: int, column: int, code: str, message: str, **kw: Any) -> Diagnostic:
    return Diagnostic(path, line, column, Severity.NOTE, code, message, **kw)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sorted_unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=Diagnostic.sort_key)

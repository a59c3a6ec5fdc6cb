"""Read the dependency fields written by hand inside ``AST_MODULE_INFO(...)``.

Asterisk trees copy MODULEINFO's lists into the info struct by hand
(``.requires = "res_a,res_b"``). The generator refuses a copy that disagrees,
``check --hand-written`` reports drift, ``migrate`` removes the copies; all three
read them here. Handles adjacent string literals, initializers over several
lines, comments anywhere, and fields after other designated initializers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from buildtool.extract import position

LIST_FIELDS = ("requires", "optional_modules", "enhances")
FIELDS = LIST_FIELDS + ("support_level",)

_TOKEN = re.compile(
    r'(?P<string>"(?:\\.|[^"\\\n])*")'
    r"|(?P<char>'(?:\\.|[^'\\\n])*')"
    r"|(?P<comment>//(?:\\\n|[^\n])*|/\*.*?(?:\*/|\Z))"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<space>\s+)"
    r"|(?P<punct>.)",
    re.S,
)
_CALL = re.compile(r"\bAST_MODULE_INFO\s*\(")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


@dataclass(frozen=True)
class HandWrittenField:
    name: str
    value: str | None   # None when the initializer is not made of string literals / a plain identifier
    text: str           # the initializer as written
    line: int
    column: int
    start: int          # offsets of ".name = value" in the source, for migrate
    end: int

    def names(self) -> tuple[str, ...]:
        return tuple(sorted({n.strip() for n in (self.value or "").split(",") if n.strip()}))


@dataclass(frozen=True)
class HandWritten:
    line: int            # of AST_MODULE_INFO(
    fields: dict[str, HandWrittenField]


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def find(text: str) -> HandWritten | None:
    """The hand-written fields of the ``AST_MODULE_INFO(...)`` in ``text`` (Latin-1 decoded), if any."""
    for call in _CALL.finditer(text):
        if _inside_comment_or_string(text, call.start()):
            continue
        return HandWritten(position(text, call.start())[0], _fields(text, call.end()))
    return None


def _inside_comment_or_string(text: str, offset: int) -> bool:
    for match in _TOKEN.finditer(text):
        if match.start() <= offset < match.end() and match.lastgroup in ("string", "char", "comment"):
            return True
        if match.start() > offset:
            break
    return False


def _fields(text: str, start: int) -> dict[str, HandWrittenField]:
    tokens = [(m.lastgroup, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text, start)
              if m.lastgroup not in ("space", "comment")]
    fields: dict[str, HandWrittenField] = {}
    depth = 1
    i = 0
    while i < len(tokens) and depth > 0:
        kind, value, begin, _ = tokens[i]
        if value in "([{" and kind == "punct":
            depth += 1
        elif value in ")]}" and kind == "punct":
            depth -= 1
        elif (depth == 1 and value == "." and i + 2 < len(tokens) and tokens[i + 1][0] == "ident"
              and tokens[i + 2][1] == "=" and tokens[i + 1][1] in FIELDS):
            name = tokens[i + 1][1]
            j = i + 3
            inner = 0
            parts = []
            while j < len(tokens):
                k, v, _, _ = tokens[j]
                if k == "punct" and v in "([{":
                    inner += 1
                elif k == "punct" and v in ")]}":
                    if inner == 0:
                        break
                    inner -= 1
                elif k == "punct" and v == "," and inner == 0:
                    break
                parts.append(tokens[j])
                j += 1
            end = parts[-1][3] if parts else tokens[i + 2][3]
            if parts and all(p[0] == "string" for p in parts):
                literal = "".join(_unescape(p[1]) for p in parts)
            elif len(parts) == 1 and parts[0][0] == "ident":
                literal = parts[0][1]
            else:
                literal = None
            line, column = position(text, begin)
            fields[name] = HandWrittenField(name, literal, text[tokens[i + 2][3]:end].strip(),
                                            line, column, begin, end)
            i = j
            continue
        i += 1
    return fields

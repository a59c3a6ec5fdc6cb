"""Read the dependency fields written by hand inside ``AST_MODULE_INFO(...)``.

Asterisk trees copy MODULEINFO's lists into the info struct by hand
(``.requires = "res_a,res_b"``). The generator refuses a copy that disagrees,
``check --hand-written`` reports drift, ``migrate`` removes the copies; all three
read them here. Handles adjacent string literals, initializers over several
lines, comments anywhere, and fields after other designated initializers.

A field under a preprocessor conditional inside the call (``#ifdef
HAVE_PJPROJECT`` around ``.requires = "res_pjsip"``, as in Asterisk's
res_prometheus) is a real dependency that holds only when the condition does:
it is read with its ``condition`` (the directives that enclose it, as written),
so no consumer silently drops it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from buildtool.clex import code_at, position, strip_comments, tokens

LIST_FIELDS = ("requires", "optional_modules", "enhances")
FIELDS = LIST_FIELDS + ("support_level",)

# AST_MODULE_INFO(key, flags, desc, fields...) and the field-less
# AST_MODULE_INFO_STANDARD[_EXTENDED|_DEPRECATED](key, desc).
_CALL = re.compile(r"\b(AST_MODULE_INFO(?:_STANDARD(?:_EXTENDED|_DEPRECATED)?)?)\s*\(")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


@dataclass(frozen=True)
class HandWrittenField:
    name: str
    value: str | None   # None when the initializer is not string literals (or, for support_level, an identifier)
    text: str           # the initializer as written
    line: int
    column: int
    start: int          # offsets of ".name = value" in the source, for migrate
    end: int
    condition: str | None = None  # the enclosing directives ("#ifdef HAVE_PJPROJECT"), None when unconditional

    def names(self) -> tuple[str, ...]:
        return tuple(sorted({n.strip() for n in (self.value or "").split(",") if n.strip()}))


@dataclass(frozen=True)
class HandWritten:
    line: int            # of AST_MODULE_INFO(
    fields: dict[str, HandWrittenField]
    macro: str = "AST_MODULE_INFO"   # or AST_MODULE_INFO_STANDARD[_EXTENDED|_DEPRECATED] (no fields)
    description: str | None = None   # the desc argument, when it is made of string literals


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def find(text: str) -> HandWritten | None:
    """The hand-written fields of the ``AST_MODULE_INFO(...)`` in ``text`` (Latin-1 decoded), if any.

    ``None`` when the source has no ``AST_MODULE_INFO(`` (only the field-less
    ``AST_MODULE_INFO_STANDARD*`` macros, or none): ``find_call`` sees those too.
    """
    found = find_call(text)
    return found if found is not None and found.macro == "AST_MODULE_INFO" else None


def _visible_calls(text: str) -> list[re.Match]:
    """``AST_MODULE_INFO*(`` matches that are code: not inside a comment or a literal."""
    matches = list(_CALL.finditer(text))
    visible = set(code_at(text, [m.start() for m in matches]))
    return [m for m in matches if m.start() in visible]


def find_call(text: str) -> HandWritten | None:
    """The first ``AST_MODULE_INFO*`` call outside comments and strings, with its macro and description.

    The first plain ``AST_MODULE_INFO(`` wins over an earlier STANDARD macro, as in ``find()``.
    """
    visible = _visible_calls(text)
    plain = [m for m in visible if m.group(1) == "AST_MODULE_INFO"]
    for call in (plain or visible)[:1]:
        macro = call.group(1)
        args = _arguments(text, call.end())
        fields = _fields(text, args) if macro == "AST_MODULE_INFO" else {}
        desc_at = 2 if macro == "AST_MODULE_INFO" else 1
        description = None
        if len(args) > desc_at and args[desc_at] and all(t[0] == "string" for t in args[desc_at]):
            description = "".join(_unescape(t[1]) for t in args[desc_at])
        return HandWritten(position(text, call.start())[0], fields, macro, description)
    return None


Token = tuple[str, str, int, int, str | None]  # kind, text, start, end, enclosing conditionals


def _arguments(text: str, start: int) -> list[list[Token]]:
    """The top-level arguments of the call whose ``(`` ends at ``start``, as token lists (comments and
    white space left out); lexing stops at the call's closing parenthesis.

    Preprocessor directives inside the call are not tokens of any argument: each
    token carries, as a fifth element, the stack of enclosing conditionals."""
    args: list[list[Token]] = [[]]
    depth = 0
    conditions: list[str] = []
    for kind, value, begin, end in tokens(text, start):
        if kind == "directive":
            _track_condition(conditions, value)
            continue
        if kind in ("space", "comment"):
            continue
        if kind == "punct" and value in "([{":
            depth += 1
        elif kind == "punct" and value in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif kind == "punct" and value == "," and depth == 0:
            args.append([])
            continue
        args[-1].append((kind, value, begin, end, " && ".join(conditions) or None))
    return args


_DIRECTIVE = re.compile(r"#\s*(\w+)\s*(.*)", re.S)


def _track_condition(conditions: list[str], directive: str) -> None:
    """Keep ``conditions`` as the conditionals enclosing the next token, written as in the source."""
    match = _DIRECTIVE.match(strip_comments(directive.replace("\\\n", " ")).strip())
    if not match:
        return
    word, rest = match.group(1), " ".join(match.group(2).split())
    if word in ("if", "ifdef", "ifndef"):
        conditions.append(f"#{word} {rest}")
    elif word in ("elif", "else") and conditions:
        conditions[-1] = f"#{word} {rest}".rstrip() + f" (after {conditions[-1]})"
    elif word == "endif" and conditions:
        conditions.pop()


def _fields(text: str, args: list[list[Token]]) -> dict[str, HandWrittenField]:
    """The injected fields among the call's arguments: ``.name = value`` at the top level."""
    fields: dict[str, HandWrittenField] = {}
    for arg in args:
        if not (len(arg) >= 3 and arg[0][1] == "." and arg[1][0] == "ident" and arg[1][1] in FIELDS
                and arg[2][1] == "="):
            continue
        name, parts = arg[1][1], arg[3:]
        begin, end = arg[0][2], (parts[-1][3] if parts else arg[2][3])
        if parts and all(p[0] == "string" for p in parts):
            literal = "".join(_unescape(p[1]) for p in parts)
        elif len(parts) == 1 and parts[0][0] == "ident" and name == "support_level":
            # an enum constant; for the lists a bare identifier is a macro, whose value is unknown here
            literal = parts[0][1]
        else:
            literal = None
        line, column = position(text, begin)
        fields[name] = HandWrittenField(name, literal, text[arg[2][3]:end].strip(), line, column, begin, end,
                                        arg[0][4])
    return fields

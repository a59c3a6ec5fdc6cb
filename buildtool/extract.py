"""Find the ``/*** MODULEINFO ... ***/`` block in a C or C++ source.

Works on bytes decoded as Latin-1, so every byte survives and string offsets are
byte offsets (non-UTF-8 sources and CRLF line ends need no special case). Only a
comment that *starts* with ``/*** MODULEINFO`` is a block; the word in a string,
a character literal, a ``//`` comment or another comment is not. Only the part
of the file that can hold a block is lexed: up to the end of the last place the
opening marker appears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from buildtool.diagnostics import Diagnostic, error

OPENING = "/*** MODULEINFO"

# One token of C that can hide a "/*": string and char literals, line and block
# comments. An unterminated block comment runs to the end of the text.
_TOKEN = re.compile(
    r'"(?:\\.|[^"\\\n])*"?'
    r"|'(?:\\.|[^'\\\n])*'?"
    r"|//(?:\\\n|[^\n])*"
    r"|/\*.*?(?:\*/|\Z)",
    re.S,
)


@dataclass(frozen=True)
class Block:
    """A block's XML text and where that text starts in the file (1-based)."""

    text: str
    line: int           # line of the "/*** MODULEINFO" opener
    column: int
    content_line: int   # line and column where ``text`` begins
    content_column: int


def position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def find_blocks(text: str, path: str) -> tuple[list[Block], list[Diagnostic]]:
    """All MODULEINFO blocks in ``text`` (Latin-1 decoded source) with diagnostics.

    A source with no block gives no block and no diagnostic; the caller decides
    whether that matters.
    """
    last = text.rfind(OPENING)
    if last < 0:
        return [], []
    blocks: list[Block] = []
    diagnostics: list[Diagnostic] = []
    for match in _TOKEN.finditer(text):
        if match.start() > last:
            break
        token = match.group()
        if not token.startswith(OPENING):
            continue
        line, column = position(text, match.start())
        if not token.endswith("*/") or len(token) < len(OPENING) + 2:
            diagnostics.append(error(path, line, column, "block-unterminated",
                                     "MODULEINFO block is not closed by '***/'"))
            continue
        body_start = match.start() + len(OPENING)
        body = token[len(OPENING):-2].rstrip("*")
        if not body.strip():
            diagnostics.append(error(path, line, column, "block-empty", "MODULEINFO block is empty"))
            continue
        content_line, content_column = position(text, body_start)
        blocks.append(Block(body, line, column, content_line, content_column))
    if len(blocks) > 1:
        first = blocks[0]
        for extra in blocks[1:]:
            diagnostics.append(error(
                path, extra.line, extra.column, "block-duplicate",
                f"second MODULEINFO block (the first is at line {first.line}); a module has one block"))
        blocks = blocks[:1]
    return blocks, diagnostics

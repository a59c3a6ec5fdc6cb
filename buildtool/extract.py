"""Find the ``/*** MODULEINFO ... ***/`` block in a C or C++ source.

Works on bytes decoded as Latin-1, so every byte survives and string offsets are
byte offsets (non-UTF-8 sources and CRLF line ends need no special case). Only a
comment that *starts* with ``/*** MODULEINFO`` is a block; the word in a string,
a character literal, a ``//`` comment or another comment is not (the lexer is
``buildtool.clex``). Only the part of the file that can hold a block is lexed:
up to the end of the last place the opening marker appears.
"""

from __future__ import annotations

from dataclasses import dataclass

from buildtool.buildstep import DOCUMENTATION_OPENING as _DOCUMENTATION_OPENING
from buildtool.buildstep import block_region  # noqa: F401  (defined there: the build step uses it alone)
from buildtool.clex import marked_comments, position
from buildtool.diagnostics import Diagnostic, error

OPENING = "/*** MODULEINFO"
# The opening of Asterisk's documentation comments (read by buildtool.xmldoc).
DOCUMENTATION_OPENING = _DOCUMENTATION_OPENING.decode()


@dataclass(frozen=True)
class Block:
    """A block's XML text and where that text starts in the file (1-based)."""

    text: str
    line: int           # line of the "/*** MODULEINFO" opener
    column: int
    content_line: int   # line and column where ``text`` begins
    content_column: int


def find_blocks(text: str, path: str) -> tuple[list[Block], list[Diagnostic]]:
    """All MODULEINFO blocks in ``text`` (Latin-1 decoded source) with diagnostics.

    A source with no block gives no block and no diagnostic; the caller decides
    whether that matters.
    """
    blocks: list[Block] = []
    diagnostics: list[Diagnostic] = []
    for start, end in marked_comments(text, OPENING):
        token = text[start:end]
        line, column = position(text, start)
        if not token.endswith("*/") or len(token) < len(OPENING) + 2:
            diagnostics.append(error(path, line, column, "block-unterminated",
                                     "MODULEINFO block is not closed by '***/'"))
            continue
        body_start = start + len(OPENING)
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

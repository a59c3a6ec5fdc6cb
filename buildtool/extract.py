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

from buildtool.buildstep import block_region  # noqa: F401  (defined there: the build step uses it alone)
from buildtool.diagnostics import Diagnostic, error

OPENING = "/*** MODULEINFO"
# The opening of Asterisk's documentation comments (read by buildtool.xmldoc).
DOCUMENTATION_OPENING = "/*** DOCUMENTATION"

# The tokens of C that can hide a "/*": string and char literals, line and block
# comments. An unterminated literal ends at the end of its line, an unterminated
# block comment at the end of the text. ``_tokens`` jumps from one character
# that can start a token to the next (C-speed searches), instead of trying a
# token regex at every offset.
_TOKEN_START = re.compile(r"[\"'/]")
_LITERAL = {
    '"': re.compile(r'"(?:\\.|[^"\\\n])*"?', re.S),
    "'": re.compile(r"'(?:\\.|[^'\\\n])*'?", re.S),
}
_LINE_COMMENT = re.compile(r"//(?:\\\n|[^\n])*")


def hidden_spans(text: str, last: int):
    """(start, end) of each string, char, line-comment and block-comment token starting at or before ``last``:
    the places where C hides text from the preprocessor and the compiler. Sorted, never overlapping."""
    search = _TOKEN_START.search
    pos = 0
    while True:
        found = search(text, pos)
        if found is None:
            return
        start = found.start()
        if start > last:
            return
        char = text[start]
        if char == "/":
            following = text[start + 1:start + 2]
            if following == "*":
                close = text.find("*/", start + 2)
                end = len(text) if close < 0 else close + 2
            elif following == "/":
                end = _LINE_COMMENT.match(text, start).end()
            else:
                pos = start + 1
                continue
        else:
            end = _LITERAL[char].match(text, start).end()
        yield start, end
        pos = end


@dataclass(frozen=True)
class Block:
    """A block's XML text and where that text starts in the file (1-based)."""

    text: str
    line: int           # line of the "/*** MODULEINFO" opener
    column: int
    content_line: int   # line and column where ``text`` begins
    content_column: int


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``. LF, CRLF and a lone CR each end a
    line, as for the C preprocessor and as ``moduleinfo`` counts inside a block."""
    if "\r" in text[:offset]:
        head = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
        return head.count("\n") + 1, len(head) - (head.rfind("\n") + 1) + 1
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
    for start, end in hidden_spans(text, last):
        if not text.startswith(OPENING, start):
            continue
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

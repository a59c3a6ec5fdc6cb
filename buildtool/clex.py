"""The C text lexer: where C hides text from the compiler, its tokens, and positions in it.

Every reader of C sources derives from this one definition: ``extract`` (the
MODULEINFO block), ``xmldoc`` (DOCUMENTATION blocks) and ``handwritten`` (the
arguments of ``AST_MODULE_INFO(...)``). Text is bytes decoded as Latin-1, so
every byte survives and string offsets are byte offsets; CRLF needs no special
case (``\\r`` is white space to the lexer, and ``position`` counts it as a
line end).

The tokens follow GCC's reading: a string or character literal left open ends
at the end of its line, a block comment left open at the end of the text, and a
backslash-newline continues a line comment or a directive. Lexing is done by
compiled regular expressions (one C-speed search per token), never by a
per-character Python loop: this is on ``buildtool scan``'s start-up path.
"""

from __future__ import annotations

import functools
import re
from typing import Iterator

# Each token once; the compiled forms below are made from these.
_STRING_BODY = r'(?:\\.|[^"\\\n])*'
_CHAR_BODY = r"(?:\\.|[^'\\\n])*"
STRING = f'"{_STRING_BODY}"?'
CHAR = f"'{_CHAR_BODY}'?"
LINE_COMMENT = r"//(?:\\\n|[^\n])*"
BLOCK_COMMENT = r"/\*.*?(?:\*/|\Z)"
DIRECTIVE = r"\#(?:\\\n|[^\n])*"  # a directive when first on its line (``tokens`` checks)
IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"

# ``hidden_spans`` jumps from one character that can start a hidden token to the
# next and matches that one token: faster than trying an alternation at every
# offset (whole files, the 21 MB of Asterisk 22's ``*/*.c``: 0.32 s against 0.40 s).
_HIDDEN_START = re.compile(r"[\"'/]")
_LITERAL = {'"': re.compile(STRING, re.S), "'": re.compile(CHAR, re.S)}
_LINE_COMMENT = re.compile(LINE_COMMENT)

# Every token, for a reader that needs the code too (``tokens``). A literal
# left open is its own kind: its text is not a value. Compiled on first use
# (~2 ms): ``buildtool scan`` never tokenizes, and its start-up is measured.
_TOKEN = (
    f"(?P<directive>{DIRECTIVE})"
    f'|(?P<string>"{_STRING_BODY}")'
    f"|(?P<char>'{_CHAR_BODY}')"
    f"|(?P<unterminated>\"{_STRING_BODY}|'{_CHAR_BODY})"
    f"|(?P<comment>{LINE_COMMENT}|{BLOCK_COMMENT})"
    f"|(?P<ident>{IDENTIFIER})"
    r"|(?P<space>\s+)"
    r"|(?P<punct>.)"
)


@functools.cache
def _token_regex() -> re.Pattern:
    return re.compile(_TOKEN, re.S)


def hidden_spans(text: str, last: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each string, char, line-comment and block-comment token starting at or before ``last``:
    the places where C hides text from the preprocessor and the compiler. Sorted, never overlapping."""
    search = _HIDDEN_START.search
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


def marked_comments(text: str, marker: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each comment that starts with ``marker`` (``/*** MODULEINFO``): the marker in a
    literal or inside another comment does not count. Only the text up to the last marker is lexed."""
    last = text.rfind(marker)
    if last < 0:
        return
    for start, end in hidden_spans(text, last):
        if text.startswith(marker, start):
            yield start, end


def code_at(text: str, offsets: list[int]) -> list[int]:
    """The ``offsets`` (sorted) that are in code: not inside a literal or a comment."""
    if not offsets:
        return []
    spans = hidden_spans(text, offsets[-1])
    span = next(spans, None)
    visible = []
    for offset in offsets:
        while span is not None and span[1] <= offset:
            span = next(spans, None)
        if span is None or span[0] > offset:
            visible.append(offset)
    return visible


def tokens(text: str, start: int = 0) -> Iterator[tuple[str, str, int, int]]:
    """Every token from ``start`` on, as (kind, text, start, end). Kinds: ``directive`` (a ``#`` first on
    its line, to the end of the line, continuations included), ``string``, ``char``, ``unterminated`` (a
    literal left open), ``comment``, ``ident``, ``space``, ``punct`` (one character; a ``#`` elsewhere)."""
    pos = start
    while True:
        for m in _token_regex().finditer(text, pos):
            kind, begin = m.lastgroup, m.start()
            if kind == "directive" and text[text.rfind("\n", 0, begin) + 1:begin].strip():
                yield "punct", "#", begin, begin + 1
                pos = begin + 1
                break
            yield kind, m.group(), begin, m.end()
        else:
            return


def strip_comments(text: str) -> str:
    """``text`` without its comments (literals kept whole)."""
    kept, pos = [], 0
    for start, end in hidden_spans(text, len(text)):
        if text[start] == "/":
            kept.append(text[pos:start])
            pos = end
    kept.append(text[pos:])
    return "".join(kept)


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``. LF, CRLF and a lone CR each end a
    line, as for the C preprocessor and as XML parsers count."""
    if "\r" in text[:offset]:
        head = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
        return head.count("\n") + 1, len(head) - (head.rfind("\n") + 1) + 1
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def relative_to(origin: tuple[int, int], line: int, column: int) -> tuple[int, int]:
    """The file position of ``line`` and ``column`` counted in a text (a comment's body) that starts at
    ``origin``, a file line and column."""
    return origin[0] + line - 1, column + (origin[1] - 1 if line == 1 else 0)


_LINE_END = re.compile(r"\r\n?|\n")


def lines(text: str) -> list[str]:
    """The lines of ``text``, ended as ``position`` ends them (line ``n`` is ``lines(text)[n - 1]``)."""
    return _LINE_END.split(text) if "\r" in text else text.split("\n")

"""The one way buildtool parses XML: lxml with every external feature off.

Every XML input goes through ``parse``: MODULEINFO blocks (``moduleinfo``),
DOCUMENTATION blocks and xmldoc documents (``xmldoc``), menuselect XML
catalogues (``catalog``) and menuselect ``<member>`` start tags
(``asterisk.moddir``). No DTD is loaded, no entity is expanded, nothing is
fetched, lxml's own size limits stay on (``huge_tree`` off). Before lxml sees
the text, two things are refused outright, with one message whoever the caller
is: a ``<!DOCTYPE`` or ``<!ENTITY`` anywhere (so neither an external DTD nor an
entity expansion, billion laughs included, can be written at all; an undefined
entity reference is then a syntax error), and an input longer than
``MAX_BYTES``.

Errors are ``XMLError``, with a line and column in the text given (a
wrapper's opening tag taken off line 1); the caller turns it into its own file
position and diagnostic code.
"""

from __future__ import annotations

import functools
import re

from lxml import etree

from buildtool.clex import position
from buildtool.errors import BuildtoolError

# Far above any real input (all of Asterisk 22's DOCUMENTATION and doc XML is 1.6 MB, a MODULEINFO block a few hundred bytes,
# the scanner's hostile 200,000-tag block ~5 MB), far below what would exhaust memory in lxml's tree.
MAX_BYTES = 64 * 1024 * 1024

_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                       huge_tree=False, remove_pis=True)
_DECLARATION = re.compile(r"<!(DOCTYPE|ENTITY)", re.I)
_DECLARATION_BYTES = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)


class XMLError(BuildtoolError):
    """Why an input was not parsed, at ``line`` and ``column`` (1-based) of the text given. Callers
    turn it into a diagnostic or an ``InputError`` naming their file; one that escapes is an input
    error (exit 2) like the rest.

    ``kind`` is "declaration" (a DTD or entity declaration, refused before parsing, where it starts),
    "size" (over ``MAX_BYTES``) or "syntax" (libxml2's error, at its position). ``message``
    is the whole diagnostic text of a refusal, and libxml2's description, without its position, of a
    syntax error (the caller says what was not well-formed).
    """

    def __init__(self, kind: str, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.kind, self.message, self.line, self.column = kind, message, line, column


@functools.lru_cache(maxsize=2)
def _parser(keep_comments: bool) -> etree.XMLParser:
    # One parser per setting for the process: its options never change, and making one per
    # block was a third of the parse time on large trees.
    return etree.XMLParser(remove_comments=not keep_comments, **_PARSER_OPTIONS)


def parse(data: str | bytes, where: str, *, wrapper: tuple[str, str] | None = None,
          keep_comments: bool = False) -> etree._Element:
    """The root element of ``data`` (``where`` names the input in messages: "MODULEINFO").

    ``wrapper`` (an opening and a closing tag, for ``str`` data) encloses ``data`` first, for a
    fragment of several elements; the opening tag must hold no newline. Raises ``XMLError``.
    """
    if len(data) > MAX_BYTES:
        raise XMLError("size", f"{where} is {len(data)} bytes long, over the limit of {MAX_BYTES} bytes")
    found = (_DECLARATION_BYTES if isinstance(data, bytes) else _DECLARATION).search(data)
    if found:
        text = data.decode("latin-1") if isinstance(data, bytes) else data
        word = text[found.start(1):found.end(1)]
        raise XMLError("declaration", f"<!{word}> is not allowed in {where} (no DTDs, no entity declarations)",
                       *position(text, found.start()))
    if wrapper is not None:
        data = f"{wrapper[0]}{data}{wrapper[1]}"
    try:
        return etree.fromstring(data, _parser(keep_comments))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (1, 1)
        if wrapper is not None and line == 1:
            column -= len(wrapper[0])
        raise XMLError("syntax", exc.msg.split(", line ")[0] if exc.msg else "malformed XML", line, column) \
            from None

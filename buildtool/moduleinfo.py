"""Parse one MODULEINFO block's XML into declarations, with positions.

The XML is parsed by ``buildtool.safexml``: no DTD is loaded, no entity is
expanded, nothing is fetched. A DOCTYPE or an entity declaration is refused
outright; an undefined entity reference is a syntax error.

Tags (see README.md, "MODULEINFO syntax"):

- ``<depend [type=T]>name</depend>``: a required name.
- ``<use [type=T]>name</use>``: an optional name.
- ``<conflict>name</conflict>``: cannot be built or loaded together with ``name``.
- ``<provide>iface</provide>``: this module provides the interface ``iface``.
- ``<enhance>module</enhance>``: this module adds features to ``module``.
- ``<support_level>``, ``<defaultenabled>``, ``<deprecated_in>``,
  ``<removed_in>``, ``<replacement>``: scalar properties.

``T`` is ``module``, ``external`` (a library), ``interface``, ``option`` or
``builtin``; without it, ``resolve`` classifies the name.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field

from lxml import etree

from buildtool import safexml
from buildtool.clex import relative_to
from buildtool.diagnostics import Diagnostic, error, warning
from buildtool.extract import Block
from buildtool.model import SUPPORT_LEVELS

NAME_TYPES = ("module", "external", "interface", "option", "builtin")
LIST_TAGS = {"depend": ("type",), "use": ("type",), "conflict": ("type",), "provide": ("type",), "enhance": ()}
SCALAR_TAGS = ("support_level", "defaultenabled", "deprecated_in", "removed_in", "replacement")
# menuselect's own tags that carry no dependency data: <member_data> holds the
# downloader's settings of a binary module (codecs/codecs.xml). Read and skipped.
IGNORED_TAGS = ("member_data",)
_NAME = re.compile(r"^[A-Za-z0-9_.+\-]+$")


@dataclass(frozen=True)
class Position:
    path: str
    line: int
    column: int


@dataclass(frozen=True)
class NameRef:
    """One name in a list tag: ``<depend type="module">res_pjsip</depend>``."""

    tag: str
    name: str
    type: str | None
    at: Position


@dataclass
class Declarations:
    """What one block says, before any name is classified."""

    at: Position
    names: list[NameRef] = field(default_factory=list)
    scalars: dict[str, tuple[str, Position]] = field(default_factory=dict)


_WRAPPER = ("<moduleinfo>", "</moduleinfo>")


_SPACE = re.compile(r"\s*")


class _Locator:
    """Columns for elements: lxml gives lines only, so find each tag in its line."""

    def __init__(self, block: Block):
        self.block = block
        self.lines = block.text.split("\n")
        self.cursor: dict[int, int] = {}
        self._starts: list[int] | None = None  # offset of each line, made on first use

    def _line_starts(self) -> list[int]:
        # Once, not a count or a sum over the text above per call: that was quadratic in the
        # number of tags (100,000 tags each followed by stray text: minutes).
        if self._starts is None:
            self._starts = list(itertools.accumulate((len(line) + 1 for line in self.lines), initial=0))
        return self._starts

    def offset(self, at: Position) -> int:
        """The offset in the block's text of a file position given by ``element``."""
        line_in_block = at.line - self.block.content_line + 1
        col0 = at.column - 1 - (self.block.content_column - 1 if line_in_block == 1 else 0)
        return self._line_starts()[line_in_block - 1] + col0

    def position(self, offset: int) -> tuple[int, int]:
        """File line and column of ``offset`` in the block's text (``_block_position``, in log time)."""
        index = bisect.bisect_right(self._line_starts(), offset) - 1
        return self._to_file(index + 1, offset - self._starts[index])

    def _to_file(self, line_in_block: int, col0: int) -> tuple[int, int]:
        line = self.block.content_line + line_in_block - 1
        column = col0 + 1 + (self.block.content_column - 1 if line_in_block == 1 else 0)
        return line, column

    def element(self, el: etree._Element) -> tuple[Position, Position]:
        """Position of ``<tag`` and of the element's text."""
        line_in_block = max(el.sourceline or 1, 1)
        text = self.lines[line_in_block - 1] if line_in_block <= len(self.lines) else ""
        start = text.find("<" + el.tag, self.cursor.get(line_in_block, 0))
        if start < 0:
            start = 0
            close = -1
        else:
            close = text.find(">", start)
            self.cursor[line_in_block] = start + 1
        tag_at = self._to_file(line_in_block, start)
        if close >= 0:
            # Matched in place: copying the rest of the line for each element was quadratic in a
            # block written on one line.
            text_at = self._to_file(line_in_block, _SPACE.match(text, close + 1).end())
        else:
            text_at = tag_at
        path = ""
        return Position(path, *tag_at), Position(path, *text_at)


def _block_position(block: Block, offset: int) -> tuple[int, int]:
    """File line and column of ``offset`` in the block's (newline-normalized) text."""
    text = block.text
    line = block.content_line + text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    if line == block.content_line:
        col += block.content_column - 1
    return line, col


def parse_block(block: Block, path: str) -> tuple[Declarations, list[Diagnostic]]:
    at = Position(path, block.line, block.column)
    decl = Declarations(at=at)
    diagnostics: list[Diagnostic] = []
    text = block.text.replace("\r\n", "\n").replace("\r", "\n")
    block = Block(text, block.line, block.column, block.content_line, block.content_column)

    try:
        root = safexml.parse(text, "MODULEINFO", wrapper=_WRAPPER)
    except safexml.XMLError as exc:
        if exc.kind != "syntax":
            at = relative_to((block.content_line, block.content_column), exc.line, exc.column)
            diagnostics.append(error(path, *at, "xml-dtd" if exc.kind == "declaration" else "xml-syntax",
                                     exc.message))
            return decl, diagnostics
        # An error found in the wrapper's closing tag (an element left open) lies past the
        # block: clamp it to the block's last line and that line's end, where "***/" starts.
        block_lines = text.split("\n")
        line_in_block = min(max(exc.line, 1), len(block_lines))
        col = min(max(exc.column, 1), len(block_lines[line_in_block - 1]) + 1)
        at = relative_to((block.content_line, block.content_column), line_in_block, col)
        diagnostics.append(error(path, *at, "xml-syntax", f"MODULEINFO is not well-formed XML: {exc.message}"))
        return decl, diagnostics

    locate = _Locator(block)
    if root.text and root.text.strip():
        line, col = _block_position(block, len(text) - len(text.lstrip()))
        diagnostics.append(warning(path, line, col, "stray-text",
                                   f"text outside any tag is ignored: {root.text.strip()[:40]!r}"))
    children = list(root.iterchildren())
    located = [locate.element(el) for el in children]
    for index, el in enumerate(children):
        tag_pos, text_pos = located[index]
        if el.tail and el.tail.strip():
            # Text between this element and the next (``<depend>a</depend>, b``)
            # would be silently lost: say so, at the text when it is found verbatim.
            tail = el.tail.strip()
            start = locate.offset(tag_pos)
            end = locate.offset(located[index + 1][0]) if index + 1 < len(children) else len(text)
            found = text.rfind(tail, start, end)
            line, col = locate.position(found) if found >= 0 else (tag_pos.line, tag_pos.column)
            diagnostics.append(warning(path, line, col, "stray-text",
                                       f"text outside any tag is ignored: {tail[:40]!r}"))
        tag_pos = Position(path, tag_pos.line, tag_pos.column)
        text_pos = Position(path, text_pos.line, text_pos.column)
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in IGNORED_TAGS:
            continue
        if tag not in LIST_TAGS and tag not in SCALAR_TAGS:
            diagnostics.append(warning(path, tag_pos.line, tag_pos.column, "unknown-tag",
                                       f"unknown MODULEINFO tag <{tag}> is ignored"))
            continue
        allowed = LIST_TAGS.get(tag, ())
        for attr in sorted(el.attrib):
            if attr not in allowed:
                diagnostics.append(warning(path, tag_pos.line, tag_pos.column, "unknown-attribute",
                                           f"unknown attribute '{attr}' on <{tag}> is ignored"))
        if len(el):
            diagnostics.append(warning(path, tag_pos.line, tag_pos.column, "unknown-tag",
                                       f"<{tag}> holds elements; only its text is read"))
        value = "".join(el.itertext()).strip()
        if not value:
            diagnostics.append(error(path, tag_pos.line, tag_pos.column, "empty-value", f"<{tag}> is empty"))
            continue
        if tag in LIST_TAGS:
            kind = el.get("type") if "type" in allowed else None
            if kind is not None and kind not in NAME_TYPES:
                diagnostics.append(warning(path, tag_pos.line, tag_pos.column, "unknown-attribute",
                                           f"unknown type=\"{kind}\" on <{tag}>; expected one of "
                                           + ", ".join(NAME_TYPES) + "; the name is classified as if untyped"))
                kind = None
            if tag == "provide" and kind not in (None, "interface"):
                diagnostics.append(warning(path, tag_pos.line, tag_pos.column, "unknown-attribute",
                                           f"<provide> names an interface; type=\"{kind}\" is ignored"))
                kind = None
            if not _NAME.match(value):
                diagnostics.append(error(path, text_pos.line, text_pos.column, "bad-name",
                                         f"'{value}' is not a valid name in <{tag}>"))
                continue
            decl.names.append(NameRef(tag, value, kind, text_pos))
            continue
        if tag in decl.scalars:
            first = decl.scalars[tag][1]
            diagnostics.append(warning(path, tag_pos.line, tag_pos.column, "duplicate-tag",
                                       f"<{tag}> given again (first at line {first.line}); the last one counts"))
        if tag == "support_level" and value not in SUPPORT_LEVELS:
            diagnostics.append(error(path, text_pos.line, text_pos.column, "bad-value",
                                     f"support level '{value}' is not one of " + ", ".join(SUPPORT_LEVELS)))
            continue
        if tag == "defaultenabled" and value not in ("yes", "no"):
            diagnostics.append(error(path, text_pos.line, text_pos.column, "bad-value",
                                     f"<defaultenabled> is 'yes' or 'no', not '{value}'"))
            continue
        decl.scalars[tag] = (value, text_pos)
    return decl, diagnostics

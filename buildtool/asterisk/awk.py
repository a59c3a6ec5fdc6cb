"""Asterisk's text extractors, byte for byte, without running awk, grep or cut.

``build_tools/get_moduleinfo`` and ``get_makeopts`` are awk programs built from
these rules, in this order (22.x's get_moduleinfo uses all four kinds; its
get_makeopts and older get_moduleinfo versions end a block with ``exit``)::

    /OPENER/ {printit=1; next}                                            (required)
    /<support_level>/ {if (gotsupportlevel) { next }; gotsupportlevel=1}   (optional)
    /\\*\\*\\*\\// {printit=0}    or    /\\*\\*\\*\\// {if (printit) exit}           (required)
    /.*/ {if (printit) print}                                             (required)

``parse`` recognises such a program (anything else: None, and the caller
refuses); ``Program.run`` prints what awk prints. The display name is
``grep -e AST_MODULE_INFO FILE | head -n 1 | cut -d '"' -f 2`` (``display_name``).

Each works on raw bytes (here: ``str`` decoded as Latin-1, so every byte
survives). awk's state carries across the files of one invocation: ``awk -f
get_moduleinfo a.c b.c`` reads the lines of both as one stream. Only the lines
that can change the state are looked at one by one; the rest are skipped with
C-speed searches, so a large source costs a few ``find`` calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN_RULE = re.compile(r"^/((?:[A-Za-z0-9_ +<>]|\\[/*])+)/ \{ ?printit ?= ?1; ?next ?;? ?\}$")
_SUPPORT_RULE = "/<support_level>/ {if (gotsupportlevel) { next }; gotsupportlevel=1}"
_CLOSE_RESET_RULE = r"/\*\*\*\// {printit=0}"
_CLOSE_EXIT_RULE = r"/\*\*\*\// {if (printit) exit}"
_PRINT_RULE = "/.*/ {if (printit) print}"
_CLOSE = "***/"
_SUPPORT = "<support_level>"


@dataclass(frozen=True)
class Program:
    opener: re.Pattern
    literal: str           # the opener's longest literal run: found with str.find before the regex runs
    dedupe_support: bool   # the <support_level> rule: only the first such line is printed
    exit_on_close: bool    # the block's end stops awk (else printing stops until the next opener)

    def run(self, texts: list[str]) -> str:
        state = _Run(self)
        for text in texts:
            if state.exited:
                break
            state.feed(text)
        return "".join(state.out)


def _normal(line: str) -> str:
    return " ".join(line.split())


def parse(text: str) -> Program | None:
    """The extractor an awk program's text describes, or None when it is not of the understood shape."""
    lines = [_normal(line) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return None
    opener = _OPEN_RULE.match(lines[0])
    if not opener:
        return None
    rest = lines[1:]
    dedupe = bool(rest) and rest[0] == _normal(_SUPPORT_RULE)
    if dedupe:
        rest = rest[1:]
    if len(rest) != 2 or rest[1] != _normal(_PRINT_RULE) or rest[0] not in (_normal(_CLOSE_RESET_RULE),
                                                                          _normal(_CLOSE_EXIT_RULE)):
        return None
    pattern = opener.group(1).replace("\\/", "/")  # awk's \/ is a plain slash; \* stays an escaped star
    return Program(re.compile(pattern), _longest_literal(pattern), dedupe, rest[0] == _normal(_CLOSE_EXIT_RULE))


def _longest_literal(pattern: str) -> str:
    """The longest text every match contains (``MODULEINFO`` in ``/\\*\\*\\* +MODULEINFO``): the
    patterns accepted are atoms (a character or ``\\*``), each optionally followed by ``+``."""
    atoms = re.findall(r"(\\\*|[^\\+])(\+?)", pattern)
    runs: list[str] = []
    current = ""
    for atom, repeated in atoms:
        char = "*" if atom == "\\*" else atom
        if repeated:
            # "x+" matches x, then more: x ends the run before it and starts the next one.
            runs.append(current + char)
            current = char
        else:
            current += char
    runs.append(current)
    return max(runs, key=len)


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


class _Run:
    """One awk invocation's state, fed its files in order."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.printit = False
        self.gotsupportlevel = not program.dedupe_support  # without the rule, no line is ever skipped
        self.exited = False
        self.out: list[str] = []

    def feed(self, text: str) -> None:
        """Run the program over one more file: the lines before each opener are skipped with searches."""
        pos = 0
        if self.printit:  # a block left open by the previous file goes on
            pos = self._block(text, 0)
            if pos < 0:
                return
        while True:
            found = self._opener(text, pos)
            support = -1 if self.gotsupportlevel else text.find(_SUPPORT, pos)
            if found is None:
                if support >= 0:
                    self.gotsupportlevel = True
                return
            if 0 <= support < _line_start(text, found.start()):
                self.gotsupportlevel = True  # a <support_level> line before the opener's line
            line_end = text.find("\n", found.start())
            self.printit = True
            if line_end < 0:
                return
            pos = self._block(text, line_end + 1)
            if pos < 0:
                return

    def _opener(self, text: str, pos: int):
        """The first opener match at or after ``pos``: only the lines holding the literal are searched
        (a match never spans lines: the accepted patterns match no newline)."""
        literal = self.program.literal
        search = self.program.opener.search
        while True:
            at = text.find(literal, pos)
            if at < 0:
                return None
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            found = search(text, max(pos, start), len(text) if end < 0 else end)
            if found is not None:
                return found
            pos = at + 1

    def _block(self, text: str, pos: int) -> int:
        """Print the block's lines from ``pos``; the offset after its closing line, or -1 (file or awk ended)."""
        opener = self.program.opener
        n = len(text)
        while pos < n:
            line_end = text.find("\n", pos)
            line = text[pos:] if line_end < 0 else text[pos:line_end]
            pos = n if line_end < 0 else line_end + 1
            if opener.search(line):
                continue
            if _SUPPORT in line:
                if self.gotsupportlevel and self.program.dedupe_support:
                    continue
                self.gotsupportlevel = True
            if _CLOSE in line:
                if self.program.exit_on_close:
                    self.exited = True
                    return -1
                self.printit = False
                return pos
            self.out.append(line + "\n")
        return -1


def display_name(text: str) -> str:
    """``grep -e AST_MODULE_INFO FILE | head -n 1 | cut -d '"' -f 2``, as make's ``$(shell)`` returns it."""
    at = text.find("AST_MODULE_INFO")
    if at < 0:
        return ""
    start = _line_start(text, at)
    end = text.find("\n", at)
    line = text[start:] if end < 0 else text[start:end]
    fields = line.split('"')
    # cut prints a line without the delimiter whole; $(shell) drops the trailing newline.
    return fields[1] if len(fields) > 1 else line

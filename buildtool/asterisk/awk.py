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
of a block are looked at one by one; the lines before an opener are skipped with
one regex search and one ``find``, so a large source costs a few C-speed calls.
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
    opener: re.Pattern     # _OPEN_RULE admits nothing that matches a newline: a match lies on one line
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
    # awk's \/ (a plain slash) and \* (a plain star) mean the same to Python's re
    return Program(re.compile(opener.group(1)), dedupe, rest[0] == _normal(_CLOSE_EXIT_RULE))


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
        pos: int | None = 0
        while pos is not None:
            if self.printit:  # in a block (one left open by the previous file goes on)
                pos = self._block(text, pos)
                continue
            found = self.program.opener.search(text, pos)
            opener_line = len(text) if found is None else text[:found.start()].rfind("\n") + 1
            if not self.gotsupportlevel:
                # a <support_level> line before the opener's line (the opener's own line is skipped by `next`)
                self.gotsupportlevel = text.find(_SUPPORT, pos, opener_line) >= 0
            if found is None:
                return
            self.printit = True
            pos = opener_line  # the block starts with the opener's line, which _block skips as the opener rule does

    def _block(self, text: str, pos: int) -> int | None:
        """Print the block's lines from ``pos``; the offset after its closing line, or None (file or awk ended)."""
        opener = self.program.opener
        n = len(text)
        while pos < n:
            line_end = text.find("\n", pos)
            if line_end < 0:
                line_end = n
            line = text[pos:line_end]
            pos = line_end + 1
            if opener.search(line):
                continue
            if _SUPPORT in line:
                if self.gotsupportlevel and self.program.dedupe_support:
                    continue
                self.gotsupportlevel = True
            if _CLOSE in line:
                if self.program.exit_on_close:
                    self.exited = True
                    return None
                self.printit = False
                return pos
            self.out.append(line + "\n")
        return None


def display_name(text: str) -> str:
    """``grep -e AST_MODULE_INFO FILE | head -n 1 | cut -d '"' -f 2``, as make's ``$(shell)`` returns it."""
    before, found, after = text.partition("AST_MODULE_INFO")
    if not found:
        return ""
    line = before.rpartition("\n")[2] + found + after.partition("\n")[0]
    fields = line.split('"')
    # cut prints a line without the delimiter whole; $(shell) drops the trailing newline.
    return fields[1] if len(fields) > 1 else line

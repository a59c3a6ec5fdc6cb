"""Asterisk's text extractors, byte for byte, without running awk, grep or cut.

``build_tools/get_moduleinfo`` (awk)::

    /\\/\\*\\*\\* +MODULEINFO/ {printit=1; next}
    /<support_level>/ {if (gotsupportlevel) { next }; gotsupportlevel=1}
    /\\*\\*\\*\\// {printit=0}
    /.*/ {if (printit) print}

``build_tools/get_makeopts`` (awk)::

    /\\/\\*\\*\\* MAKEOPTS/ {printit=1; next}
    /\\*\\*\\*\\// {if (printit) exit}
    /.*/ {if (printit) print}

The display name: ``grep -e AST_MODULE_INFO FILE | head -n 1 | cut -d '"' -f 2``.

Each works on raw bytes (here: ``str`` decoded as Latin-1, so every byte
survives). awk's state carries across the files of one invocation: ``awk -f
get_moduleinfo a.c b.c`` reads the lines of both as one stream. Only the lines
that can change the state are looked at one by one; the rest are skipped with
C-speed searches, so a large source costs a few ``find`` calls.

The scripts are recognised by their text (``recognise``): another program under
the same name is a refusal, never a silently different extraction.
"""

from __future__ import annotations

import re

GET_MODULEINFO = (r"/\/\*\*\* +MODULEINFO/ {printit=1; next}",
                  r"/<support_level>/ {if (gotsupportlevel) { next }; gotsupportlevel=1}",
                  r"/\*\*\*\// {printit=0}",
                  r"/.*/ {if (printit) print}")
GET_MAKEOPTS = (r"/\/\*\*\* MAKEOPTS/ {printit=1; next}",
                r"/\*\*\*\// {if (printit) exit}",
                r"/.*/ {if (printit) print}")
SCRIPTS = {"get_moduleinfo": GET_MODULEINFO, "get_makeopts": GET_MAKEOPTS}

_MODULEINFO_OPEN = re.compile(r"/\*\*\* +MODULEINFO")
_MAKEOPTS_OPEN = "/*** MAKEOPTS"
_CLOSE = "***/"
_SUPPORT = "<support_level>"


def recognise(name: str, text: str) -> bool:
    """True when ``text`` is the awk program this module implements under ``name``."""
    expected = SCRIPTS.get(name)
    if expected is None:
        return False
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return lines == [" ".join(line.split()) for line in expected]


def _lines(text: str) -> list[str]:
    """awk's records: lines without their newline; a final unterminated line is a record too."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


class ModuleinfoAwk:
    """One ``awk -f get_moduleinfo FILE...`` run; feed the files in order."""

    def __init__(self) -> None:
        self.printit = False
        self.gotsupportlevel = False
        self.out: list[str] = []

    def feed(self, text: str) -> None:
        """Run the program over one more file: the lines before each opener are skipped with searches."""
        pos = 0
        if self.printit:  # a block left open by the previous file goes on
            pos = self._block(text, 0)
            if pos < 0:
                return
        while not self.printit:
            found = _MODULEINFO_OPEN.search(text, pos)
            support = -1 if self.gotsupportlevel else text.find(_SUPPORT, pos)
            if found is None:
                if support >= 0:
                    self.gotsupportlevel = True
                return
            if 0 <= support < _line_start(text, found.start()):
                self.gotsupportlevel = True  # a <support_level> line before the opener's line
            line_end = text.find("\n", found.start())
            if line_end < 0:
                self.printit = True
                return
            self.printit = True
            pos = line_end + 1
            # Inside the block: line by line until the closing line.
            end = self._block(text, pos)
            if end < 0:
                return
            pos = end

    def _block(self, text: str, pos: int) -> int:
        n = len(text)
        while pos < n:
            line_end = text.find("\n", pos)
            last = line_end < 0
            line = text[pos:] if last else text[pos:line_end]
            pos = n if last else line_end + 1
            if _MODULEINFO_OPEN.search(line):
                continue
            if _SUPPORT in line:
                if self.gotsupportlevel:
                    continue
                self.gotsupportlevel = True
            if _CLOSE in line:
                self.printit = False
                return pos
            self.out.append(line + "\n")
        return -1

    def result(self) -> str:
        return "".join(self.out)


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def moduleinfo(texts: list[str]) -> str:
    """What ``awk -f get_moduleinfo FILE...`` prints for files holding ``texts``."""
    run = ModuleinfoAwk()
    for text in texts:
        run.feed(text)
    return run.result()


def makeopts(text: str) -> str:
    """What ``awk -f get_makeopts FILE`` prints: the first MAKEOPTS block's inner lines."""
    start = text.find(_MAKEOPTS_OPEN)
    if start < 0:
        return ""
    line_end = text.find("\n", start)
    if line_end < 0:
        return ""
    out = []
    for line in _lines(text[line_end + 1:]):
        if _MAKEOPTS_OPEN in line:
            continue
        if _CLOSE in line:
            break
        out.append(line + "\n")
    return "".join(out)


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

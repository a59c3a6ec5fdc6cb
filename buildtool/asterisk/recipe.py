"""One recipe line of the shapes Asterisk's menuselect rules use, evaluated without a shell.

A recipe line is expanded by make first, then run by ``/bin/sh``. Here the
expanded text is split into words by the POSIX shell's quoting rules (double
and single quotes, backslashes, unquoted blanks) and must then be one simple
command with at most one output redirection:

- ``echo WORD... [>|>> FILE]``: the words joined by single spaces, and a newline;
- ``cat FILE... [>> FILE]``;
- ``awk -f SCRIPT FILE... [>> FILE]`` for one of the scripts ``awk`` implements.

Anything else (a pipe, ``;``, ``$`` or a backquote the shell would expand, a
glob it would match, a backslash that ``echo`` treats differently in dash and
bash) is refused with the Makefile line, so a result is either make's result or
no result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from buildtool.errors import InputError



@dataclass
class Command:
    program: str
    args: list[str]
    redirect: str | None  # ">", ">>" or None (stdout)
    target: str | None


def strip_prefixes(line: str) -> str:
    """A recipe line without make's ``@``, ``-`` and ``+`` prefixes."""
    line = line.lstrip()
    while line[:1] in ("@", "-", "+"):
        line = line[1:].lstrip()
    return line


# The double-quoted body is written unrolled, [^"\\]*(?:\\.[^"\\]*)*: the language of (?:[^"\\]|\\.)*
# without a group entered per character (the member lines are long and quoted).
_TOKEN = re.compile(r"""
    (?P<blank>[ \t\n]+)
  | (?P<plain>[^ \t\n"'\\><;|&()$`*?\[]+)
  | "(?P<double>[^"\\]*(?:\\.[^"\\]*)*)"
  | '(?P<single>[^']*)'
  | \\(?P<escaped>.?)
  | (?P<redirect>>>?)
  | (?P<other>.)
""", re.X | re.S)
_ANY_ESCAPE = re.compile(r"\\.", re.S)
_DOUBLE_ESCAPE = re.compile(r'\\([\\"$`\n])')


def split_words(text: str, path: str, line: int) -> tuple[list[str], list[tuple[str, int]]]:
    """Shell words of ``text`` and the indexes where unquoted redirection operators stand."""
    words: list[str] = []
    redirects: list[tuple[str, int]] = []
    current: list[str] = []
    in_word = False
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        value = token.group(kind)
        if kind == "plain":
            current.append(value)
            in_word = True
        elif kind == "double":
            bare = _ANY_ESCAPE.sub("", value) if "\\" in value else value
            if "$" in bare or "`" in bare:
                what = f"'{'$' if '$' in bare else '`'}' would be expanded by the shell"
                raise InputError(path, line, 1, f"recipe shape not understood ({what}): {text.strip()[:80]!r}")
            current.append(_DOUBLE_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), value)
                           if "\\" in value else value)
            in_word = True
        elif kind == "single":
            current.append(value)
            in_word = True
        elif kind == "escaped":
            if value != "\n":
                current.append(value)
                in_word = True
        elif kind == "blank" or kind == "redirect":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            if kind == "redirect":
                redirects.append((value, len(words)))
        else:
            if value in "$`":
                what = f"'{value}' would be expanded by the shell"
            elif value in "*?[":
                what = f"'{value}' would be matched against file names by the shell"
            elif value in "\"'":
                what = "unterminated quote"
            else:
                what = f"shell operator '{value}'"
            raise InputError(path, line, 1, f"recipe shape not understood ({what}): {text.strip()[:80]!r}")
    if in_word:
        words.append("".join(current))
    return words, redirects


def parse(text: str, path: str, line: int) -> Command:
    """The simple command of an (already make-expanded) recipe line."""
    words, redirects = split_words(strip_prefixes(text), path, line)
    if not words:
        raise InputError(path, line, 1, f"empty recipe line: {text.strip()[:80]!r}")
    redirect = target = None
    if redirects:
        if len(redirects) > 1:
            raise InputError(path, line, 1, f"recipe shape not understood (two redirections): {text.strip()[:80]!r}")
        redirect, index = redirects[0]
        if index >= len(words) or index != len(words) - 1:
            raise InputError(path, line, 1,
                             f"recipe shape not understood (redirection not last): {text.strip()[:80]!r}")
        target = words.pop(index)
    return Command(words[0], words[1:], redirect, target)


def echo_output(command: Command, path: str, line: int) -> str:
    """What ``echo`` writes: its arguments joined by spaces, and a newline (refused where shells differ)."""
    if command.args and command.args[0] in ("-n", "-e", "-E"):
        raise InputError(path, line, 1, f"echo {command.args[0]} is not understood (it differs between shells)")
    text = " ".join(command.args)
    if "\\" in text:
        raise InputError(path, line, 1, "a backslash in echo's output differs between dash and bash; not evaluated")
    return text + "\n"

"""Move hand-written dependency lists out of ``AST_MODULE_INFO(...)`` and into MODULEINFO.

For each source: every ``.requires``, ``.optional_modules`` and ``.enhances``
field written as string literals is removed (with its comma, and its line when
nothing else is on it), and whatever only that list knew is added to the
MODULEINFO block, so no information is lost:

- a required module -> ``<depend type="module">name</depend>``;
- a required core built-in (``cdr``, ``http``; see
  ``resolve.is_builtin``) -> ``<depend>name</depend>`` (the
  catalogue must list it in ``builtins``; a note says so when it does not);
- an optional module -> ``<use type="module">name</use>``;
- an enhanced module -> ``<enhance>name</enhance>``.

A field under a preprocessor conditional (``#ifdef HAVE_PJPROJECT``) is a
dependency that holds only when the condition does; MODULEINFO has no form for
that, so the field is left in place with a ``migrate-conditional`` note.

New tags go after the block's last dependency tag (else before
``<support_level>``, else before the closing line), with that line's
indentation and the file's line ending; a source without a block gets one
before its first ``#include``. The text is handled as Latin-1, so every other
byte of the file (encoding, CRLF) is kept. Once migrated, a source has no
hand-written list left, so a second run changes nothing.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field

from buildtool import handwritten
from buildtool.catalog import Catalog
from buildtool.diagnostics import Diagnostic, note, warning
from buildtool.extract import find_blocks
from buildtool.model import Module, Tree
from buildtool.resolve import is_builtin

_AFTER_VALUE = re.compile(r"(?:[ \t\r\n]|/\*.*?\*/|//[^\n]*\n)*?,", re.S)
_LAST_TAG = re.compile(r"</(?:depend|use|enhance|provide|conflict)\s*>|<(?:depend|use|enhance|provide|conflict)\b[^>]*/>")
_XML_ERRORS = ("xml-syntax", "xml-dtd")
_INCLUDE = re.compile(r"^[ \t]*#[ \t]*include\b", re.M)


@dataclass
class Migration:
    path: str
    module: str
    before: bytes
    after: bytes
    added: list[str] = field(default_factory=list)     # MODULEINFO tags added
    removed: list[str] = field(default_factory=list)   # fields removed
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff (Latin-1 text: write it back with the same codec)."""
        # Lines end at "\n" only, as for diff and patch (splitlines() would also cut at a lone CR and
        # then claim "No newline" after every line of an old-Mac file): the diff applies with patch.
        old = self.before.decode("latin-1").split("\n")
        new = self.after.decode("latin-1").split("\n")
        old = [line + "\n" for line in old[:-1]] + ([old[-1]] if old[-1] else [])
        new = [line + "\n" for line in new[:-1]] + ([new[-1]] if new[-1] else [])
        lines = difflib.unified_diff(old, new, f"a/{self.path}", f"b/{self.path}")
        out = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


def _offset(text: str, line: int, column: int) -> int:
    pos = 0
    for _ in range(line - 1):
        pos = text.index("\n", pos) + 1
    return pos + column - 1


_TAG_NAME = re.compile(r"<(depend|use|enhance)\b[^>]*>\s*([^<\s]+)\s*</\1\s*>")


def written_names(block_text: str) -> dict[str, set[str]]:
    """Every name the block writes, by tag, whatever it resolves to (a one-file run knows few modules)."""
    out: dict[str, set[str]] = {"depend": set(), "use": set(), "enhance": set()}
    for match in _TAG_NAME.finditer(block_text):
        out[match.group(1)].add(match.group(2))
    return out


def additions(module: Module, found: handwritten.HandWritten, tree: Tree, catalog: Catalog,
              diagnostics: list[Diagnostic], block_text: str = "", menuselect: bool = False) -> list[str]:
    """The MODULEINFO tags that carry what only the hand-written lists say.

    ``menuselect``: the tree is built by Asterisk's menuselect, which takes every
    ``<depend>`` name it cannot find for a missing build dependency; a core
    built-in is then written ``<use type="builtin">`` (required at load time,
    never a build dependency; see ``resolve``)."""
    tags: list[str] = []
    written = written_names(block_text)
    for field_name in handwritten.LIST_FIELDS:
        item = found.fields.get(field_name)
        if item is None or item.value is None:
            continue
        for name in item.names():
            builtin = is_builtin(name, tree, catalog)
            if field_name == "requires":
                if name in module.requires or name in module.builtins or name in written["depend"]:
                    continue
                if builtin:
                    tags.append(f'<use type="builtin">{name}</use>' if menuselect else f"<depend>{name}</depend>")
                    if name not in catalog.builtins:
                        diagnostics.append(note(module.source, item.line, item.column, "migrate-builtin",
                                                f"'{name}' is taken for a core built-in: declare it in the "
                                                "catalogue's builtins (builtins = [\"" + name + "\"])",
                                                module=module.name))
                else:
                    tags.append(f'<depend type="module">{name}</depend>')
            elif field_name == "optional_modules":
                if (name in module.optional_modules or name in module.requires
                        or name in written["depend"] or name in written["use"]):
                    continue
                if builtin:
                    diagnostics.append(note(module.source, item.line, item.column, "migrate-builtin",
                                            f"optional core built-in '{name}' is always present: nothing to add",
                                            module=module.name))
                    continue
                tags.append(f'<use type="module">{name}</use>')
            elif name not in module.enhances and name not in written["enhance"]:
                tags.append(f"<enhance>{name}</enhance>")
    return tags


def migrate_source(module: Module, data: bytes, tree: Tree, catalog: Catalog, menuselect: bool = False,
                   declared_elsewhere: str | None = None) -> Migration:
    """``declared_elsewhere``: the module's MODULEINFO is not in this source but in that file
    (an Asterisk member declared by a Makefile rule, such as app_voicemail's); a hand-written
    list is then removed only when that declaration already says everything it says."""
    text = data.decode("latin-1")
    result = Migration(module.source, module.name, data, data)
    lone_cr = "\r" in text and "\n" not in text
    if lone_cr:  # old-Mac line ends: edit with "\n" (same length, same offsets), give the CRs back
        text = text.replace("\r", "\n")
    found = handwritten.find(text)
    if found is None:
        return result
    items = [found.fields[f] for f in handwritten.LIST_FIELDS if f in found.fields]
    for item in items:
        if item.condition:
            result.diagnostics.append(note(module.source, item.line, item.column, "migrate-conditional",
                                           f".{item.name} = {item.text} holds only under {item.condition}: "
                                           "a conditional dependency, left in place (it keeps precedence over "
                                           "the injected list when the condition holds)", module=module.name))
    items = [item for item in items if not item.condition]
    for item in items:
        if item.value is None:
            result.diagnostics.append(warning(module.source, item.line, item.column, "migrate-unreadable",
                                              f".{item.name} = {item.text} is not a string literal: left as it is",
                                              module=module.name))
    items = [item for item in items if item.value is not None]
    if not items:
        return result
    blocks, problems = find_blocks(text, module.source)
    # The block's own errors (find_blocks) and the scanner's XML errors for it: either way the tags
    # cannot be placed safely, and what the block says is not known.
    xml_errors = any(d.path == module.source and d.code in _XML_ERRORS for d in tree.diagnostics)
    if problems or xml_errors or (blocks and module.line == 0):
        result.diagnostics.append(warning(module.source, max(module.line, 1), 1, "migrate-skipped",
                                          "the MODULEINFO block has errors (see buildtool scan): not migrated",
                                          module=module.name))
        return result
    tags = additions(module, found, tree, catalog, result.diagnostics, blocks[0].text if blocks else "", menuselect)
    if declared_elsewhere and tags:
        result.diagnostics.append(warning(module.source, items[0].line, items[0].column, "migrate-skipped",
                                          f"the MODULEINFO of {module.name} is declared in {declared_elsewhere}: add "
                                          + " ".join(tags) + " there, then migrate again", module=module.name))
        return result
    eol = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement)
    for item in items:
        edits.append(_removal(text, item))
        result.removed.append(f".{item.name} = {item.text}")
    if tags:
        edits.append(_insertion(text, blocks[0] if blocks else None, tags, eol))
        result.added = tags
    new = text
    for start, end, replacement in sorted(edits, reverse=True):
        new = new[:start] + replacement + new[end:]
    result.after = (new.replace("\n", "\r") if lone_cr else new).encode("latin-1")
    return result


def _removal(text: str, item: handwritten.HandWrittenField) -> tuple[int, int, str]:
    start, end = item.start, item.end
    comma = _AFTER_VALUE.match(text, end)
    if comma:
        end = comma.end()
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if not text[line_start:start].strip() and not text[end:line_end].strip():
        return line_start, min(line_end + 1, len(text)), ""
    if not text[end:line_end].strip():  # last on a line shared with other fields: keep the line's end
        return len(text[:start].rstrip(" \t")), line_end - (1 if text[line_end - 1:line_end] == "\r" else 0), ""
    if not comma and text[end:line_end].lstrip().startswith(")"):
        # The call's last argument, closed on the same line: take the comma before it, not ", )".
        before = text[:start].rstrip(" \t")
        if before.endswith(","):
            return len(before) - 1, end, ""
    while end < len(text) and text[end] in " \t":
        end += 1
    return start, end, ""


def _insertion(text: str, block, tags: list[str], eol: str) -> tuple[int, int, str]:
    if block is None:
        include = _INCLUDE.search(text)
        at = include.start() if include else 0
        body = "".join(f"\t{tag}{eol}" for tag in tags)
        return at, at, f"/*** MODULEINFO{eol}{body} ***/{eol}"
    content_start = _offset(text, block.content_line, block.content_column)
    content = block.text
    if "\n" not in content:
        at = content_start + len(content.rstrip())
        return at, at, "".join(" " + tag for tag in tags)
    last = None
    for last in _LAST_TAG.finditer(content):
        pass
    support = re.search(r"^[ \t]*<support_level\b", content, re.M)
    if last is not None:
        line_end = content.find("\n", last.end())
        line_begin = content.rfind("\n", 0, last.start()) + 1
        at = line_end + 1 if line_end >= 0 else len(content.rstrip())
    elif support is not None:
        line_begin = support.start()
        at = support.start()
    else:
        line_begin = None
        at = content.rfind("\n") + 1
    indent = re.match(r"[ \t]*", content[line_begin:]).group() if line_begin is not None else "\t"
    indent = indent or "\t"
    body = "".join(f"{indent}{tag}{eol}" for tag in tags)
    return content_start + at, content_start + at, body


def migrate(tree: Tree, catalog: Catalog, menuselect: bool = False,
            compiled: dict[str, str] | None = None) -> list[Migration]:
    """``compiled``: module -> the C source compiled for it, where that is not where its
    MODULEINFO is declared (Asterisk members declared by a Makefile rule)."""
    from dataclasses import replace
    from pathlib import Path

    by_source: dict[str, list[Migration]] = {}
    for name in sorted(tree.modules):
        module = tree.modules[name]
        declared_elsewhere = None
        if compiled and compiled.get(name, module.source) != module.source:
            declared_elsewhere = module.source
            module = replace(module, source=compiled[name])
        if not module.source.endswith((".c", ".cc")):
            continue  # a member declared in an XML file has no source, so no info struct
        data = Path(module.source).read_bytes()
        # Keyed by the file itself: Asterisk's app_voicemail_imap.c is a symlink to app_voicemail.c,
        # and a rewrite must go to the file, never replace the link.
        by_source.setdefault(os.path.realpath(module.source), []).append(
            migrate_source(module, data, tree, catalog, menuselect, declared_elsewhere))
    out = []
    for source, migrations in by_source.items():
        # One source built as several modules (Asterisk's app_voicemail, _imap and _odbc) is
        # rewritten once, and only when every one of them agrees on the result.
        first = migrations[0]
        first.path = source
        if any(m.after != first.after for m in migrations[1:]):
            names = ", ".join(m.module for m in migrations)
            first.after = first.before
            first.diagnostics.append(warning(source, 1, 1, "migrate-skipped",
                                             f"{source} is built as {names}, whose MODULEINFO would need different "
                                             "changes: not migrated", module=first.module))
        for other in migrations[1:]:
            first.diagnostics.extend(d for d in other.diagnostics if d not in first.diagnostics)
        out.append(first)
    return out

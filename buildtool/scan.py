"""Stage one: sources in, ``Tree`` out (discover, extract, parse, resolve)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from buildtool.catalog import Catalog
from buildtool.diagnostics import Diagnostic, error, warning
from buildtool.errors import InputError
from buildtool.extract import DOCUMENTATION_OPENING, Block, block_region, find_blocks
from buildtool.fsutil import read_regular
from buildtool.model import Tree
from buildtool.moduleinfo import parse_block
from buildtool.resolve import ScannedModule, resolve

SOURCE_SUFFIXES = (".c", ".cc")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOC_OPENING = DOCUMENTATION_OPENING.encode()


@dataclass(frozen=True)
class SourceFile:
    path: str      # as given on the command line (joined with the directory)
    name: str      # the module name: the file's stem
    category: str  # the module directory's name


def discover(paths: list[str]) -> tuple[list[SourceFile], list[Diagnostic]]:
    """Module sources named by ``paths``: a directory's ``*.c``/``*.cc``, or a file."""
    found: list[SourceFile] = []
    diagnostics: list[Diagnostic] = []
    for given in paths:
        if os.path.isdir(given):
            category = os.path.basename(os.path.abspath(given))  # os.path: pathlib's import costs start-up
            try:
                with os.scandir(given) as listing:
                    entries = sorted((e.name, e) for e in listing if e.name.endswith(SOURCE_SUFFIXES))
            except OSError as exc:
                diagnostics.append(error(given, 0, 0, "io-error", f"cannot list directory: {exc.strerror}"))
                continue
            for name, entry in entries:
                if entry.is_file():  # follows symlinks, like os.path.isfile
                    found.append(SourceFile(os.path.join(given, name), os.path.splitext(name)[0], category))
        elif os.path.exists(given):
            category = os.path.basename(os.path.dirname(os.path.abspath(given)))
            found.append(SourceFile(given, os.path.splitext(os.path.basename(given))[0], category))
        else:
            diagnostics.append(error(given, 0, 0, "io-error", "no such file or directory"))
    return found, diagnostics


def _provided(source: SourceFile, data: bytes) -> tuple[tuple, list[Diagnostic]]:
    """What the source's DOCUMENTATION blocks say the module provides (applications, functions, ...)."""
    if _DOC_OPENING not in data:
        return (), []  # no decoding, no lexing, and no import of lxml's document code
    from buildtool import xmldoc

    names, diagnostics = xmldoc.provided_names(data.decode("latin-1"), source.path, source.name)
    # Only the names: the DOCUMENTATION blocks themselves are checked by check --xmldoc and buildtool xmldoc.
    return tuple(names), [d for d in diagnostics if d.code == "provided-name-invalid"]


def scan_source(source: SourceFile, data: bytes) -> tuple[ScannedModule, list[Diagnostic]]:
    text = block_region(data).decode("latin-1")
    blocks, diagnostics = find_blocks(text, source.path)
    names, found = _provided(source, data)
    if not blocks:
        if not diagnostics:
            diagnostics.append(warning(source.path, 1, 1, "block-missing",
                                       "no MODULEINFO block: the module has no declared dependencies",
                                       module=source.name))
        diagnostics.extend(found)
        return ScannedModule(source.name, source.path, source.category, None, names=names), diagnostics
    block = blocks[0]
    try:
        block = type(block)(block.text.encode("latin-1").decode("utf-8"), block.line, block.column,
                            block.content_line, block.content_column)
    except UnicodeDecodeError as exc:
        diagnostics.append(warning(source.path, block.content_line, block.content_column, "block-encoding",
                                   f"MODULEINFO block is not UTF-8 (byte {exc.start}); read as Latin-1"))
    decl, parse_diagnostics = parse_block(block, source.path)
    diagnostics.extend(parse_diagnostics)
    diagnostics.extend(found)
    return ScannedModule(source.name, source.path, source.category, decl, names=names), diagnostics


def scan_root(root: str, catalog: Catalog | None = None):
    """Scan an Asterisk source root as its build reads it (``buildtool.asterisk.root``).

    Returns ``(tree, root)``: ``root.tree_bytes()`` is its menuselect-tree. The
    root's own catalogue (libraries, build options, core built-ins, platforms) is
    used, with ``catalog`` merged over it.
    """
    from buildtool.asterisk import root as asterisk_root  # only a root scan pays for the Makefile reader

    found = asterisk_root.read(root)
    merged = found.catalog
    if catalog is not None:
        merged.merge(catalog)
    diagnostics: list[Diagnostic] = []
    scanned: dict[str, ScannedModule] = {}
    where: dict[str, str] = {}
    for member in found.members:
        if member.kind == "source":
            item, found_diagnostics = scan_source(SourceFile(member.path, member.name, member.directory),
                                                  member.data)
        else:
            item, found_diagnostics = _scan_declared(member)
            found_diagnostics += _declared_names(member, item, found.files)
        item.displayname = member.displayname
        if member.name in scanned:
            diagnostics.append(error(member.path, max(member.line, 1), 1, "duplicate-module",
                                     f"module name '{member.name}' is also declared by {where[member.name]}",
                                     module=member.name))
            continue
        diagnostics.extend(d if d.module else with_module(d, member.name) for d in found_diagnostics)
        scanned[member.name] = item
        where[member.name] = member.path
    return resolve(list(scanned.values()), merged, diagnostics), found


def _scan_declared(member) -> tuple[ScannedModule, list[Diagnostic]]:
    """A member whose MODULEINFO is the inner text of a Makefile rule's echoes or of an XML <member>."""
    if not member.inner.strip():
        return ScannedModule(member.name, member.path, member.directory, None), [
            warning(member.path, member.line, 1, "block-missing",
                    "the member declares no MODULEINFO: the module has no declared dependencies",
                    module=member.name)]
    block = Block(member.inner, member.line, 1, member.content_line, member.content_column)
    decl, diagnostics = parse_block(block, member.path)
    return ScannedModule(member.name, member.path, member.directory, decl), diagnostics


def _declared_names(member, item: ScannedModule, files) -> list[Diagnostic]:
    """A Makefile-rule member's provided names, from the DOCUMENTATION of its own C source (the
    first file make reads for it: Asterisk's app_voicemail_imap is app_voicemail.c built again),
    read through the root's ``files`` (so a scan cache sees it as an input)."""
    if not member.sources or not files.isfile(member.sources[0]):
        return []  # make reports a missing source itself; the names are only what the source says
    try:
        data = files.data(member.sources[0])
    except InputError:
        return []
    item.names, diagnostics = _provided(SourceFile(member.sources[0], member.name, member.directory), data)
    item.names_from = member.sources[0]
    return diagnostics


def scan(paths: list[str], catalog: Catalog | None = None, installed: Tree | None = None) -> Tree:
    """Scan module sources and return the normalized tree with every diagnostic.

    ``installed`` is a tree of modules built elsewhere (an installed copy) that
    the scanned modules may depend on; it is not part of the result.
    """
    sources, diagnostics = discover(paths)
    scanned: dict[str, ScannedModule] = {}
    first_path: dict[str, str] = {}
    # Sorted, so the order of the arguments never changes the result (which of
    # two same-named sources is the duplicate); one file named twice is one source.
    for source in sorted(sources, key=lambda s: s.path):
        if source.name in scanned and _same_file(source.path, first_path[source.name]):
            continue
        if not _IDENTIFIER.fullmatch(source.name):
            # It becomes a C string and macro (-DAST_MODULE="name"), a header name and a dlopen path.
            diagnostics.append(error(source.path, 1, 1, "bad-module-name",
                                     f"module name {source.name!r} (the file's stem) is not a C identifier "
                                     "(letters, digits, '_'; not starting with a digit): not scanned"))
            continue
        if source.name in scanned:
            diagnostics.append(error(source.path, 1, 1, "duplicate-module",
                                     f"module name '{source.name}' is also used by {first_path[source.name]}; "
                                     "module names (file stems) must be unique", module=source.name))
            continue
        try:
            # a FIFO or device named on the command line is refused
            data = read_regular(source.path)
        except OSError as exc:
            diagnostics.append(error(source.path, 0, 0, "io-error", f"cannot read: {exc.strerror}"))
            continue
        item, found = scan_source(source, data)
        diagnostics.extend(d if d.module else with_module(d, source.name) for d in found)
        scanned[source.name] = item
        first_path[source.name] = source.path
    return resolve(list(scanned.values()), catalog or Catalog(), diagnostics, installed)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def with_module(diagnostic: Diagnostic, module: str) -> Diagnostic:
    """``diagnostic`` attributed to ``module``."""
    return Diagnostic(diagnostic.path, diagnostic.line, diagnostic.column, diagnostic.severity,
                      diagnostic.code, diagnostic.message, module, diagnostic.data)

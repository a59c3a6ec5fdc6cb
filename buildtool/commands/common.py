"""Pieces several commands share: output files and diagnostic printing."""

from __future__ import annotations

import os
import sys
from buildtool.fsutil import write_if_changed

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (type checkers take the name), without importing typing
if TYPE_CHECKING:  # annotations only: a cached `scan ROOT` imports this module but no diagnostics
    from typing import Iterable

    from buildtool.diagnostics import Diagnostic


def emit(text: str, output: str | None) -> None:
    """Write a command's main output to ``output`` (atomically) or stdout."""
    if output and output != "-":
        write_output(output, text)
    else:
        sys.stdout.write(text)


def write_output(output: str, data: str | bytes) -> None:
    """``-o FILE``: atomically; a missing parent directory is made, and said (a typo shows)."""
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent) and not os.path.lexists(parent):
        print(f"buildtool: note: {os.path.dirname(output)}: created the directory for the output",
              file=sys.stderr)
    write_if_changed(output, data)


def print_diagnostics(diagnostics: Iterable[Diagnostic], stream=None) -> None:
    stream = stream or sys.stderr
    for diagnostic in diagnostics:
        print(diagnostic.render(), file=stream)


def add_catalog_argument(parser) -> None:
    parser.add_argument("--catalog", action="append", default=[], metavar="FILE",
                        help="catalogue of libraries, options, built-ins, interfaces: *.toml, "
                             "menuselect-deps[.in] or menuselect XML (repeatable, merged in order)")


def scan_paths(paths: list[str], catalog_files: list[str]):
    """The tree and catalogue for a command's PATH arguments: module directories and
    sources with ``--catalog`` files, or one Asterisk source root, which names its
    own directories and catalogues (``--catalog`` files are merged over them).
    Returns (tree, catalogue, root) where ``root`` is the Asterisk root read, else None."""
    from buildtool import catalog
    from buildtool.asterisk.root import is_root
    from buildtool.scan import scan, scan_root

    extra = catalog.load_all(catalog_files)
    if len(paths) == 1 and is_root(paths[0]):
        tree, root = scan_root(paths[0], extra)
        return tree, root.catalog, root
    return scan(paths, extra), extra, None

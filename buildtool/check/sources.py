"""Sources: scan the tree and keep every scanner diagnostic as a finding.

Required cycles are found by the scanner itself (``dependency-cycle``); the
rest of graph soundness is in ``graph``.
"""

from __future__ import annotations

from buildtool.catalog import Catalog
from buildtool.diagnostics import Diagnostic
from buildtool.model import Tree
from buildtool.scan import scan


def check(paths: list[str], catalog: Catalog) -> tuple[Tree, list[Diagnostic]]:
    tree = scan(paths, catalog)
    return tree, list(tree.diagnostics)

from __future__ import annotations

import os
import sys

from buildtool.commands.common import print_diagnostics
from buildtool.errors import InputError


def configure(parser) -> None:
    parser.add_argument("root", metavar="ROOT", help="a configured Asterisk source tree (./configure has run)")
    parser.add_argument("--remove", action="store_true",
                        help="take the hook out of makeopts (the next make builds without injection)")
    parser.add_argument("--module", metavar="NAME",
                        help="refresh one module's generated header (what the make hook runs after an edit)")


def run(args) -> int:
    from buildtool.asterisk import setup
    from buildtool.asterisk.root import is_root
    from buildtool.scan import scan_root

    if not is_root(args.root):
        raise InputError(args.root, 0, 0, "not an Asterisk source tree (no build_tools/menuselect-deps.in)")
    if args.remove:
        setup.remove(args.root)
        print(f"{args.root}: buildtool hook removed from makeopts", file=sys.stderr)
        return 0
    if args.module:
        setup.regenerate_one(args.root, args.module)
        return 0
    # Absolute: the make hook runs from each module directory and reads the saved tree.
    tree, root = scan_root(os.path.abspath(args.root))
    catalog = root.catalog
    result = setup.setup(args.root, tree, catalog, root.compiled_sources())
    print_diagnostics(result.diagnostics)
    print(f"Asterisk {result.version}: {len(result.injected)} modules get their MODULEINFO injected "
          f"({len(result.changed)} headers written); run make", file=sys.stderr)
    return 0

from __future__ import annotations

from pathlib import Path

from buildtool import catalog, treefile
from buildtool.commands.common import add_catalog_argument, print_diagnostics
from buildtool.diagnostics import Severity, has_errors
from buildtool.errors import UnreadableInput
from buildtool.fsutil import remove_stale_temporaries, write_if_changed
from buildtool.generate import HEADER_SUFFIX, HeaderGenerator
from buildtool.scan import scan


def configure(parser) -> None:
    add_catalog_argument(parser)
    parser.add_argument("--out-dir", required=True, metavar="DIR", help="where the <module>.modinfo.h headers go")
    parser.add_argument("--tree-out", metavar="FILE", help="also write the tree JSON here")
    parser.add_argument("--installed-tree", metavar="TREE", help="tree JSON of installed modules the sources may depend on")
    parser.add_argument("--errors-in-headers", action="store_true",
                        help="put each module's errors into its header as #error at the MODULEINFO line and exit 0, "
                             "so only the broken modules fail to compile (as the meson build's per-module steps do)")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="module directory or module source")


def run(args) -> int:
    installed = treefile.read(args.installed_tree) if args.installed_tree else None
    tree = scan(args.paths, catalog.load_all(args.catalog), installed)
    print_diagnostics(tree.diagnostics)
    UnreadableInput.stop_if_found(tree.diagnostics)  # no header is written
    failed = has_errors(tree.diagnostics)
    if failed and not args.errors_in_headers:
        return 1
    # A generate killed mid-write (ninja interrupted) leaves its temporary files: the next run removes them.
    remove_stale_temporaries(args.out_dir, HEADER_SUFFIX)
    generator = HeaderGenerator()
    for name, module in sorted(tree.modules.items()):
        errors = [d for d in tree.diagnostics if d.module == name and d.severity is Severity.ERROR]
        generator.write(module, Path(module.source).read_bytes(), args.out_dir, errors)
    if args.tree_out:
        write_if_changed(args.tree_out, treefile.to_json(tree))
    return 0

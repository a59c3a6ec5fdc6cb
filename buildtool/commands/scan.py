from __future__ import annotations

from buildtool import catalog, treefile
from buildtool.commands.common import add_catalog_argument, emit, print_diagnostics
from buildtool.diagnostics import has_errors
from buildtool.scan import scan


def configure(parser) -> None:
    add_catalog_argument(parser)
    parser.add_argument("--format", choices=("text", "json", "xml"), default="text",
                        help="json: the tree (schema 1); xml: menuselect-tree XML; text: a summary")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="module directory (every *.c/*.cc directly in it) or module source file")


def run(args) -> int:
    tree = scan(args.paths, catalog.load_all(args.catalog))
    if any(d.code == "io-error" for d in tree.diagnostics):
        # A path that cannot be read (a typo?): the tree would be missing modules, so it replaces
        # nothing (exit 2). Findings in the sources (exit 1) still write the tree.
        print_diagnostics(tree.diagnostics)
        return 2
    render = {"json": treefile.to_json, "xml": treefile.to_menuselect_xml, "text": treefile.to_text}[args.format]
    emit(render(tree), args.output)
    print_diagnostics(tree.diagnostics)
    return 1 if has_errors(tree.diagnostics) else 0

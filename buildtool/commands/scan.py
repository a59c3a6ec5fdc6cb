from __future__ import annotations

import sys

from buildtool import catalog, treefile
from buildtool.commands.common import add_catalog_argument, emit, print_diagnostics
from buildtool.diagnostics import has_errors
from buildtool.errors import UnreadableInput
from buildtool.scan import scan


def configure(parser) -> None:
    add_catalog_argument(parser)
    parser.add_argument("--format", choices=("text", "json", "xml"), default="text",
                        help="json: the tree (schema 3); xml: menuselect-tree XML (for an Asterisk root, the "
                             "file its 'make menuselect-tree' writes); text: a summary")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="module directory (every *.c/*.cc directly in it) or module source file; or one "
                             "Asterisk source root (it holds build_tools/menuselect-deps.in), read as its "
                             "Makefiles read it, with its own catalogues")


def run(args) -> int:
    from buildtool.asterisk.root import is_root

    roots = [p for p in args.paths if is_root(p)]
    if roots:
        if len(args.paths) > 1:
            print(f"buildtool scan: error: {roots[0]} is an Asterisk root: scan it alone "
                  "(it finds its module directories and catalogues itself)", file=sys.stderr)
            return 2
        from buildtool.scan import scan_root

        extra = catalog.load_all(args.catalog) if args.catalog else None
        tree, root = scan_root(roots[0], extra)
        output = root.tree_bytes() if args.format == "xml" else None
    else:
        tree = scan(args.paths, catalog.load_all(args.catalog))
        output = None
    # A path that cannot be read (a typo?): the tree would be missing modules, so it replaces
    # nothing. Findings in the sources (exit 1) still write the tree.
    UnreadableInput.stop_if_found(tree.diagnostics, shown=tree.diagnostics)
    if output is not None:
        _emit_bytes(output, args.output)
    else:
        render = {"json": treefile.to_json, "xml": treefile.to_menuselect_xml, "text": treefile.to_text}[args.format]
        emit(render(tree), args.output)
    print_diagnostics(tree.diagnostics)
    return 1 if has_errors(tree.diagnostics) else 0


def _emit_bytes(data: bytes, output: str | None) -> None:
    """The menuselect-tree as bytes: Asterisk's files are not all UTF-8, and make copies them verbatim."""
    if output and output != "-":
        from buildtool.fsutil import write_if_changed

        write_if_changed(output, data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()

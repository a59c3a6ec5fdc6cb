"""``buildtool xmldoc``: write the core-en_US.xml-style document (see buildtool/xmldoc.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from buildtool import catalog, xmldoc
from buildtool.commands.common import add_catalog_argument, print_diagnostics, write_output
from buildtool.diagnostics import error, has_errors
from buildtool.errors import IO_ERROR, UnreadableInput
from buildtool.scan import scan


def configure(parser) -> None:
    add_catalog_argument(parser)
    parser.add_argument("--thirdparty-dir", metavar="DIR",
                        help="merge the <module> elements of every *.xml document in DIR")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="module directory or module source")


def run(args) -> int:
    tree = scan(args.paths, catalog.load_all(args.catalog))
    diagnostics = list(tree.diagnostics)
    sources = {}
    for name, module in tree.modules.items():
        try:
            sources[name] = Path(module.source).read_bytes()
        except OSError as exc:
            diagnostics.append(error(module.source, 0, 0, IO_ERROR, f"cannot read: {exc.strerror}"))
    body, found = xmldoc.build(tree, sources, args.thirdparty_dir)
    diagnostics += found
    UnreadableInput.stop_if_found(diagnostics, shown=diagnostics)  # an incomplete document replaces nothing
    if args.output and args.output != "-":
        write_output(args.output, body)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    print_diagnostics(diagnostics)
    return 1 if has_errors(diagnostics) else 0

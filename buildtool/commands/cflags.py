from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

from buildtool import catalog, treefile
from buildtool.commands.common import add_catalog_argument, print_diagnostics
from buildtool.diagnostics import Severity, has_errors
from buildtool.errors import InputError, UnreadableInput
from buildtool.generate import HeaderGenerator, cflags
from buildtool.model import Tree
from buildtool.scan import scan


def configure(parser) -> None:
    add_catalog_argument(parser)
    parser.add_argument("source", metavar="SOURCE", help="the module's C source")
    parser.add_argument("--tree", metavar="TREE.json",
                        help="tree of the modules it may depend on (an installed tree: share/buildtool/tree.json)")
    parser.add_argument("--out-dir", metavar="DIR", help="where to write <module>.modinfo.h (required unless --libs "
                                                         "or --dependencies)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--libs", action="store_true",
                      help="print the link flags of the libraries the module's MODULEINFO declares (pkg-config "
                           "--libs of each), like `pkg-config --libs`; writes no header")
    mode.add_argument("--dependencies", action="store_true",
                      help="print 'NAME PACKAGE' for each of those libraries that is found, one a line: the "
                           "MODULEINFO name (for -DHAVE_<NAME>=1) and the pkg-config name (for meson's "
                           "dependency()); writes no header")
    parser.add_argument("--include-dir", action="append", default=[], metavar="DIR",
                        help="also print -IDIR (where asterisk/module.h is; `pkg-config --cflags asterisk-modules`)")
    parser.add_argument("--asterisk-include", metavar="DIR",
                        help="build against an installed, unmodified Asterisk (DIR holds asterisk.h and "
                             "asterisk/module.h, e.g. /usr/include): fill Asterisk's own struct ast_module_info "
                             "through a forced include, as asterisk-setup does in Asterisk's tree")


def run(args) -> int:
    from buildtool import libraries

    if not (args.libs or args.dependencies or args.out_dir):
        raise InputError(args.source, 0, 0, "--out-dir is required (or --libs / --dependencies)")
    installed = treefile.read(args.tree) if args.tree else None
    name = Path(args.source).stem
    if installed and name in installed.modules:
        # The source is the truth for itself; the tree only names the others.
        installed = Tree({k: v for k, v in installed.modules.items() if k != name}, installed.diagnostics)
    cat = catalog.load_all(args.catalog)
    tree = scan([args.source], cat, installed)
    print_diagnostics(tree.diagnostics)
    UnreadableInput.stop_if_found(tree.diagnostics)
    if has_errors(tree.diagnostics) or name not in tree.modules:
        return 1
    module = tree.modules[name]
    data = Path(args.source).read_bytes()
    # The libraries MODULEINFO declares: a required one that is absent stops the build here.
    libs = libraries.libraries(module, cat)
    absent = libraries.missing(module, data, libs)
    if absent and args.asterisk_include:
        # Asterisk's configure finds libraries pkg-config may not know (its catalogue
        # names are configure's): say so, and leave the linking to the author.
        print_diagnostics(dataclasses.replace(d, severity=Severity.WARNING) for d in absent)
    elif absent:
        print_diagnostics(absent)
        return 1
    if args.dependencies:
        print("\n".join(f"{lib.name} {lib.package}" for lib in libs if lib.found))
        return 0
    if args.libs:
        print(" ".join(shlex.quote(flag) for flag in libraries.link_flags(libs)))
        return 0
    if args.asterisk_include:
        from buildtool.asterisk import moduleh, setup

        header = moduleh.parse_file(str(Path(args.asterisk_include) / "asterisk" / "module.h"))
        setup.write_headers(header, module, data, Path(args.out_dir))
        flags = [f"-I{d}" for d in args.include_dir] + setup.out_of_tree_flags(module, Path(args.out_dir),
                                                                               args.asterisk_include)
    else:
        HeaderGenerator().write(module, data, args.out_dir, [d for d in tree.diagnostics if d.severity is Severity.ERROR])
        flags = cflags(module, args.out_dir, args.include_dir)
    flags += libraries.compile_flags(libs) + libraries.have_flags(libs)
    print(" ".join(shlex.quote(flag) for flag in flags))
    return 0

from __future__ import annotations

from pathlib import Path

from buildtool import catalog, treefile
from buildtool.commands.common import add_catalog_argument, print_diagnostics
from buildtool.diagnostics import Severity, has_errors
from buildtool.errors import InputError, UnreadableInput
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
                             "so only the broken modules fail to compile (what the meson build does)")
    build = parser.add_argument_group("inside the meson build (buildtool/buildgen.py; modules/meson.build runs it)")
    build.add_argument("--blocks-dir", metavar="DIR",
                       help="read each module's NAME.modinfo.block from DIR instead of its source; the headers "
                            "include NAME.modinfo.hash.h for the source hash; needs one PATH, the module directory")
    build.add_argument("--plan", metavar="FILE", help="with --blocks-dir: the plan meson configured")
    build.add_argument("--listing", metavar="FILE", help="with --blocks-dir: the module directory's current listing")
    build.add_argument("--built-tree-out", metavar="FILE",
                       help="with --blocks-dir: also write the tree without the --drop modules (what is installed)")
    build.add_argument("--drop", default="", metavar="A,B,...",
                       help="with --built-tree-out: the modules meson does not build (comma-separated)")
    build.add_argument("--reconfigure-trigger", metavar="FILE",
                       help="with --blocks-dir: a file build.ninja's regeneration depends on, touched when the plan changed")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="module directory or module source")


def run(args) -> int:
    if args.blocks_dir:
        if not (args.plan and args.listing and args.reconfigure_trigger) or len(args.paths) != 1:
            raise InputError("generate", 0, 0, "--blocks-dir needs --plan, --listing, --reconfigure-trigger "
                                               "and exactly one module directory")
        from buildtool import buildgen

        return buildgen.run(args.paths[0], args.blocks_dir, args.out_dir, catalog.load_all(args.catalog),
                            args.plan, args.listing, args.reconfigure_trigger, args.tree_out,
                            args.built_tree_out, frozenset(n for n in args.drop.split(",") if n))
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

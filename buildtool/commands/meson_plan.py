"""``buildtool meson-plan``: what the top-level meson.build asks at configure time.

Five actions, one per flag (see docs/build.md):

- ``meson-plan [--catalog F]... PATH...``: the plan (buildtool/mesonplan.py
  documents the line format) on stdout; scan errors and dependency cycles go
  to stderr as ``file:line:col: error: ...`` and the exit status is 1, which
  meson.build turns into a configuration error.
- ``meson-plan --list PATH...``: the module source file names, one a line
  (meson.build makes one build step per source from them).
- ``meson-plan --record FILE --steps-dir DIR --reconfigure-trigger FILE ...``:
  also write the plan to FILE, and into DIR what the build's per-module steps
  read (the catalogue) with every module's header, as of this scan
  (buildtool/modstep.py).
- ``meson-plan --empty-headers --out-dir DIR PATH...``: every module's
  generated header with all injected fields empty (``-Dinjection=false``, the
  benchmark's baseline).
- ``meson-plan --decide PLAN --found-libraries a,b --build-options X
  --disable-modules m --default-disabled skip|build --system linux``: which
  modules of the recorded plan are built, and why each other one is not
  (``mesonplan.decide``); meson.build builds exactly those and lists the
  reasons in its summary.
- ``meson-plan --select-tree TREE --drop a,b --tree-out OUT``: the tree JSON
  without the modules that are not built (what meson installs).
"""

from __future__ import annotations

import sys

from buildtool import catalog, mesonplan
from buildtool.commands.common import add_catalog_argument, print_diagnostics
from buildtool.errors import InputError
from buildtool.scan import scan


def configure(parser) -> None:
    add_catalog_argument(parser)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="print the module source file names, one a line")
    action.add_argument("--empty-headers", action="store_true",
                        help="write headers with empty injected data into --out-dir (no injection)")
    action.add_argument("--select-tree", metavar="TREE", help="tree JSON to filter into --tree-out")
    action.add_argument("--decide", metavar="PLAN",
                        help="print which modules of the recorded PLAN are built and why the others are not")
    decide = parser.add_argument_group("with --decide: what meson found at configure time (comma-separated)")
    decide.add_argument("--found-libraries", default="", metavar="A,B,...", help="libraries whose dependency() was found")
    decide.add_argument("--build-options", default="", metavar="A,B,...", help="-Dbuild_options")
    decide.add_argument("--disable-modules", default="", metavar="A,B,...", help="-Ddisable_modules")
    decide.add_argument("--default-disabled", choices=("build", "skip"), default="build",
                        help="-Ddefault_disabled")
    decide.add_argument("--system", default="", help="host_machine.system()")
    parser.add_argument("--out-dir", metavar="DIR", help="with --empty-headers: where the headers go")
    parser.add_argument("--drop", default="", metavar="A,B,...",
                        help="with --select-tree: modules to leave out (comma-separated)")
    parser.add_argument("--tree-out", metavar="FILE", help="with --select-tree: the filtered tree")
    parser.add_argument("--record", metavar="FILE",
                        help="also write the plan to FILE (the build compares its plan with it)")
    parser.add_argument("--steps-dir", metavar="DIR",
                        help="with --record: write the catalogue of the build's per-module steps and every "
                             "module's header, tree fragment and block into DIR")
    parser.add_argument("--reconfigure-trigger", metavar="FILE",
                        help="with --steps-dir: a file build.ninja's regeneration depends on; a build step "
                             "touches it when an edit changed the plan")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the plan here instead of stdout")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="module directory or module sources")


def run(args) -> int:
    if args.select_tree:
        if not args.tree_out:
            raise InputError("meson-plan", 0, 0, "--select-tree needs --tree-out")
        mesonplan.select_tree(args.select_tree, {n for n in args.drop.split(",") if n}, args.tree_out)
        return 0
    if args.decide:
        from pathlib import Path

        def names(text: str) -> frozenset[str]:
            return frozenset(n for n in text.split(",") if n)

        facts = mesonplan.BuildFacts(names(args.found_libraries), names(args.build_options),
                                     names(args.disable_modules), args.default_disabled == "skip", args.system)
        plan = mesonplan.parse_plan(Path(args.decide).read_text(encoding="utf-8"))
        sys.stdout.write(mesonplan.decision_text(mesonplan.decide(plan, facts)))
        return 0
    if not args.paths:
        raise InputError("meson-plan", 0, 0, "no module directory or source given")
    if args.list:
        names, diagnostics = mesonplan.list_sources(args.paths)
        print_diagnostics(diagnostics)
        sys.stdout.write("".join(name + "\n" for name in names))
        return 1 if diagnostics else 0
    if args.empty_headers:
        if not args.out_dir:
            raise InputError("meson-plan", 0, 0, "--empty-headers needs --out-dir")
        mesonplan.write_empty_headers(args.paths, args.out_dir)
        return 0
    names = catalog.load_all(args.catalog)
    tree = scan(args.paths, names)
    plan = mesonplan.make_meson_plan(tree, names)
    print_diagnostics(plan.diagnostics)
    if plan.failed:
        return 1
    from buildtool.fsutil import write_if_changed

    if args.record:
        write_if_changed(args.record, plan.text())
    if args.steps_dir:
        if not (args.record and args.reconfigure_trigger and len(args.paths) == 1):
            raise InputError("meson-plan", 0, 0, "--steps-dir needs --record, --reconfigure-trigger "
                                                 "and exactly one module directory")
        from buildtool import modstep

        modstep.write_configured(tree, names, args.paths[0], args.steps_dir,
                                 args.reconfigure_trigger)
    if args.output:
        write_if_changed(args.output, plan.text())
    else:
        sys.stdout.write(plan.text())
    return 0

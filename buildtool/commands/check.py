"""``buildtool check``: release checks with stable exit codes and machine-readable reports.

Exit codes: 0 no finding at or above ``--fail-on``; 1 such findings; 2 usage,
input or I/O error (a path, catalogue, binaries directory or document that
cannot be read).
"""

from __future__ import annotations

import sys
from pathlib import Path

from buildtool.commands.common import add_catalog_argument, emit, scan_paths
from buildtool.diagnostics import Severity
from buildtool.errors import InputError, UnreadableInput
from buildtool.check.report import FORMATS, failing, render


def configure(parser) -> None:
    add_catalog_argument(parser)
    parser.add_argument("--binaries", metavar="DIR",
                        help="built modules (<module>.so, searched recursively): check their metadata and symbols")
    parser.add_argument("--xmldoc", metavar="FILE",
                        help="xmldoc document (buildtool xmldoc): check it against sources and binaries")
    parser.add_argument("--hand-written", action="store_true",
                        help="compare hand-written .requires/.optional_modules/.enhances with MODULEINFO")
    parser.add_argument("--disabled", action="append", default=[], metavar="MODULE[=REASON]",
                        help="a module that is not built on purpose (repeatable)")
    parser.add_argument("--disabled-file", action="append", default=[], metavar="FILE",
                        help="file of disabled modules: one 'MODULE [REASON...]' a line, # comments; the meson build "
                             "writes it as <builddir>/modules/disabled.txt, and it is then the whole list "
                             "(a <defaultenabled>no</defaultenabled> module not in it was built)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--installed", metavar="PREFIX",
                       help="check out-of-tree modules against the asterisk-modules installed in PREFIX (found "
                            "through its asterisk-modules.pc): its tree, catalogue, module binaries and core library")
    where.add_argument("--pkg-config", action="store_true",
                       help="like --installed, for the asterisk-modules pkg-config finds (PKG_CONFIG_PATH)")
    parser.add_argument("--missing-library", action="append", default=[], metavar="LIB",
                        help="a library absent on this build: modules requiring it are disabled (repeatable)")
    parser.add_argument("--core", action="append", default=[], metavar="FILE",
                        help="core binary or library whose dynamic symbols modules may use (repeatable)")
    parser.add_argument("--library-path", action="append", default=[], metavar="DIR",
                        help="where to look for the modules' DT_NEEDED libraries first (repeatable)")
    parser.add_argument("--sysroot", metavar="DIR", help="root of the target's system libraries (cross builds)")
    parser.add_argument("--no-symbols", action="store_true", help="with --binaries, skip the symbol checks")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--fail-on", choices=("error", "warning", "note"), default="error",
                        help="lowest severity that makes the exit code 1 (default: error)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report here (atomically), not stdout")
    parser.add_argument("--timings", action="store_true", help="print each stage's time to stderr")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="module directory or module source, or one Asterisk source root (its "
                             "menuselect.makeopts, when present, says which modules were not built)")


def _disabled(args) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in args.disabled:
        name, _, reason = item.partition("=")
        out[name.strip()] = reason.strip() or "disabled (--disabled)"
    for path in args.disabled_file:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(path, 0, 0, f"cannot read disabled list: {exc}") from None
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, reason = line.partition(" ")
                out[name] = reason.strip() or f"disabled ({path})"
    return out


def _against_installed(args):
    """The tree and catalogue of out-of-tree sources resolved against an installed tree."""
    from buildtool import catalog, installed as inst, treefile
    from buildtool.model import Tree
    from buildtool.scan import discover, scan

    found = inst.from_prefix(args.installed) if args.installed else inst.from_pkg_config()
    installed = treefile.read(found.tree)
    cat = catalog.load_all([found.catalog, *args.catalog])
    # The sources are the truth for themselves; the installed tree names the others.
    own = {source.name for source in discover(args.paths)[0]}
    installed = Tree({k: v for k, v in installed.modules.items() if k not in own}, ())
    return found, installed, scan(args.paths, cat, installed), cat


def run(args) -> int:
    from buildtool.check import Options, run as run_checks

    found = installed = None
    if args.installed or args.pkg_config:
        found, installed, tree, cat = _against_installed(args)
        root = None
    else:
        tree, cat, root = scan_paths(args.paths, args.catalog)
    asterisk_root = root is not None
    disabled = _disabled(args)
    injected = False
    if asterisk_root:
        from buildtool.asterisk import makeopts, setup

        disabled = {**makeopts.menuselect_disabled(args.paths[0]), **disabled}
        injected = setup.is_set_up(args.paths[0])
    options = Options(paths=args.paths, catalog=cat, binaries=args.binaries, tree=tree,
                      xmldoc=args.xmldoc, hand_written=args.hand_written, disabled=disabled,
                      disabled_is_complete=bool(args.disabled_file) or asterisk_root, injected=injected,
                      missing_libraries=args.missing_library, core=args.core, library_path=args.library_path,
                      sysroot=args.sysroot, symbols=not args.no_symbols, installed=installed,
                      installed_binaries=found.moduledir if found else None)
    if found and found.corelib and Path(found.corelib).is_file():
        options.core = [found.corelib, *options.core]
    for path, what in ((args.binaries, "--binaries"), (args.xmldoc, "--xmldoc")):
        if path and not Path(path).exists():
            raise InputError(path, 0, 0, f"{what}: no such file or directory")
    result = run_checks(options)
    fail_on = Severity(args.fail_on)
    emit(render(args.format, result.findings, result.modules, fail_on, result.categories), args.output)
    if not installed and not asterisk_root and any(d.code in ("unknown-name", "missing-module")
                                                   for d in result.findings):
        # The first thing an out-of-tree author meets: installed modules are unknown here.
        print("buildtool check: note: a module of an installed tree is unknown to a check of sources alone; "
              "check an out-of-tree module with --installed PREFIX or --pkg-config", file=sys.stderr)
    if args.timings:
        count = max(len(result.modules), 1)
        for stage, seconds in result.timings.items():
            print(f"{stage}: {seconds:.3f} s ({seconds / count * 1e6:.0f} us/module)", file=sys.stderr)
    UnreadableInput.stop_if_found(result.findings)
    return 1 if failing(result.findings, fail_on) else 0

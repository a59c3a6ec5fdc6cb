"""Arguments and set-up shared by the loader's commands (buildtool load, modules, graph), and the
runtime command language of ``load --then``/``--commands`` (``run_command``)."""

from __future__ import annotations

import random
import sys

from buildtool.commands.common import print_diagnostics
from buildtool.diagnostics import Severity
from buildtool.errors import CommandError, InputError
from buildtool.loader.config import ModulesConfig, read_config
from buildtool.loader.dl import DlError
from buildtool.loader.meta import _default_listing
from buildtool.loader.runtime import Loader


def add_loader_arguments(parser, preload: bool = True) -> None:
    parser.add_argument("--modules-dir", required=True, metavar="DIR", help="directory of built modules (*.so)")
    parser.add_argument("--config", metavar="FILE", help="modules.conf (default: autoload = yes, nothing else)")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not read or write the metadata and plan caches beside the modules")
    if preload:
        parser.add_argument("--preload-library", action="append", default=[], metavar="LIB",
                            help="dlopen LIB with RTLD_NOW | RTLD_GLOBAL before any module (the core whose "
                                 "ast_* functions modules call); repeatable")
    parser.add_argument("--xmldoc", metavar="FILE",
                        help="core-en_US.xml-style document (buildtool xmldoc): verify each module's embedded "
                             "source hash against it before loading")
    parser.add_argument("--xmldoc-mode", choices=("warn", "refuse"), default="warn",
                        help="on a hash mismatch or a module missing from the document: warn and load anyway, "
                             "or refuse to load the module (it counts as declined)")
    parser.add_argument("--tree", metavar="FILE",
                        help="the sources' tree (buildtool scan --format json; an Asterisk root's "
                             ".buildtool/tree.json): a provided name that no built module provides is "
                             "then traced to the module that was not built")
    parser.add_argument("--thirdparty-dir", metavar="DIR",
                        help="merge the third-party documents (*.xml) in DIR into --xmldoc, as at start-up")
    # For tests: shuffle the directory listing (the order must not depend on it).
    parser.add_argument("--listing-seed", type=int, default=None, help=argparse_suppress())


def argparse_suppress():
    import argparse
    return argparse.SUPPRESS


def make_loader(args, config_errors: list | None = None) -> Loader | None:
    """The loader context for ``args``; None when modules.conf has errors (printed, and appended to
    ``config_errors`` when given, for a report)."""
    config = ModulesConfig()
    if args.config:
        config, diags = read_config(args.config)
        if diags:
            print_diagnostics(diags)
            if config_errors is not None:
                config_errors.extend(diags)
            return None
    listing = None
    if args.listing_seed is not None:
        seed = args.listing_seed

        def listing(directory: str) -> list[str]:
            names = list(_default_listing(directory))
            random.Random(seed).shuffle(names)
            return names
    try:
        loader = Loader(args.modules_dir, config, listing=listing, use_cache=not args.no_cache)
    except FileNotFoundError:
        raise InputError(args.modules_dir, 0, 0, "modules directory not found") from None
    if getattr(args, "tree", None):
        from buildtool import treefile

        loader.source_tree = treefile.read(args.tree)
    if getattr(args, "xmldoc", None):
        _verify_xmldoc(loader, args)
    for lib in getattr(args, "preload_library", []):
        try:
            loader.preload_library(lib)
        except DlError as exc:
            raise InputError(lib, 0, 0, f"cannot preload library: {exc}") from None
    return loader


def _verify_xmldoc(loader: Loader, args) -> None:
    """Source hashes against the documentation, read from the records: no module code runs."""
    from buildtool import elfinfo, xmldoc

    document = xmldoc.load_document(args.xmldoc, args.thirdparty_dir)
    broken = [d for d in document.diagnostics if d.severity is Severity.ERROR]
    if broken:  # a document that cannot be read or parsed vouches for nothing: an input error (exit 2)
        print_diagnostics(broken[1:])
        first = broken[0]
        raise InputError(first.path, first.line, first.column, f"{first.message} [{first.code}]")
    print_diagnostics(document.diagnostics)
    records = []
    for name, path in sorted(loader.paths.items()):
        try:
            records.append(elfinfo.read_record(path))
        except elfinfo.RecordError:
            continue  # not a module: the loader itself reports it if it is ever needed
    findings = xmldoc.verify_hashes(document, records, args.xmldoc_mode)
    print_diagnostics(findings)
    for finding in findings:
        if finding.module in xmldoc.refused(findings):
            loader.refusals[finding.module] = f"refused by --xmldoc-mode=refuse: {finding.message}"


def warn(message: str) -> None:
    print(f"buildtool: warning: {message}", file=sys.stderr)


RUNTIME_USAGE = ("unknown command (expected: load NAME, unload [-r] NAME, reload NAME, "
                 "load-provider KIND:NAME, refresh [-r] NAME)")


def run_command(loader: Loader, line: str) -> dict:
    """One runtime command line (``load NAME``, ``unload [-r] NAME``, ``reload NAME``,
    ``load-provider KIND:NAME``, ``refresh [-r] NAME``) on a started loader: its result for the report."""
    loader.command_started(line)
    words = line.split()
    out: dict = {"command": line, "ok": True}
    try:
        if len(words) == 2 and words[0] == "load":
            out.update(loader.load(words[1]))
        elif words and words[0] == "unload":
            flags = {w for w in words[1:] if w.startswith("-")}
            rest = [w for w in words[1:] if not w.startswith("-")]
            if len(rest) != 1 or flags - {"-r", "--recursive"}:
                raise CommandError("usage: unload [-r|--recursive] NAME")
            out.update(loader.unload(rest[0], recursive=bool(flags)))
        elif len(words) == 2 and words[0] == "reload":
            out.update(loader.reload(words[1]))
        elif words and words[0] in ("load-provider", "refresh"):
            from buildtool.loader import ondemand  # load by provided name, refresh with rollback
            out.update(ondemand.COMMANDS[words[0]](loader, line.strip()[len(words[0]):].strip()))
        else:
            raise CommandError(RUNTIME_USAGE)
    except CommandError as exc:
        out.update(exc.to_json())
    return loader.command_finished(out)

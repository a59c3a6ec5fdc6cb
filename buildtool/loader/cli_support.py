"""Arguments and set-up shared by the loader's commands (buildtool load, modules, graph)."""

from __future__ import annotations

import random
import sys

from buildtool.commands.common import print_diagnostics
from buildtool.diagnostics import InputError
from buildtool.loader.config import ModulesConfig, read_config
from buildtool.loader.dl import DlError
from buildtool.loader.meta import _default_listing
from buildtool.loader.runtime import Loader


def add_loader_arguments(parser, preload: bool = True) -> None:
    parser.add_argument("--modules-dir", required=True, metavar="DIR", help="directory of built modules (*.so)")
    parser.add_argument("--config", metavar="FILE", help="modules.conf (default: autoload = yes, nothing else)")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not read or write the metadata cache beside the modules")
    if preload:
        parser.add_argument("--preload-library", action="append", default=[], metavar="LIB",
                            help="dlopen LIB with RTLD_NOW | RTLD_GLOBAL before any module (the core whose "
                                 "ast_* functions modules call); repeatable")
    # For tests: shuffle the directory listing (the order must not depend on it).
    parser.add_argument("--listing-seed", type=int, default=None, help=argparse_suppress())


def argparse_suppress():
    import argparse
    return argparse.SUPPRESS


def make_loader(args) -> Loader | None:
    """The loader context for ``args``; None (diagnostics printed) when modules.conf has errors."""
    config = ModulesConfig()
    if args.config:
        config, diags = read_config(args.config)
        if diags:
            print_diagnostics(diags)
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
    for lib in getattr(args, "preload_library", []):
        try:
            loader.preload_library(lib)
        except DlError as exc:
            raise InputError(lib, 0, 0, f"cannot preload library: {exc}") from None
    return loader


def warn(message: str) -> None:
    print(f"buildtool: warning: {message}", file=sys.stderr)

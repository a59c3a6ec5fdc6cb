from __future__ import annotations

import sys

# Nothing of the scanner at module level: a cached `scan ROOT` answers without importing it.


def configure(parser) -> None:
    from buildtool.commands.common import add_catalog_argument

    add_catalog_argument(parser)
    parser.add_argument("--format", choices=("text", "json", "xml"), default="text",
                        help="json: the tree (schema 3); xml: menuselect-tree XML (for an Asterisk root, the "
                             "file its 'make menuselect-tree' writes); text: a summary")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="Asterisk root only: where the scan cache lives (default: $XDG_CACHE_HOME/buildtool, "
                             "else ~/.cache/buildtool); an entry is reused only when every file, listing and "
                             "check it was computed from is unchanged")
    parser.add_argument("--no-cache", action="store_true", help="Asterisk root only: neither read nor write the "
                                                                "scan cache")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="module directory (every *.c/*.cc directly in it) or module source file; or one "
                             "Asterisk source root (it holds build_tools/menuselect-deps.in), read as its "
                             "Makefiles read it, with its own catalogues")


def run(args) -> int:
    from buildtool.asterisk import is_root

    roots = [p for p in args.paths if is_root(p)]
    if roots:
        if len(args.paths) > 1:
            print(f"buildtool scan: error: {roots[0]} is an Asterisk root: scan it alone "
                  "(it finds its module directories and catalogues itself)", file=sys.stderr)
            return 2
        return _run_root(roots[0], args)
    from buildtool import catalog
    from buildtool.scan import scan

    tree = scan(args.paths, catalog.load_all(args.catalog))
    _stop_if_unreadable(tree)
    _emit(_render(tree, args.format), args.output)
    _print_diagnostics(tree)
    return _status(tree)


def answer_unparsed(argv: list[str]) -> int | None:
    """``scan ROOT`` answered from the default cache directory before argparse is imported, when an
    entry was stored under exactly this command line (by a run that parsed it); None: parse and run.
    A command line naming ``--cache-dir`` or ``--no-cache`` never has an entry there."""
    from buildtool.asterisk import scancache

    cached = scancache.lookup(scancache.default_directory(), scancache.key(argv))
    return _show(cached) if cached is not None else None


def _run_root(root: str, args) -> int:
    """An Asterisk root: from the scan cache when every input is unchanged, else scanned (and stored)."""
    if args.no_cache:
        return _show(_scan_root(root, args))
    import time

    from buildtool.asterisk import scancache

    directory = args.cache_dir or scancache.default_directory()
    key = scancache.key(args.argv) if hasattr(args, "argv") else None  # None: not from cli.main, not cached
    cached = scancache.lookup(directory, key)
    if cached is not None:
        return _show(cached)
    started = time.time_ns()
    # The catalogues' facts before they are read: a write meanwhile makes the entry a miss.
    from buildtool.asterisk.inputs import observe

    facts = {("file", path): observe(("file", path)) for path in args.catalog}
    result = _scan_root(root, args, facts)
    scancache.store(directory, key, facts, started, result)
    return _show(result)


def _scan_root(root: str, args, facts: dict | None = None):
    from buildtool import catalog
    from buildtool.asterisk.scancache import Result
    from buildtool.scan import scan_root

    extra = catalog.load_all(args.catalog) if args.catalog else None
    tree, found = scan_root(root, extra)
    if facts is not None:
        facts.update(found.files.facts)
    _stop_if_unreadable(tree)
    output = found.tree_bytes() if args.format == "xml" else _render(tree, args.format)
    errors = "".join(d.render() + "\n" for d in tree.diagnostics)
    return Result(output, args.output, errors, _status(tree))


def _show(result) -> int:
    _emit(result.output, result.destination)
    sys.stderr.write(result.errors)
    return result.status


def _render(tree, output_format: str) -> str:
    from buildtool import treefile

    return {"json": treefile.to_json, "xml": treefile.to_menuselect_xml, "text": treefile.to_text}[output_format](tree)


def _stop_if_unreadable(tree) -> None:
    """A path that cannot be read (a typo?): the tree would be missing modules, so it replaces
    nothing and is not cached (``UnreadableInput``, exit 2). Findings in the sources (exit 1) still
    write the tree."""
    from buildtool.errors import UnreadableInput

    UnreadableInput.stop_if_found(tree.diagnostics, shown=tree.diagnostics)


def _print_diagnostics(tree) -> None:
    from buildtool.commands.common import print_diagnostics

    print_diagnostics(tree.diagnostics)


def _status(tree) -> int:
    from buildtool.diagnostics import has_errors

    return 1 if has_errors(tree.diagnostics) else 0


def _emit(output: str | bytes, path: str | None) -> None:
    """The output: text, or the menuselect-tree as bytes (Asterisk's files are not all UTF-8, and make
    copies them verbatim)."""
    if isinstance(output, str):
        from buildtool.commands.common import emit

        emit(output, path)
    elif path and path != "-":
        from buildtool.fsutil import write_if_changed

        write_if_changed(path, output)
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.flush()

"""The command line: parse arguments, hand them to one command module, map errors to exit codes.

Each command lives in ``buildtool.commands.<name>`` with ``configure(parser)``
and ``run(args) -> int``; its one-line help is in ``COMMANDS`` below, so
``buildtool --help`` lists every command while importing only the one chosen
(the build-time commands start fast).

Exit codes everywhere: 0 success, 1 findings or a failed start-up, 2 usage,
input or I/O error; 141 (128 + SIGPIPE), quietly, when the reader of the output
goes away (``| head``), as for any Unix filter.
"""

from __future__ import annotations

import os
import sys

from buildtool import __version__

# Nothing else at module level: `buildtool --version` must answer in a few
# milliseconds, and each command imports only what it uses (argparse, the
# command module and its imports) once it is known which command runs.

COMMANDS = {
    "scan": "read MODULEINFO blocks and write the normalized dependency tree",
    "generate": "write every module's generated header (the build runs this)",
    "meson-plan": "configure-time plan for meson: modules, libraries, disabled chains",
    "cflags": "write one module's generated header and print the flags that inject it",
    "inspect": "print the metadata embedded in built modules, without loading them",
    "load": "load built modules as a dependency graph under modules.conf",
    "modules": "show built modules like Asterisk's 'module show'",
    "graph": "write the dependency graph as DOT (SVG/PNG with Graphviz)",
    "check": "release checks: sources, graph, binaries, symbols, hand-written lists, xmldoc",
    "migrate": "move hand-written dependency lists into MODULEINFO",
    "xmldoc": "write the core-en_US.xml-style module documentation",
    "asterisk-setup": "make a configured Asterisk tree's own make inject MODULEINFO into every module",
}


def _parser_class():
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # argparse exits 2 already; keep its format
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}: error: {message}\n")

    return _Parser


def build_parser(only: str | None = None):
    """The argument parser; only the sub-command ``only`` gets its arguments (every one when None).

    ``buildtool --help`` (``only`` not a command) lists the commands from
    ``COMMANDS`` without importing any of them.
    """
    _Parser = _parser_class()
    parser = _Parser(prog="buildtool", description="MODULEINFO as the single source of module dependency data.")
    parser.add_argument("--version", action="version", version=f"buildtool {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, help_text in COMMANDS.items():
        if only in COMMANDS and name != only:
            continue  # each sub-parser costs a full ArgumentParser; a chosen command needs only its own
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            _module(name).configure(command_parser)
    return parser


def _module(name: str):
    import importlib

    return importlib.import_module(f"buildtool.commands.{name.replace('-', '_')}")


def _buildtool_error() -> type[Exception]:
    from buildtool.errors import BuildtoolError

    return BuildtoolError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--version"]:  # the common probe, answered before argparse is even imported
        print(f"buildtool {__version__}")
        return 0
    chosen = next((a for a in argv if not a.startswith("-")), None)
    try:
        # A command may answer its exact command line from a record of an earlier run that parsed it
        # (`scan ROOT` from its cache), before argparse is imported.
        early = None
        if chosen in COMMANDS and argv[0] == chosen:
            early = getattr(_module(chosen), "answer_unparsed", None)
        code = early(argv) if early is not None else None
        if code is None:
            # No command (e.g. --help): configure none, the listing needs only COMMANDS.
            args = build_parser(chosen if chosen in COMMANDS else "").parse_args(argv)
            args.argv = list(argv)  # the command line as given (the scan cache keys on it)
            code = _module(args.command).run(args)
        sys.stdout.flush()  # here, so that a reader gone away is seen below, not at interpreter exit
        return code
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, as cat or grep do when
        # SIGPIPE ends them, with the same status. Further writes go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        import signal  # only here: every command starts without it

        return 128 + signal.SIGPIPE
    except _buildtool_error() as exc:  # each says how it is printed and the exit status it carries
        text = exc.render()
        if text:
            print(text, file=sys.stderr)
        return exc.exit_status
    except OSError as exc:
        where = exc.filename or "buildtool"
        print(f"{where}: error: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

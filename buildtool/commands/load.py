"""``buildtool load``: load built modules as a dependency graph under modules.conf, and report.

Exit codes: 0 start-up succeeded (and every runtime command succeeded), 1
start-up stopped (FAILURE, a required module not loaded, or a module's code
ended the process: see buildtool/loader/supervise.py), a runtime command was
refused, or modules were refused for symbols of a core library that was not
given with --preload-library, 2 configuration or usage error (modules.conf syntax, a
path instead of a module name, an implied-rule contradiction, a cycle of
required dependencies, conflicting modules).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from buildtool.loader.cli_support import add_loader_arguments, make_loader, run_command, warn
from buildtool.commands.common import emit, print_diagnostics
from buildtool.errors import InputError
from buildtool.loader.report import build_report, render_text



def configure(parser) -> None:
    add_loader_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--dry-run", action="store_true",
                        help="plan only, from metadata: no module is opened, no module code runs")
    parser.add_argument("--then", action="append", default=[], metavar="COMMAND",
                        help="after start-up, run a runtime command: 'load NAME', 'unload [-r] NAME', "
                             "'reload NAME', 'load-provider KIND:NAME' (application:Gosub), "
                             "'refresh [-r] NAME' (repeatable, in order)")
    parser.add_argument("--explain", action="append", default=[], metavar="KIND:NAME",
                        help="say which module provides KIND:NAME (application:Gosub, function:LEN, "
                             "interface:NAME) and what it needs, in the report's 'provided' (repeatable; "
                             "works with --dry-run)")
    parser.add_argument("--commands", metavar="FILE",
                        help="file of runtime commands, one per line ('#' comments), run after --then ones")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of stdout")
    # For the benchmark: load in this process, without the supervising parent that reports a module
    # which kills the process (buildtool/loader/supervise.py).
    parser.add_argument("--no-supervise", action="store_true", help=argparse.SUPPRESS)


def _command_lines(args) -> list[str]:
    lines = list(args.then)
    if args.commands:
        with open(args.commands, encoding="utf-8") as handle:
            for raw in handle:
                line = raw.split("#", 1)[0].strip()
                if line:
                    lines.append(line)
    return lines


def _core_not_preloaded(loader) -> list[str]:
    """Modules refused for symbols a core library defines that was not preloaded (hints.py says so)."""
    return sorted(name for name, st in loader.states.items()
                  if st.reason and "--preload-library" in st.reason and st.chain == [name])


def run(args) -> int:
    commands = _command_lines(args)
    if args.dry_run and commands:
        raise InputError("buildtool load", 0, 0, "--dry-run runs no module code, so it takes no runtime commands")
    config_errors: list = []
    loader = make_loader(args, config_errors)
    if loader is None:
        if args.format == "json":
            # The same shape as any report (buildtool/schemas/load.schema.json): nothing was loaded.
            emit(json.dumps({"dry_run": args.dry_run, "modules_dir": os.path.abspath(args.modules_dir),
                             "config": args.config, "autoload": True,
                             "errors": [d.to_json() for d in config_errors], "notes": [], "order": [],
                             "declined": {}, "skipped": {}, "failed": {}, "use_counts": {}, "explicit": [],
                             "preload": [], "why": {}, "commands": [], "provided": []}, indent=2) + "\n",
                             args.output)
        return 2
    if os.environ.get("LD_BIND_NOW"):
        warn("LD_BIND_NOW is set: every dlopen binds eagerly, so a module calling a missing function fails "
             "to open instead of being refused by the symbol check")
    if args.dry_run or args.no_supervise:
        return _start_and_report(loader, args, commands)
    # Module code may kill the process: load in a supervised child (buildtool/loader/supervise.py).
    from buildtool.loader.supervise import supervise

    loader.load_plan()  # here, in the parent: no module code runs to plan, and a dead child cannot lose it
    code, report, message = supervise(loader, lambda child_loader: _start_and_report(child_loader, args, commands))
    if message:
        print(f"buildtool load: {message}", file=sys.stderr)
    if report is not None:
        _emit_report(report, args)
    return code


def _emit_report(report: dict, args) -> None:
    if args.format == "json":
        emit(json.dumps(report, indent=2) + "\n", args.output)
    else:
        emit(render_text(report), args.output)


def _start_and_report(loader, args, commands: list[str]) -> int:
    if args.dry_run:
        plan = loader.load_plan()
        ok, startup_ok = plan.ok, True
    else:
        startup_ok = loader.start()
        ok = loader.plan.ok
    results = []
    if ok and startup_ok:
        results = [run_command(loader, line) for line in commands]
    _emit_report(build_report(loader, dry_run=args.dry_run, commands=results, explain=args.explain), args)
    if not loader.plan.ok:
        if args.format == "json":
            print_diagnostics(loader.plan.errors)
        return 2
    forgotten = _core_not_preloaded(loader) if not args.dry_run else []
    if forgotten:
        # Not a quiet exit 0 with every module declined: the core library was forgotten.
        print(f"buildtool load: error: {len(forgotten)} module(s) refused because the core library is not "
              f"loaded ({', '.join(forgotten[:3])}{', ...' if len(forgotten) > 3 else ''}); their reasons name "
              "the library to pass with --preload-library", file=sys.stderr)
        return 1
    if not startup_ok:
        for problem in loader.errors:
            print(f"buildtool load: {problem.message}", file=sys.stderr)
        return 1
    return 0 if all(r["ok"] for r in results) else 1

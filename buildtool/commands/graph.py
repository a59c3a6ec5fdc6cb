"""``buildtool graph``: the module dependency graph as DOT (SVG/PNG through Graphviz's ``dot``).

Edges point from a dependency to its dependant (the load order): solid =
requires, dashed = optional module, dotted = enhances, blue = interface use
(dashed when optional). Nodes: white = will load, grey dashed = disabled
(noload, implied noload, autoload off), orange = will decline (missing
dependency or provider), red = in a cycle of required dependencies, grey
dotted = not a readable module. Graph is planned from metadata only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from buildtool.loader.cli_support import add_loader_arguments, make_loader
from buildtool.commands.common import emit, print_diagnostics
from buildtool.errors import InputError
from buildtool.fsutil import write_if_changed
from buildtool.loader.plan import Decision, Outcome



def configure(parser) -> None:
    add_loader_arguments(parser, preload=False)
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--format", choices=("dot", "svg", "png"), default="dot")


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(loader) -> str:
    plan = loader.load_plan()
    in_cycle = {n for cycle in plan.cycles for n in cycle}
    lines = ["digraph modules {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", style=filled, '
             'fillcolor=white];']
    names = sorted(set(loader.paths) | set(plan.decisions))
    for name in names:
        decision = plan.decisions.get(name, Decision())
        why = decision.why if decision.outcome is not None else decision.invalid
        if name in in_cycle:
            attrs = 'fillcolor="#f4a6a6", color=red'
        elif decision.invalid:
            attrs = 'fillcolor="#eeeeee", style="filled,dotted"'
        elif decision.outcome is Outcome.WILL_DECLINE:
            attrs = 'fillcolor="#ffd39b"'
        elif name in plan.selected:
            attrs = 'fillcolor="#ffffff"' + (", penwidth=2" if name in plan.preload else "")
        else:
            attrs = 'fillcolor="#dddddd", style="filled,dashed", fontcolor="#666666"'
        lines.append(f"  {_q(name)} [{attrs}, tooltip={_q(why)}];")
    providers: dict[str, list[str]] = {}
    for name, meta in sorted(plan.metas.items()):
        for iface in meta.provides:
            providers.setdefault(iface, []).append(name)
    enhancers: dict[str, list[str]] = {}
    for name, meta in sorted(plan.metas.items()):
        for target in meta.enhances:
            enhancers.setdefault(target, []).append(name)
    for name, meta in sorted(plan.metas.items()):
        for dep in meta.requires:
            lines.append(f"  {_q(dep)} -> {_q(name)};")
            for enh in enhancers.get(dep, ()):
                if enh != name:
                    lines.append(f"  {_q(enh)} -> {_q(name)} [style=dotted, label=enhances];")
        for dep in meta.optional_modules:
            lines.append(f"  {_q(dep)} -> {_q(name)} [style=dashed];")
        for iface, style in [(i, "solid") for i in meta.interfaces_required] + [(i, "dashed") for i in meta.interfaces_optional]:
            for prov in providers.get(iface, ()):
                if prov != name:
                    lines.append(f"  {_q(prov)} -> {_q(name)} [color=blue, style={style}, label={_q(iface)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    loader = make_loader(args)
    if loader is None:
        return 2
    dot_text = to_dot(loader)
    if args.format == "dot":
        emit(dot_text, args.output)
    else:
        dot = shutil.which("dot")
        if dot is None:
            raise InputError("buildtool graph", 0, 0, f"--format {args.format} needs Graphviz's 'dot', which is not "
                             "installed (apt-get install graphviz); --format dot writes the DOT text")
        done = subprocess.run([dot, f"-T{args.format}"], input=dot_text.encode(), capture_output=True)
        if done.returncode != 0:
            raise InputError("buildtool graph", 0, 0, f"dot failed: {done.stderr.decode(errors='replace')}")
        if args.output and args.output != "-":
            write_if_changed(args.output, done.stdout)
        else:
            sys.stdout.buffer.write(done.stdout)
    print_diagnostics(loader.plan.errors)
    return 0 if loader.plan.ok else 1

"""An Asterisk source root, read the way its own ``make menuselect-tree`` reads it.

A root is a directory holding ``build_tools/menuselect-deps.in``. From it:

1. The top ``Makefile``: ``MOD_SUBDIRS`` and the ``menuselect-tree:`` recipe,
   line by line. Understood line shapes: ``echo ... > $@`` / ``>> $@`` (an
   ``echo`` without redirection only talks to the terminal), ``cat FILE >> $@``,
   the per-directory loops ``for dir in LIST; do $(SILENTMAKE) -C $${dir}
   SUBDIR=$${dir} moduleinfo|makeopts >> $@; done``, and ``if [ "${VAR}" =
   "VALUE" ]; then STEP; fi`` with ``VAR`` from configure's ``makeopts`` (absent
   before configure: empty). Any other shape is refused, naming the line.
2. Each module directory's ``Makefile`` (``makefile.read``). A directory whose
   Makefile does not include ``Makefile.moddir_rules`` (``third-party``) has no
   ``moduleinfo`` rules and contributes nothing, as in make.
3. Each module directory as its ``make moduleinfo`` / ``make makeopts`` runs
   (``moddir``): members, their display names, the files make reads for them.

The catalogue: libraries from ``build_tools/menuselect-deps.in``; build options
from every ``<member>`` of the menu files the recipe appends and of the MAKEOPTS
blocks; core built-ins from ``main/*.c`` (``builtins``); the platform ``win32``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from buildtool.asterisk import MARKER, awk, is_root, makefile, recipe  # noqa: F401 (is_root: re-exported)
from buildtool.asterisk.inputs import Files
from buildtool.asterisk.moddir import MEMBER_NAME, Directory, Member, read_moddir_rules
from buildtool.catalog import Catalog, load_menuselect_deps
from buildtool.errors import InputError

# Platform names MODULEINFO uses in <conflict> (res_musiconhold: win32). menuselect
# keeps no list of them; a conflict with a name nothing provides never fires.
PLATFORMS = ("win32",)

_MOD_SUBDIRS = re.compile(r"^MOD_SUBDIRS\s*(\+|:)?=(.*)$")
_FOR_DIRS = re.compile(
    r"^for (\w+) in (.+?); do \$[({](?:SILENTMAKE|SUBMAKE|MAKE)[)}]((?:\s+--?[\w-]+)*)\s+-C\s+\$\$\{\1\}"
    r"\s+SUBDIR=\$\$\{\1\}\s+(moduleinfo|makeopts)\s*>>\s*\$@\s*;\s*done\s*;?$")
_IF = re.compile(r'^if \[ "([^"$`\\]*)" = "([^"$`\\]*)" \]; then (.+?);? fi;?$')
_SIMPLE_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*[:?]?=\s?(.*)$")
_CORE_INFO = re.compile(r"^[ \t]*AST_MODULE_INFO\w*[ \t]*\(", re.M)
_CORE_NAME = re.compile(r"^[ \t]*#[ \t]*define[ \t]+AST_MODULE[ \t]+\"([^\"]+)\"", re.M)


@dataclass
class Root:
    path: str
    tree_text: str = ""                       # the menuselect-tree, Latin-1 decoded
    members: list[Member] = field(default_factory=list)
    catalog: Catalog = field(default_factory=Catalog)
    mod_subdirs: list[str] = field(default_factory=list)
    files: Files = field(default_factory=Files)  # everything read, and every fact observed (inputs.py)

    def tree_bytes(self) -> bytes:
        return self.tree_text.encode("latin-1")

    def compiled_sources(self) -> dict[str, str]:
        """Module -> the C/C++ source its own object is compiled from (a Makefile-rule member's
        data lives in the Makefile, its code in NAME.c); XML members compile nothing."""
        return {m.name: m.sources[0] for m in self.members
                if m.sources and m.sources[0].endswith((".c", ".cc"))}


def builtins(root: str, files: Files | None = None) -> set[str]:
    """Core built-in module names: each ``main/*.c`` that declares ``AST_MODULE_INFO`` at the
    start of a line. Its name is ``AST_MODULE`` as the file defines it, else the file's stem
    (``main/Makefile`` compiles ``MOD_SRC`` files with ``-DAST_MODULE=\\"$*\\"``)."""
    files = files or Files()
    main = os.path.join(root, "main")
    found: set[str] = set()
    try:
        names = [n for n in files.listdir(main) if n.endswith(".c")]
    except OSError:
        return found
    for name in names:
        data = files.data(os.path.join(main, name))
        if b"AST_MODULE_INFO" not in data:
            continue
        text = data.decode("latin-1")
        if not _CORE_INFO.search(text):
            continue
        defined = _CORE_NAME.search(text)
        found.add(defined.group(1) if defined else name[:-2])
    return found


def _variables_file(path: str, files: Files) -> dict[str, makefile.Var]:
    """``NAME=value`` lines of a generated file (configure's ``makeopts``); missing: none."""
    out: dict[str, makefile.Var] = {}
    try:
        text = files.optional_text(path)
    except InputError:
        text = None
    if text is None:
        return out
    for line in text.splitlines():
        match = _SIMPLE_ASSIGN.match(line)
        if match:
            out[match.group(1)] = makefile.Var(match.group(2).strip(), True)
    return out


@dataclass
class _Step:
    kind: str          # "text", "cat", "dirs"
    line: int
    value: str = ""    # text to append / file to cat / "moduleinfo" or "makeopts"
    dirs: tuple[str, ...] = ()
    condition: bool = True


def _top_recipe(root: str, files: Files) -> tuple[list[str], list[_Step]]:
    """MOD_SUBDIRS and the steps of the top Makefile's ``menuselect-tree:`` recipe."""
    path = os.path.join(root, "Makefile")
    text = files.text(path).replace("\r\n", "\n")
    top = makefile.Makefile(path=path, directory=root, files=files)
    top.variables.update(_variables_file(os.path.join(root, "makeopts"), files))
    expander = makefile.Expander(top, {"@": "menuselect-tree"})
    mod_subdirs: list[str] | None = None
    rule_line = None
    recipe_lines: list[tuple[int, str]] = []
    # make conditionals inside the recipe (at column 0) choose its lines: [active, taken, enclosing]
    stack: list[list[bool]] = []
    active = True
    for number, parts in makefile.logical_lines(text):
        first = parts[0]
        if rule_line is not None:
            if first.startswith("\t"):
                if active:
                    recipe_lines.append((number, makefile.join_recipe(parts)[1:]))
                continue
            stripped = first.strip()
            if stripped == "" or stripped.startswith("#"):
                continue
            active = _recipe_conditional(expander, stripped, stack, active, path, number)
            if active is None:
                break  # the recipe ends at the next line that is neither a recipe line nor a conditional
            continue
        match = _MOD_SUBDIRS.match(makefile.join_normal(parts))
        if match:
            words = expander.expand(match.group(2), path, number).split()
            mod_subdirs = (mod_subdirs or []) + words if match.group(1) == "+" else words
        elif first.startswith("menuselect-tree:"):
            rule_line = number
    if mod_subdirs is None:
        raise InputError(path, 1, 1, "no MOD_SUBDIRS assignment: not a Makefile of an Asterisk root")
    if rule_line is None:
        raise InputError(path, 1, 1, "no 'menuselect-tree:' rule: not a Makefile of an Asterisk root")
    if stack:
        raise InputError(path, rule_line, 1, "a conditional in the menuselect-tree recipe is not closed")
    top.variables["MOD_SUBDIRS"] = makefile.Var(" ".join(mod_subdirs), False)
    steps = [_step(expander, line, raw, path) for line, raw in recipe_lines]
    return mod_subdirs, [s for s in steps if s is not None]


def _recipe_conditional(expander: makefile.Expander, line: str, stack: list[list[bool]], active: bool,
                        path: str, number: int) -> bool | None:
    """Apply a make conditional met inside the recipe; the new activity, or None when ``line`` is not one."""
    conditional = makefile.CONDITIONAL.match(line)
    keyword = line.split(None, 1)[0]
    if conditional:
        value = active and makefile.conditional_value(expander, conditional.group(1), conditional.group(2),
                                                      path, number)
        stack.append([value, value, active])
        return value
    if keyword == "else" and stack:
        frame = stack[-1]
        rest = line[4:].strip()
        if frame[1] or not frame[2]:
            frame[0] = False
        elif rest:
            nested = makefile.CONDITIONAL.match(rest)
            if not nested:
                raise InputError(path, number, 1, f"malformed else: {line[:40]!r}")
            frame[0] = makefile.conditional_value(expander, nested.group(1), nested.group(2), path, number)
        else:
            frame[0] = True
        frame[1] = frame[1] or frame[0]
        return frame[0]
    if keyword == "endif" and stack:
        return stack.pop()[2]
    return None


def _step(expander: makefile.Expander, line: int, raw: str, path: str, condition: bool = True) -> _Step | None:
    body = recipe.strip_prefixes(raw)
    loop = _FOR_DIRS.match(body)
    if loop:
        dirs = expander.expand(loop.group(2), path, line).split()
        return _Step("dirs", line, loop.group(4), tuple(dirs), condition)
    expanded = expander.expand(body, path, line).strip()
    conditional = _IF.match(expanded)
    if conditional:
        inner = _step(expander, line, conditional.group(3), path, conditional.group(1) == conditional.group(2))
        if inner is None:
            raise InputError(path, line, 1, f"menuselect-tree recipe: nothing understood inside: {raw.strip()[:80]!r}")
        return inner
    try:
        command = recipe.parse(expanded, path, line)
    except InputError as exc:
        raise InputError(path, line, 1, f"menuselect-tree recipe line not understood: {raw.strip()[:80]!r} "
                                        f"({exc.message})") from None
    if command.redirect is not None and command.target != "menuselect-tree":
        raise InputError(path, line, 1, f"menuselect-tree recipe writes another file: {raw.strip()[:80]!r}")
    if command.program == "echo":
        if command.redirect is None:
            return None  # a progress message on the terminal
        if command.redirect == ">":
            return _Step("reset", line, recipe.echo_output(command, path, line), condition=condition)
        return _Step("text", line, recipe.echo_output(command, path, line), condition=condition)
    if command.program == "cat" and command.redirect == ">>" and len(command.args) == 1:
        return _Step("cat", line, command.args[0], condition=condition)
    raise InputError(path, line, 1, f"menuselect-tree recipe line not understood: {raw.strip()[:80]!r}")


def read(root: str) -> Root:
    """Read everything ``make menuselect-tree`` reads under ``root``; refuse what it cannot follow."""
    files = Files()
    mod_subdirs, steps = _top_recipe(root, files)
    patterns = read_moddir_rules(root, files)
    scripts: dict[str, awk.Program] = {}  # by path, shared by every directory
    directories: dict[str, Directory] = {}
    texts: dict[tuple[str, str], str] = {}
    result = Root(path=root, mod_subdirs=mod_subdirs, files=files)
    options: set[str] = set()
    out: list[str] = []
    for step in steps:
        if step.kind == "dirs":
            for name in step.dirs:
                if name not in directories:
                    if not files.isfile(os.path.join(root, name, "Makefile")):
                        raise InputError(os.path.join(root, "Makefile"), step.line, 1,
                                         f"module directory '{name}' has no Makefile")
                    directory = Directory(root, name, files, patterns, scripts)
                    moduleinfo, makeopts_text = directory.read()
                    texts[(name, "moduleinfo")] = moduleinfo
                    texts[(name, "makeopts")] = makeopts_text
                    directories[name] = directory
                    options |= directory.makeopts_members | directory.option_members
                if step.condition:
                    out.append(texts[(name, step.value)])
            continue
        if step.kind == "cat":
            text = files.text(os.path.join(root, step.value))
            options |= set(MEMBER_NAME.findall(text))
            if step.condition:
                out.append(text)
            continue
        if step.condition:
            if step.kind == "reset":
                out = []
            out.append(step.value)
    result.tree_text = "".join(out)
    for directory in directories.values():
        result.members.extend(directory.members)
    catalog = load_menuselect_deps(os.path.join(root, MARKER), files.text(os.path.join(root, MARKER)))
    catalog.options |= options
    catalog.builtins |= builtins(root, files)
    catalog.platforms |= set(PLATFORMS)
    result.catalog = catalog
    return result

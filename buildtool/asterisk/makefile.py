"""A small reader of GNU make syntax: what Asterisk's module-directory Makefiles need.

It runs no shell and no rule. It reads logical lines (backslash continuations
joined as make joins them), keeps make's two variable flavours (``:=`` expanded
once, ``=`` expanded at each use), follows conditionals (``ifeq``/``ifneq``/
``ifdef``/``ifndef``/``else``/``endif``) and includes of files in the same
directory, evaluates ``$(call MOD_ADD_C,...)`` statements, and records explicit
rules (their prerequisites and recipe lines with their line numbers).

Expansion implements make's text functions (``wildcard``, ``addprefix``,
``patsubst``, ``sort``, ``foreach``, ``call`` ...). ``$(wildcard)`` sorts its
matches, as GNU make 4.3 and later do. A function it does not know, or a
``$(shell)`` other than the ones a recipe evaluator accepts, is a refusal naming
the Makefile line, never a silently wrong value.

What is not followed, on purpose: includes of files outside the directory
(``$(ASTTOPDIR)/makeopts``, ``menuselect.makeopts``, ``Makefile.rules``): they
hold configure's and menuselect's choices and compile rules, which decide what is
*built*, not what the menu *offers*. Their variables read as empty, as on a tree
where menuselect has not run yet. ``Makefile.moddir_rules`` is recognised by name:
including it is what makes a directory a module directory (see ``root``).
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field

from buildtool.asterisk.inputs import Files
from buildtool.errors import InputError

MODDIR_RULES = "Makefile.moddir_rules"

# The name is the shortest run before an operator: "X+=y" appends to X (make reads it so), not sets "X+".
_ASSIGN = re.compile(r"^(?:(?:override|export)\s+)*([^\s:#=$()]+?)\s*(::?=|:::=|\+=|\?=|!=|=)(.*)$", re.S)
CONDITIONAL = re.compile(r"^(ifeq|ifneq|ifdef|ifndef)\b\s*(.*)$", re.S)
_INCLUDE = re.compile(r"^(-include|sinclude|include)\s+(.*)$", re.S)
_FUNCTION = re.compile(r"^([a-z][a-z-]*)[ \t]+", re.S)


@dataclass
class Var:
    value: str
    recursive: bool  # "=": expanded at each use; ":=": already expanded
    # A ":=" whose value could not be computed (a $(shell) in a flag we never
    # need): refused only if something we need reads it.
    error: InputError | None = None


def _immediate(value: str) -> Var:
    """A ``:=`` variable's value: already expanded, read as it is."""
    return Var(value, False)


@dataclass
class Rule:
    targets: list[str]
    prereqs: list[str]
    recipe: list[tuple[int, str]]  # (Makefile line, recipe text without its leading tab)
    path: str
    line: int


@dataclass
class ModAdd:
    """One ``$(call MOD_ADD_C,name,sources)``: a module built from several files."""

    name: str
    sources: list[str]  # as written (expanded), relative to the directory
    kind: str           # "MOD_ADD_C" or "MOD_ADD_CC"
    path: str
    line: int


@dataclass
class Makefile:
    path: str
    directory: str
    variables: dict[str, Var] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    mod_adds: list[ModAdd] = field(default_factory=list)
    moddir_rules: bool = False  # includes Makefile.moddir_rules
    # Recursive variables being expanded and the $(call) depth: a variable that references
    # itself, or a function that never stops calling itself, is a refusal (make says the same).
    expanding: set[str] = field(default_factory=set)
    calls: int = 0
    files: Files = field(default_factory=Files)  # what is read and listed, recorded (inputs.py)

    def value(self, name: str) -> str:
        """A variable's value at the end of the file, as a recipe would see it."""
        return Expander(self).expand(f"$({name})", self.path, 0)


# --------------------------------------------------------------------------- expansion


_PARENS = {"(": re.compile(r"[()]"), "{": re.compile(r"[{}]")}


def _find_close(text: str, start: int, opening: str) -> int | None:
    """Index of the parenthesis closing the reference opened at ``start`` (just after ``$(``), or None."""
    depth = 1
    for found in _PARENS[opening].finditer(text, start):
        if found.group() == opening:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return found.start()
    return None


_LITERAL, _REFERENCE, _ONE_CHARACTER, _UNTERMINATED = range(4)
# Each text's split into literal text and references, by text: a recipe line of Makefile.moddir_rules is
# expanded once per member of every directory, the same words each time.
_SEGMENTS: dict[str, tuple[tuple[int, str], ...]] = {}


def _segments(text: str) -> tuple[tuple[int, str], ...]:
    found = _SEGMENTS.get(text)
    if found is None:
        found = _SEGMENTS[text] = tuple(_split_references(text))
    return found


def _split_references(text: str):
    """``(kind, value)`` pieces of ``text``: literal text, ``$(...)``/``${...}`` bodies, ``$X`` names, and an
    unterminated reference (the expansion refuses it when it gets there, after the references before it)."""
    i = 0
    n = len(text)
    while i < n:
        dollar = text.find("$", i)
        if dollar < 0:
            yield _LITERAL, text[i:]
            return
        if dollar > i:
            yield _LITERAL, text[i:dollar]
        if dollar + 1 >= n:
            return  # a lone "$" at the end expands to nothing
        char = text[dollar + 1]
        if char == "$":
            yield _LITERAL, "$"
            i = dollar + 2
        elif char in "({":
            close = _find_close(text, dollar + 2, char)
            if close is None:
                yield _UNTERMINATED, text[dollar:dollar + 40]
                return
            yield _REFERENCE, text[dollar + 2:close]
            i = close + 1
        else:
            yield _ONE_CHARACTER, char
            i = dollar + 2


def split_args(text: str, count: int | None = None) -> list[str]:
    """Split a function's argument text at top-level commas, into at most ``count`` parts (None: no limit)."""
    args: list[str] = []
    depth = 0
    current = 0
    for i, char in enumerate(text):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == "," and depth == 0 and (count is None or len(args) < count - 1):
            args.append(text[current:i])
            current = i + 1
    args.append(text[current:])
    return args


def _pattern_replace(pattern: str, replacement: str, word: str) -> str | None:
    if "%" not in pattern:
        return replacement if word == pattern else None
    head, tail = pattern.split("%", 1)
    if len(word) >= len(head) + len(tail) and word.startswith(head) and word.endswith(tail):
        stem = word[len(head):len(word) - len(tail)]
        return replacement.replace("%", stem, 1) if "%" in replacement else replacement
    return None


def patsubst(pattern: str, replacement: str, words: str) -> str:
    out = []
    for word in words.split():
        replaced = _pattern_replace(pattern, replacement, word)
        out.append(word if replaced is None else replaced)
    return " ".join(out)


def _unique_sorted(words: list[str]) -> list[str]:
    return sorted(set(words))


class Expander:
    """make's expansion of ``$(...)`` references, in the context of one Makefile.

    ``automatic`` holds ``$@``, ``$<``, ``$^``, ``$*`` and call arguments;
    ``shell`` is asked for ``$(shell ...)`` (None: refused).
    """

    def __init__(self, makefile: Makefile, automatic: dict[str, str] | None = None, shell=None,
                 on_call=None):
        self.makefile = makefile
        self.automatic = automatic or {}
        self.shell = shell
        self.on_call = on_call

    def _fail(self, path: str, line: int, message: str) -> InputError:
        return InputError(path, line, 1, message)

    def expand(self, text: str, path: str, line: int) -> str:
        if "$" not in text:
            return text
        out: list[str] = []
        for kind, value in _segments(text):
            if kind == _LITERAL:
                out.append(value)
            elif kind == _REFERENCE:
                out.append(self._reference(value, path, line))
            elif kind == _ONE_CHARACTER:
                out.append(self._variable(value, path, line))
            else:
                raise self._fail(path, line, f"unterminated variable reference: {value!r}")
        return "".join(out)

    def _variable(self, name: str, path: str, line: int) -> str:
        if name in self.automatic:
            return self.automatic[name]
        var = self.makefile.variables.get(name)
        if var is None:
            return self.makefile.files.environ(name) if name in _FROM_ENVIRONMENT else ""
        if var.error is not None:
            raise var.error
        if not var.recursive:
            return var.value
        if name in self.makefile.expanding:
            raise self._fail(path, line, f"recursive variable '{name}' references itself (eventually)")
        self.makefile.expanding.add(name)
        try:
            return self.expand(var.value, path, line)
        finally:
            self.makefile.expanding.discard(name)

    def _reference(self, body: str, path: str, line: int) -> str:
        match = _FUNCTION.match(body)
        function = match.group(1) if match else None
        if function in _OWN_ARGUMENTS:
            return _OWN_ARGUMENTS[function](self, body[match.end():], path, line)
        if function in _TEXT_FUNCTIONS:
            count, apply = _TEXT_FUNCTIONS[function]
            return apply(*self._args(body[match.end():], count, path, line))
        if function in _REFUSED:
            raise self._fail(path, line, f"make function '{function}' is not supported here")
        name = self.expand(body, path, line) if "$" in body else body
        colon = name.find(":")
        if colon > 0 and "=" in name[colon:]:
            # Substitution reference $(VAR:a=b): a suffix, or a % pattern.
            var, rule = name[:colon], name[colon + 1:]
            pattern, replacement = rule.split("=", 1)
            if "%" not in pattern:
                pattern, replacement = "%" + pattern, "%" + replacement
            return patsubst(pattern, replacement, self._variable(var, path, line))
        if " " in name.strip():
            word = name.split()[0]
            raise self._fail(path, line, f"unknown make function '{word}'")
        return self._variable(name.strip(), path, line)

    # The functions. Each takes the raw argument text (make expands arguments
    # itself, except for the lazy ones: foreach, if, and, or).

    def _args(self, raw: str, count: int | None, path: str, line: int) -> list[str]:
        return [self.expand(a, path, line) for a in split_args(raw, count)]

    def wildcard(self, raw, path, line):
        found: list[str] = []
        base = self.makefile.directory
        files = self.makefile.files
        for pattern in self.expand(raw, path, line).split():
            if glob.has_magic(pattern):
                matches = files.glob(pattern, base)
            else:
                matches = [pattern] if files.exists(os.path.join(base, pattern)) else []
            found.extend(matches)
        return " ".join(found)

    def call(self, raw, path, line):
        args = self._args(raw, None, path, line)
        name = args[0].strip()
        if self.on_call is not None and name in ("MOD_ADD_C", "MOD_ADD_CC"):
            self.on_call(name, args[1:], path, line)
            return ""
        var = self.makefile.variables.get(name)
        if var is None:
            return ""
        # $(1)... are this call's arguments only: an enclosing call's further ones read as empty (make 4.x)
        automatic = {key: value for key, value in self.automatic.items() if not key.isdigit()}
        automatic.update((str(index), arg) for index, arg in enumerate(args))
        automatic["0"] = name
        if self.makefile.calls > 100:
            raise self._fail(path, line, f"$(call {name},...) nests more than 100 deep")
        inner = Expander(self.makefile, automatic, self.shell, self.on_call)
        self.makefile.calls += 1
        try:
            return inner.expand(var.value, path, line) if var.recursive else var.value
        finally:
            self.makefile.calls -= 1

    def foreach(self, raw, path, line):
        var, words, body = split_args(raw, 3)
        var = self.expand(var, path, line).strip()
        out = []
        for word in self.expand(words, path, line).split():
            automatic = dict(self.automatic)
            automatic[var] = word
            out.append(Expander(self.makefile, automatic, self.shell, self.on_call).expand(body, path, line))
        return " ".join(out)

    def if_(self, raw, path, line):
        parts = split_args(raw, 3)
        condition = self.expand(parts[0], path, line).strip()
        if condition:
            return self.expand(parts[1], path, line) if len(parts) > 1 else ""
        return self.expand(parts[2], path, line) if len(parts) > 2 else ""

    def shell_(self, raw, path, line):
        command = self.expand(raw, path, line)
        if self.shell is None:
            raise self._fail(path, line, f"$(shell {command.strip()[:60]}) cannot be evaluated here")
        return self.shell(command, path, line)

    def eval_(self, raw, path, line):
        # Only as the body of MOD_ADD_C, which ``call`` intercepts before it gets here.
        raise self._fail(path, line, "$(eval ...) outside $(call MOD_ADD_C,...) is not supported")


# The functions that expand (or refuse) their arguments themselves.
_OWN_ARGUMENTS = {
    "wildcard": Expander.wildcard,
    "call": Expander.call,
    "foreach": Expander.foreach,
    "if": Expander.if_,
    "shell": Expander.shell_,
    "eval": Expander.eval_,
}
# The text functions: (how many arguments, at most; what they make of them, expanded).
_TEXT_FUNCTIONS = {
    "subst": (3, lambda a, b, text: text.replace(a, b) if a else text),
    "patsubst": (3, lambda p, r, text: patsubst(p.strip(), r.strip(), text)),
    "strip": (1, lambda text: " ".join(text.split())),
    "findstring": (2, lambda needle, text: needle if needle in text else ""),
    "filter": (2, lambda pats, text: " ".join(
        w for w in text.split() if any(_pattern_replace(p, p, w) is not None for p in pats.split()))),
    "filter-out": (2, lambda pats, text: " ".join(
        w for w in text.split() if not any(_pattern_replace(p, p, w) is not None for p in pats.split()))),
    "sort": (1, lambda text: " ".join(_unique_sorted(text.split()))),
    "word": (2, lambda n, text: (text.split()[int(n) - 1:int(n)] or [""])[0]),
    "words": (1, lambda text: str(len(text.split()))),
    "firstword": (1, lambda text: (text.split() or [""])[0]),
    "lastword": (1, lambda text: (text.split() or [""])[-1]),
    "addprefix": (2, lambda p, text: " ".join(p + w for w in text.split())),
    "addsuffix": (2, lambda s, text: " ".join(w + s for w in text.split())),
    "notdir": (1, lambda text: " ".join(w.rsplit("/", 1)[-1] for w in text.split())),
    "dir": (1, lambda text: " ".join(w[:w.rfind("/") + 1] or "./" for w in text.split())),
    "basename": (1, lambda text: " ".join(
        w[:w.rfind(".")] if w.rfind(".") > w.rfind("/") else w for w in text.split())),
    "suffix": (1, lambda text: " ".join(
        w[w.rfind("."):] for w in text.split() if w.rfind(".") > w.rfind("/"))),
}
_REFUSED = {"origin", "flavor", "value", "info", "warning", "error", "file", "guile", "abspath", "realpath",
            "join", "and", "or", "let", "intcmp", "wordlist"}
# Variables make takes from the environment that decide which directories exist.
_FROM_ENVIRONMENT = ("LOCAL_MOD_SUBDIRS",)


# --------------------------------------------------------------------------- reading


def _trailing_backslashes(text: str) -> int:
    return len(text) - len(text.rstrip("\\"))


def _halved_backslashes(text: str) -> str:
    """``text`` with its trailing run of backslashes halved, as make reads one before a ``#`` or a newline."""
    run = _trailing_backslashes(text)
    return text[:len(text) - run] + "\\" * (run // 2)


def logical_lines(text: str):
    """(first physical line number, the physical lines) of each logical line of a Makefile: a line ending in an
    odd run of backslashes goes on on the next one."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        parts = [line]
        while _trailing_backslashes(line) % 2 and i + 1 < len(lines):
            i += 1
            line = lines[i]
            parts.append(line)
        i += 1
        yield start + 1, parts


def _strip_comment(text: str) -> str:
    """The text before its comment, as make reads it: a ``#`` after an odd run of backslashes is a plain ``#``,
    after an even run (or none) it starts the comment; either way the run is halved."""
    kept: list[str] = []
    pos = 0
    while True:
        hash_at = text.find("#", pos)
        if hash_at < 0:
            kept.append(text[pos:])
            return "".join(kept)
        before = text[pos:hash_at]
        kept.append(_halved_backslashes(before))
        if _trailing_backslashes(before) % 2 == 0:
            return "".join(kept)
        kept.append("#")
        pos = hash_at + 1


def join_normal(parts: list[str]) -> str:
    # make: backslash-newline and the whitespace around it become one space; the backslashes before it are halved.
    if len(parts) == 1:
        return parts[0]
    pieces = [_halved_backslashes(p[:-1]).rstrip() if idx < len(parts) - 1 else p for idx, p in enumerate(parts)]
    return " ".join([pieces[0]] + [p.lstrip() for p in pieces[1:]])


def join_recipe(parts: list[str]) -> str:
    """A recipe's continued line as the shell reads it (backslash-newline removed, next tab dropped)."""
    pieces = [parts[0]] + [p[1:] if p.startswith("\t") else p for p in parts[1:]]
    return "".join(p[:-1] if idx < len(pieces) - 1 else p for idx, p in enumerate(pieces))


def conditional_value(expander: Expander, kind: str, args: str, path: str, line: int) -> bool:
    args = args.strip()
    if kind in ("ifdef", "ifndef"):
        name = expander.expand(args, path, line).strip()
        var = expander.makefile.variables.get(name)
        defined = var is not None and var.value != ""
        return defined if kind == "ifdef" else not defined
    if args.startswith("("):
        close = _find_close(args, 1, "(")
        compared = split_args(args[1:close], 2) if close is not None else []
        if len(compared) != 2:  # no closing parenthesis, or no comma: make says "invalid syntax" too
            raise InputError(path, line, 1, f"malformed {kind}: {args[:40]!r}")
        first, second = compared
    else:
        quoted = re.match(r"""^(["'])(.*?)\1\s+(["'])(.*?)\3\s*$""", args)
        if not quoted:
            raise InputError(path, line, 1, f"malformed {kind}: {args[:40]!r}")
        first, second = quoted.group(2), quoted.group(4)
    a = expander.expand(first, path, line).strip()
    b = expander.expand(second, path, line).strip()
    return (a == b) if kind == "ifeq" else (a != b)


def read(path: str, directory: str | None = None, root: str | None = None,
         variables: dict[str, Var] | None = None, files: Files | None = None) -> Makefile:
    """Read one Makefile (and the files of its directory that it includes), through ``files``."""
    directory = directory or os.path.dirname(path) or "."
    makefile = Makefile(path=path, directory=directory, files=files or Files())
    makefile.variables.update(variables or {})
    if root is not None:
        makefile.variables.setdefault("ASTTOPDIR", _immediate(root))
    _read_into(makefile, path, root, depth=0)
    return makefile


def _read_into(makefile: Makefile, path: str, root: str | None, depth: int) -> None:
    try:
        text = makefile.files.text(path)
    except InputError as exc:
        raise InputError(path, 0, 0, exc.message.replace("cannot read", "cannot read Makefile", 1)) from None
    text = text.replace("\r\n", "\n")

    def on_call(name: str, args: list[str], where: str, line: int) -> None:
        module = args[0].strip() if args else ""
        sources = args[1].split() if len(args) > 1 else []
        makefile.mod_adds.append(ModAdd(module, sources, name, where, line))

    expander = Expander(makefile, on_call=on_call)
    # Conditional stack: (this branch active, a branch was taken, enclosing active)
    stack: list[list[bool]] = []
    active = True
    defining: tuple[str, list[str]] | None = None  # a define's name and its lines so far
    current_rule: Rule | None = None
    for number, parts in logical_lines(text):
        first = parts[0]
        if defining is not None:
            if first.strip() == "endef" or first.strip().startswith("endef "):
                if active:
                    makefile.variables[defining[0]] = Var("\n".join(defining[1]), True)
                defining = None
            else:
                defining[1].extend(parts)
            continue
        if first.startswith("\t") and current_rule is not None:
            if active:
                current_rule.recipe.append((number, join_recipe(parts)[1:]))
            continue
        line = _strip_comment(join_normal(parts)).strip()
        if not line:
            continue
        keyword = line.split(None, 1)[0]
        conditional = CONDITIONAL.match(line)
        if conditional:
            value = active and conditional_value(expander, conditional.group(1), conditional.group(2), path, number)
            stack.append([value, value, active])
            active = value
            continue
        if keyword == "else":
            if not stack:
                raise InputError(path, number, 1, "'else' without a conditional")
            frame = stack[-1]
            rest = line[4:].strip()
            if frame[1] or not frame[2]:
                frame[0] = False
            elif rest:
                nested = CONDITIONAL.match(rest)
                if not nested:
                    raise InputError(path, number, 1, f"malformed else: {line[:40]!r}")
                frame[0] = conditional_value(expander, nested.group(1), nested.group(2), path, number)
            else:
                frame[0] = True
            frame[1] = frame[1] or frame[0]
            active = frame[0]
            continue
        if keyword == "endif":
            if not stack:
                raise InputError(path, number, 1, "'endif' without a conditional")
            active = stack.pop()[2]
            continue
        if keyword == "define":
            words = line.split()
            if len(words) < 2:
                raise InputError(path, number, 1, "'define' without a variable name")
            defining = (words[1], [])
            continue
        if not active:
            continue
        include = _INCLUDE.match(line)
        if include:
            current_rule = None
            _include(makefile, expander, include.group(2), path, number, root, depth,
                     optional=include.group(1) != "include")
            continue
        assign = _ASSIGN.match(line)
        if assign:
            current_rule = None
            _assign(makefile, expander, assign.group(1), assign.group(2), assign.group(3).lstrip(), path, number)
            continue
        if line.startswith("$(") or line.startswith("${"):
            current_rule = None
            expander.expand(line, path, number)  # a statement: $(call MOD_ADD_C,...), $(eval ...)
            continue
        if keyword == "undefine":
            current_rule = None
            for name in expander.expand(line[len(keyword):], path, number).split():
                makefile.variables.pop(name, None)
            continue
        if keyword in ("export", "unexport", "vpath", "override"):
            current_rule = None
            continue
        current_rule = _rule(makefile, expander, line, path, number)
    if stack:
        raise InputError(path, len(text.split("\n")), 1, "conditional not closed by 'endif'")


def _assign(makefile: Makefile, expander: Expander, name: str, op: str, value: str, path: str, line: int) -> None:
    if op == "!=":
        raise InputError(path, line, 1, f"'{name} != ...' runs a shell command; not supported")
    if op in (":=", "::=", ":::="):
        try:
            makefile.variables[name] = _immediate(expander.expand(value, path, line))
        except InputError as exc:
            makefile.variables[name] = Var("", False, exc)
    elif op == "=":
        makefile.variables[name] = Var(value, True)
    elif op == "?=":
        if name not in makefile.variables:
            makefile.variables[name] = Var(value, True)
    else:  # +=
        old = makefile.variables.get(name)
        if old is None:
            makefile.variables[name] = Var(value, True)
        elif old.recursive:
            makefile.variables[name] = Var((old.value + " " + value) if old.value else value, True)
        else:
            added = expander.expand(value, path, line)
            makefile.variables[name] = _immediate((old.value + " " + added) if old.value else added)


def _include(makefile: Makefile, expander: Expander, raw: str, path: str, line: int, root: str | None,
             depth: int, optional: bool) -> None:
    for name in expander.expand(raw, path, line).split():
        if os.path.basename(name) == MODDIR_RULES:
            _apply_moddir_rules(makefile, expander, path, line)
            continue
        target = os.path.normpath(os.path.join(makefile.directory, name))
        if os.path.dirname(target) != os.path.normpath(makefile.directory):
            continue  # outside the directory: configured choices and compile rules (see the module doc)
        if not makefile.files.exists(target):
            if optional:
                continue
            raise InputError(path, line, 1, f"included file '{name}' does not exist")
        if depth > 8:
            raise InputError(path, line, 1, f"includes nested too deeply at '{name}'")
        _read_into(makefile, target, root, depth + 1)


def _apply_moddir_rules(makefile: Makefile, expander: Expander, path: str, line: int) -> None:
    """What Makefile.moddir_rules does to the module lists when included (see its MODULE_PREFIX block)."""
    makefile.moddir_rules = True
    prefixes = expander.expand("$(MODULE_PREFIX)", path, line).split()
    if prefixes:
        c_mods: list[str] = []
        cc_mods: list[str] = []
        for prefix in prefixes:
            c_mods += [n[:-2] for n in makefile.files.glob(f"{glob.escape(prefix)}_*.c", makefile.directory)]
            cc_mods += [n[:-3] for n in makefile.files.glob(f"{glob.escape(prefix)}_*.cc", makefile.directory)]
        makefile.variables["ALL_C_MODS"] = _immediate(" ".join(c_mods))
        makefile.variables["ALL_CC_MODS"] = _immediate(" ".join(cc_mods))


def _rule(makefile: Makefile, expander: Expander, line: str, path: str, number: int) -> Rule | None:
    """An explicit rule line; only rules for ``.NAME.moduleinfo`` targets are kept (with their recipes)."""
    if "moduleinfo" not in line:
        return Rule([], [], [], path, number)  # collects (and drops) its recipe
    colon = re.search(r"(?<!:):{1,2}(?!=)", line)
    if not colon:
        return None
    targets = expander.expand(line[:colon.start()], path, number).split()
    rest = line[colon.end():]
    if re.match(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*[:+?]?=", rest):
        return None  # a target-specific variable (MOD_ADD_C's MODULEINFO_EXTRA_OUTPUT, computed in root)
    semicolon = rest.find(";")
    recipe = []
    if semicolon >= 0:
        recipe = [(number, rest[semicolon + 1:].strip())]
        rest = rest[:semicolon]
    prereqs = expander.expand(rest, path, number).split()
    rule = Rule(targets, prereqs, recipe, path, number)
    makefile.rules.append(rule)
    return rule

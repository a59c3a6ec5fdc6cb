"""One module directory, run as ``make -C DIR moduleinfo`` and ``make -C DIR makeopts`` would run it.

``Makefile.moddir_rules``' own recipes for ``.%.moduleinfo: %.c`` / ``%.cc``,
``.moduleinfo::``, ``.%.makeopts`` and ``.makeopts::`` are read from the root
(``read_moddir_rules``) and evaluated with ``recipe`` and ``awk``; their
prerequisite lists are the ones that file writes (members: ``$(sort
$(ALL_C_MODS) $(ALL_CC_MODS))`` then the category's ``tolower(CATEGORY).xml``;
makeopts: ``$(ALL_C_MODS) $(ALL_CC_MODS)`` in order), checked against its text.
``$(call MOD_ADD_C,...)`` is evaluated through that file's own ``MOD_ADD_C`` and
``MOD_ADD_SOURCE`` definitions.

Members come in three kinds, each with where its data is written: ``source``
(a ``.c``/``.cc`` MODULEINFO block, via the pattern rule), ``rule`` (an explicit
``.NAME.moduleinfo:`` rule in the directory's Makefile whose recipe echoes the
member, e.g. ``app_voicemail``) and ``xml`` (a ``<member>`` of the category's
XML file, e.g. ``codecs/codecs.xml``; one of support level ``option`` is a build
option, not a module).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from buildtool.asterisk import awk, makefile, recipe
from buildtool.asterisk.inputs import Files
from buildtool.errors import InputError

MEMBER_NAME = re.compile(r"<member\s[^>]*?\bname=\"([^\"]*)\"")
_OPTION_LEVEL = re.compile(r"<support_level>\s*option\s*</support_level>")


@dataclass
class Member:
    name: str
    directory: str       # the module directory, relative to the root ("apps")
    kind: str            # "source", "rule" or "xml"
    displayname: str
    path: str            # where the member's data is written (root joined as given)
    line: int            # the line of that declaration (source: 0, the block finds its own)
    inner: str = ""      # rule/xml: the member's inner XML text, starting at content_line
    content_line: int = 0
    content_column: int = 1
    data: bytes = b""    # source: the whole source file
    # The files make reads for the member (its .moduleinfo prerequisites: the module's own source
    # first, then MOD_ADD_C's extra sources); for an XML member, none.
    sources: list[str] = field(default_factory=list)


@dataclass
class ModdirRules:
    """The recipes of Makefile.moddir_rules that write a directory's menu text."""

    member_c: list[tuple[int, str]]
    member_cc: list[tuple[int, str]]
    category: list[tuple[int, str]]
    makeopts_c: list[tuple[int, str]]
    makeopts_cc: list[tuple[int, str]]
    makeopts_all: list[tuple[int, str]]
    path: str
    mod_add: dict[str, tuple[str, str]]  # "MOD_ADD_C" -> (its call's argument text, MOD_ADD_SOURCE's body)


def read_moddir_rules(root: str, files: Files) -> ModdirRules:
    """The recipes (and the MOD_ADD definitions) of the root's Makefile.moddir_rules; refused when its
    rules are not the ones this reader evaluates."""
    path = os.path.join(root, makefile.MODDIR_RULES)
    text = files.text(path).replace("\r\n", "\n")
    rules: dict[str, tuple[str, list[tuple[int, str]]]] = {}
    current = None
    mod_add_calls: dict[str, str] = {}
    source_body: list[str] | None = None
    in_define = False
    for number, parts in makefile.logical_lines(text):
        first = parts[0]
        if in_define:
            if first.strip() == "endef":
                in_define = False
            elif source_body is not None:
                source_body.append(makefile.join_recipe(parts) if first.startswith("\t") else "\n".join(parts))
            continue
        if first.startswith("define "):
            in_define = True
            if first.split()[1:2] == ["MOD_ADD_SOURCE"]:
                source_body = []
            continue
        definition = _MOD_ADD_DEFINITION.match(makefile.join_normal(parts).strip())
        if definition:
            mod_add_calls[definition.group(1)] = definition.group(2)
        if first.startswith("\t"):
            if current is not None:
                rules[current][1].append((number, makefile.join_recipe(parts)[1:]))
            continue
        current = None
        head = makefile.join_normal(parts)
        for key in (".%.moduleinfo: %.c", ".%.moduleinfo: %.cc", ".moduleinfo::", ".%.makeopts: %.c",
                    ".%.makeopts: %.cc", ".makeopts::"):
            if head.startswith(key) and (key.endswith("::") or head.strip() == key):
                rules[key] = (head, [])
                current = key
    missing = [k for k in (".%.moduleinfo: %.c", ".%.moduleinfo: %.cc", ".moduleinfo::", ".%.makeopts: %.c",
                           ".makeopts::") if k not in rules]
    if missing:
        raise InputError(path, 1, 1, f"rule '{missing[0]}' not found; this Makefile.moddir_rules is not understood")
    category_head = rules[".moduleinfo::"][0]
    if "$(sort $(ALL_C_MODS) $(ALL_CC_MODS))" not in category_head or ".xml)" not in category_head:
        raise InputError(path, 1, 1, "the '.moduleinfo::' prerequisites are not the ones understood "
                                     "(sorted ALL_C_MODS ALL_CC_MODS, then the category's .xml)")
    if "$(ALL_C_MODS) $(ALL_CC_MODS)" not in rules[".makeopts::"][0]:
        raise InputError(path, 1, 1, "the '.makeopts::' prerequisites are not the ones understood")
    if "$(wildcard $(p)_*.c)" not in text or "MODULE_PREFIX" not in text:
        raise InputError(path, 1, 1, "the MODULE_PREFIX rule (ALL_C_MODS from PREFIX_*.c) is not the one understood")
    body = "\n".join(source_body or [])
    mod_add = {kind: (args, body) for kind, args in mod_add_calls.items()} if source_body is not None else {}
    return ModdirRules(rules[".%.moduleinfo: %.c"][1], rules[".%.moduleinfo: %.cc"][1],
                       rules[".moduleinfo::"][1], rules[".%.makeopts: %.c"][1],
                       rules.get(".%.makeopts: %.cc", ("", []))[1], rules[".makeopts::"][1], path, mod_add)


_TARGET_VARIABLE = re.compile(r"^([^:=]+?)\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=|:=|\+=)(.*)$", re.S)
_MOD_ADD_DEFINITION = re.compile(r"^(MOD_ADD_CC?)\s*=\s*\$\(eval \$\(call MOD_ADD_SOURCE,(.*)\)\)\s*$")
_DISPLAY_SHELL = re.compile(r"^\s*\S*grep\s+-e\s+AST_MODULE_INFO\s+(\S+)\s*\|\s*head\s+-n\s*1\s*\|"
                            r"\s*cut\s+-d\s+'\"'\s+-f\s*2\s*$")


class Directory:
    """One module directory's virtual make run: the text of its ``.moduleinfo`` and ``.makeopts``."""

    def __init__(self, root: str, name: str, files: Files, patterns: ModdirRules,
                 scripts: dict[str, awk.Program]):
        self.root = root
        self.name = name
        self.dir = os.path.join(root, name)
        self.files = files
        self.patterns = patterns
        self.scripts = scripts
        self.mk = makefile.read(os.path.join(self.dir, "Makefile"), self.dir, root, files=files)
        self.built: dict[str, str] = {}
        self.echoes: dict[str, list[tuple[int, str]]] = {}  # target -> (Makefile line, echoed text)
        self.members: list[Member] = []
        self.makeopts_members: set[str] = set()
        self.option_members: set[str] = set()

    # -- one target -------------------------------------------------------

    def _shell(self, command: str, path: str, line: int) -> str:
        match = _DISPLAY_SHELL.match(command)
        if not match:
            raise InputError(path, line, 1, f"$(shell {command.strip()[:60]}) is not understood")
        return awk.display_name(self.files.text(os.path.join(self.dir, match.group(1))))

    def _run(self, target: str, recipe_lines: list[tuple[int, str]], path: str, automatic: dict[str, str],
             extra: dict[str, makefile.Var]) -> str:
        variables = dict(self.mk.variables)
        variables.setdefault("AWK", makefile.Var("awk", False))
        variables.setdefault("GREP", makefile.Var("grep", False))
        variables["SUBDIR"] = makefile.Var(self.name, False)
        variables.update(extra)
        context = makefile.Makefile(path=path, directory=self.dir, variables=variables, files=self.files)
        expander = makefile.Expander(context, automatic, shell=self._shell)
        out: list[str] = []
        echoes: list[tuple[int, str]] = []
        for line, raw in recipe_lines:
            command = recipe.parse(expander.expand(raw, path, line), path, line)
            if command.redirect is None or command.target != target:
                raise InputError(path, line, 1, f"recipe does not write its target '{target}': {raw.strip()[:80]!r}")
            if command.program == "echo":
                text = recipe.echo_output(command, path, line)
                echoes.append((line, text))
            elif command.program == "cat":
                text = "".join(self._content(name) for name in command.args)
            elif command.program == "awk" and len(command.args) >= 2 and command.args[0] == "-f":
                text = self._awk(command.args[1], command.args[2:], path, line)
            else:
                raise InputError(path, line, 1, f"recipe shape not understood: {raw.strip()[:80]!r}")
            if command.redirect == ">":
                out = [text]
            else:
                out.append(text)
        self.echoes[target] = echoes
        return "".join(out)

    def _awk(self, script: str, names: list[str], path: str, line: int) -> str:
        program = self.scripts.get(script)
        if program is None:
            if not self.files.isfile(script):
                raise InputError(path, line, 1, f"awk script '{script}' does not exist")
            program = awk.parse(self.files.text(script))
            if program is None:
                raise InputError(script, 1, 1, "this awk program is not of the shape understood "
                                               "(see buildtool/asterisk/awk.py); not evaluated")
            self.scripts[script] = program
        return program.run([self.files.text(os.path.join(self.dir, n)) for n in names])

    def _content(self, name: str) -> str:
        if name in self.built:
            return self.built[name]
        return self.files.text(os.path.join(self.dir, name))

    # -- the directory ----------------------------------------------------

    def _member_target(self, member: str, target_vars: dict[str, dict[str, makefile.Var]],
                       extra_prereqs: dict[str, list[str]], explicit: dict[str, makefile.Rule]) -> None:
        target = f".{member}.moduleinfo"
        rule = explicit.get(target)
        if rule is not None:
            prereqs = _unique(rule.prereqs + extra_prereqs.get(target, []))
            automatic = {"@": target, "<": prereqs[0] if prereqs else "", "^": " ".join(prereqs), "*": ""}
            text = self._run(target, rule.recipe, rule.path, automatic, target_vars.get(target, {}))
            self.built[target] = text
            self._rule_member(member, target, text, rule)
            self.members[-1].sources = [os.path.join(self.dir, p) for p in prereqs]
            return
        for suffix, recipe_lines in ((".c", self.patterns.member_c), (".cc", self.patterns.member_cc)):
            source = member + suffix
            if self.files.isfile(os.path.join(self.dir, source)):
                break
        else:
            raise InputError(self.mk.path, 1, 1, f"module '{member}' has no {member}.c or {member}.cc "
                                                 f"in {self.name}/ (make: no rule to make '{target}')")
        prereqs = _unique([source] + extra_prereqs.get(target, []))
        extra = target_vars.get(target, {})
        automatic = {"@": target, "<": source, "^": " ".join(prereqs), "*": member}
        text = self._run(target, recipe_lines, self.patterns.path, automatic, extra)
        self.built[target] = text
        header, _ = _header(text, self.patterns.path)
        path = os.path.join(self.dir, source)
        self.members.append(Member(member, self.name, "source", header.get("displayname", ""), path, 0,
                                   data=self.files.data(path),
                                   sources=[os.path.join(self.dir, p) for p in prereqs]))

    def _mod_add(self, add: makefile.ModAdd, target_vars: dict[str, dict[str, makefile.Var]],
                 extra_prereqs: dict[str, list[str]]) -> None:
        """What ``$(call MOD_ADD_C,name,sources)`` adds, by evaluating Makefile.moddir_rules' own
        ``MOD_ADD_C`` and ``MOD_ADD_SOURCE`` definitions as ``$(eval $(call ...))`` does: target-specific
        variables (``MODULEINFO_EXTRA_OUTPUT``, expanded when the recipe runs) and prerequisites of
        ``.NAME.moduleinfo`` (the extra sources, which the MODULEINFO extraction reads too)."""
        definition = self.patterns.mod_add.get(add.kind)
        if definition is None:
            return  # make: a call of an undefined variable expands to nothing
        template_args, body = definition
        call = makefile.Expander(self.mk, {"1": add.name, "2": " ".join(add.sources)})
        args = [call.expand(a, add.path, add.line) for a in makefile.split_args(template_args, 64)]
        automatic = {str(i + 1): value for i, value in enumerate(args)}
        evaluated = makefile.Expander(self.mk, automatic).expand(body, self.patterns.path, add.line)
        for line in evaluated.split("\n"):
            if line.startswith("\t") or ":" not in line:
                continue  # a recipe line, or not a rule
            variable = _TARGET_VARIABLE.match(line)
            if variable:
                for target in variable.group(1).split():
                    target_vars.setdefault(target, {})[variable.group(2)] = makefile.Var(
                        variable.group(4).lstrip(), variable.group(3) == "=")
                continue
            targets, _, prereqs = line.partition(":")
            if prereqs.startswith(":") or prereqs.startswith("="):
                continue
            for target in targets.split():
                if target.endswith(".moduleinfo"):
                    extra_prereqs.setdefault(target, []).extend(
                        makefile.Expander(self.mk).expand(prereqs, add.path, add.line).split())

    def _rule_member(self, member: str, target: str, text: str, rule: makefile.Rule) -> None:
        header, _ = _header(text, rule.path, rule.line)
        echoes = self.echoes[target]
        # The member's inner lines, each at its recipe line: the block the MODULEINFO parser reads.
        inner_lines = [(line, out) for line, out in echoes
                       if not out.lstrip().startswith("<member") and out.strip() != "</member>"]
        first = inner_lines[0][0] if inner_lines else rule.line
        text_lines: list[str] = []
        for line, out in inner_lines:
            while first + len(text_lines) < line:
                text_lines.append("\n")
            text_lines.append(out)
        # The name menuselect sees is the one the rule echoes (make names only the target).
        name = _member_name(header, rule.path, rule.line)
        self.members.append(Member(name, self.name, "rule", header.get("displayname", ""), rule.path,
                                   rule.line, "".join(text_lines), first, 1))

    def _xml_members(self, path: str) -> None:
        text = self.files.text(path)
        for match in re.finditer(r"<member\b[^>]*>", text):
            close = text.find("</member>", match.end())
            if close < 0:
                line = text.count("\n", 0, match.start()) + 1
                raise InputError(path, line, 1, "<member> is not closed")
            at_line = text.count("\n", 0, match.start()) + 1
            attributes = _attributes(match.group(0) + "</member>", path, at_line)
            _member_name(attributes, path, at_line)
            start = match.end()
            if _OPTION_LEVEL.search(text, start, close):
                # support level "option": menuselect's build option shown in a module category
                # (bridges.xml: binaural_rendering_in_bridge_softmix), not a module.
                self.option_members.add(attributes.get("name", ""))
                continue
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            self.members.append(Member(attributes.get("name", ""), self.name, "xml",
                                       attributes.get("displayname", ""), path,
                                       text.count("\n", 0, match.start()) + 1,
                                       text[start:close], line, column))

    def read(self) -> tuple[str, str]:
        """(``.moduleinfo`` text, ``.makeopts`` text) as ``make -C DIR moduleinfo|makeopts`` prints them."""
        if not self.mk.moddir_rules:
            return "", ""
        mk = self.mk
        c_mods = mk.value("ALL_C_MODS").split()
        cc_mods = mk.value("ALL_CC_MODS").split()
        target_vars: dict[str, dict[str, makefile.Var]] = {}
        extra_prereqs: dict[str, list[str]] = {}
        for add in mk.mod_adds:
            self._mod_add(add, target_vars, extra_prereqs)
        explicit: dict[str, makefile.Rule] = {}
        for rule in mk.rules:
            for target in rule.targets:
                if rule.recipe:
                    explicit[target] = rule
                else:
                    extra_prereqs.setdefault(target, []).extend(rule.prereqs)
        members = sorted(set(c_mods + cc_mods))
        for member in members:
            self._member_target(member, target_vars, extra_prereqs, explicit)
        category = mk.value("MENUSELECT_CATEGORY")
        xml_name = category.lower() + ".xml"
        prereqs = [f".{m}.moduleinfo" for m in members]
        if category and self.files.isfile(os.path.join(self.dir, xml_name)):
            prereqs.append(xml_name)
            self._xml_members(os.path.join(self.dir, xml_name))
        automatic = {"@": ".moduleinfo", "^": " ".join(prereqs), "<": prereqs[0] if prereqs else "", "*": ""}
        moduleinfo = self._run(".moduleinfo", self.patterns.category, self.patterns.path, automatic, {})
        # makeopts: ALL_C_MODS then ALL_CC_MODS, each file's first MAKEOPTS block.
        makeopts_targets = []
        for names, suffix, lines in ((c_mods, ".c", self.patterns.makeopts_c),
                                     (cc_mods, ".cc", self.patterns.makeopts_cc)):
            for member in names:
                target = f".{member}.makeopts"
                if target in self.built:
                    continue
                auto = {"@": target, "<": member + suffix, "^": member + suffix, "*": member}
                self.built[target] = self._run(target, lines, self.patterns.path, auto, {})
                makeopts_targets.append(target)
        automatic = {"@": ".makeopts", "^": " ".join(makeopts_targets),
                     "<": makeopts_targets[0] if makeopts_targets else "", "*": ""}
        makeopts = self._run(".makeopts", self.patterns.makeopts_all, self.patterns.path, automatic, {})
        self.makeopts_members = set(MEMBER_NAME.findall(makeopts))
        return moduleinfo, makeopts


def _unique(words: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for word in words:
        seen.setdefault(word, None)
    return list(seen)


_WHITESPACE_CHARACTER = re.compile(r"\r\n|[\t\n\r]")
_PLAIN_ATTRIBUTE = re.compile(r'\s+([A-Za-z_][\w.-]*)\s*=\s*"([^"<&]*)"')
_PLAIN_START_TAG = re.compile(r'^<member((?:\s+[A-Za-z_][\w.-]*\s*=\s*"[^"<&]*")*)\s*>')


def _attributes(element: str, path: str, line: int) -> dict[str, str]:
    """A <member ...> start tag's attributes (``element`` ends with ``</member>``)."""
    plain = _PLAIN_START_TAG.match(element)
    if plain:  # no entity or character reference: the values are the text between the quotes
        found = _PLAIN_ATTRIBUTE.findall(plain.group(1))
        if len({k for k, _ in found}) == len(found):
            return {k: _WHITESPACE_CHARACTER.sub(" ", v) for k, v in found}  # XML's attribute normalisation
    from buildtool import safexml  # the general case, with XML's normalisation and error positions

    try:
        return dict(safexml.parse(element.encode("latin-1"), "a <member> start tag").attrib)
    except safexml.XMLError as exc:
        message = exc.message if exc.kind != "syntax" else f"<member> start tag is not well-formed XML: {exc.message}"
        raise InputError(path, line, 1, message) from None


def _member_name(attributes: dict[str, str], path: str, line: int) -> str:
    name = attributes.get("name", "")
    if not re.fullmatch(r"[A-Za-z0-9_.+\-]+", name):
        raise InputError(path, line, 1, f"<member> has no valid name attribute (name={name!r})")
    return name


def _header(text: str, path: str, line: int = 1) -> tuple[dict[str, str], int]:
    first = text.split("\n", 1)[0]
    if not first.lstrip().startswith("<member"):
        raise InputError(path, line, 1, f"a member's text does not start with <member ...>: {first[:60]!r}")
    return _attributes(first.strip() + "</member>", path, line), len(first) + 1

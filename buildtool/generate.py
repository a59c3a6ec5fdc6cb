"""Stage three: from a module's normalized data to its generated header and flags.

The header is path-free and timestamp-free, so two build directories compile
to identical bytes; it is written only when its content changes, so ninja's
``restat`` skips every compile whose data did not change.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

# The hash header is written by the build's per-module step (buildstep.py, tools/modinfo_step.c).
from buildtool.buildstep import HASH_SUFFIX as HASH_HEADER_SUFFIX, HEADER_SUFFIX
from buildtool.diagnostics import Diagnostic, Severity
from buildtool.fields import HEADER_LISTS, RECORD_FIELDS, record_text
from buildtool.fsutil import write_if_changed
from buildtool.model import ABI_VERSION, Module

if TYPE_CHECKING:
    from pathlib import Path

SUPPORT_ENUMS = {None: "AST_MODULE_SUPPORT_UNKNOWN", "core": "AST_MODULE_SUPPORT_CORE",
                 "extended": "AST_MODULE_SUPPORT_EXTENDED", "deprecated": "AST_MODULE_SUPPORT_DEPRECATED",
                 "external": "AST_MODULE_SUPPORT_EXTERNAL"}


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


def _c_escaped(value: str) -> str:
    """``value`` as the inside of a C string literal (character by character, so the escape of a
    concatenation is the concatenation of the escapes: ``Skeleton`` relies on it)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\{ord(m.group()):03o}", escaped)


def _c_string(value: str) -> str:
    return f'"{_c_escaped(value)}"'


def _environment(c_string=_c_string):
    import jinja2  # here: the build's generator imports this module and often renders nothing

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("buildtool", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["c_string"] = c_string
    return env


def header_name(module: str) -> str:
    return module + HEADER_SUFFIX


def source_hash(data: bytes) -> str:
    import hashlib  # here: it loads OpenSSL (~7 ms), and the build's per-module step never hashes

    return "sha256:" + hashlib.sha256(data).hexdigest()


def injected_lists(module: Module) -> list[tuple[str, str]]:
    """The comma-separated lists of the struct, in its order: (macro, value)."""
    return [(f.macro, record_text(f, getattr(module, f.name))) for f in HEADER_LISTS]


def record_fields(module: Module, digest: str) -> list[tuple[str, str]]:
    """Everything the section record carries besides name and description: (record key, value)."""
    return [(f.record, digest if f.name == "source_hash" else record_text(f, getattr(module, f.name)))
            for f in RECORD_FIELDS]


def handwritten_problems(module: Module, text: str) -> list[Problem]:
    """Hand-written info-struct fields that disagree with MODULEINFO, as compile errors."""
    if "AST_MODULE_INFO" not in text:
        return []  # (nothing to read, and the build's per-module step skips the reader's import)
    from buildtool import handwritten

    found = handwritten.find(text)
    if found is None:
        return []
    declared = {
        "requires": set(module.requires) | set(module.builtins),
        "optional_modules": set(module.optional_modules),
        "enhances": set(module.enhances),
    }
    problems = []
    for name, item in sorted(found.fields.items(), key=lambda kv: kv[1].line):
        if name == "support_level":
            expected = SUPPORT_ENUMS[module.support_level]
            if item.value != expected:
                wanted = (f"<support_level>{item.value.removeprefix('AST_MODULE_SUPPORT_').lower()}</support_level>"
                          if item.value and item.value.startswith("AST_MODULE_SUPPORT_") else "a <support_level>")
                problems.append(Problem(item.line, (
                    f"hand-written .support_level = {item.text} disagrees with MODULEINFO "
                    f"({module.support_level or 'no <support_level>'}); MODULEINFO is the source of truth: "
                    f"remove the field or write {wanted} in MODULEINFO")))
            continue
        if item.value is None:
            problems.append(Problem(item.line, (
                f"hand-written .{name} = {item.text} is not a string literal, so it cannot be checked "
                "against MODULEINFO; remove it (the build injects it from MODULEINFO)")))
            continue
        written = set(item.names())
        if written != declared[name]:
            only_hand = sorted(written - declared[name])
            only_info = sorted(declared[name] - written)
            detail = []
            if only_hand:
                detail.append("only hand-written: " + ",".join(only_hand))
            if only_info:
                detail.append("only in MODULEINFO: " + ",".join(only_info))
            problems.append(Problem(item.line, (
                f"hand-written .{name} = \"{item.value}\" disagrees with MODULEINFO ({'; '.join(detail)}); "
                "MODULEINFO is the source of truth: remove the field (buildtool migrate does it)")))
    return problems


def header_context(module: Module, digest: str, problems: list[Problem] = (), hash_header: bool = False,
                   asterisk: dict | None = None) -> dict:
    """Everything the template (``templates/modinfo.h.j2``) renders for ``module``."""
    return dict(
        source_name=os.path.basename(module.source),
        guard=re.sub(r"[^A-Za-z0-9]", "_", module.name).upper(),
        abi_version=ABI_VERSION,
        name=module.name,
        lists=injected_lists(module),
        support_enum=SUPPORT_ENUMS[module.support_level],
        source_hash=digest,
        record=record_fields(module, digest),
        problems=list(problems),
        hash_header=module.name + HASH_HEADER_SUFFIX if hash_header else "",
        asterisk=asterisk,
    )


class HeaderGenerator:
    """Renders generated headers; one per process so the template is compiled once."""

    def __init__(self) -> None:
        self._template = None  # compiled on first use (jinja2 is imported then)

    def render_context(self, context: dict) -> str:
        if self._template is None:
            self._template = _environment().get_template(TEMPLATE)
        return self._template.render(**context)

    def render(self, module: Module, source: bytes, errors: list[Diagnostic] = (), hash_header: bool = False,
               wrapper: str | None = None, code: bytes | None = None) -> str:
        """The header text. With ``hash_header`` the source hash is not computed here: the header
        includes ``<module>.modinfo.hash.h`` (the build's per-module step writes it), so ``source``
        may be that step's ``.modinfo.block`` payload instead of the whole source.

        With ``wrapper`` (Asterisk's own build, see ``buildtool.asterisk.setup``) the header
        ends by including that file, which fills Asterisk's struct; a hand-written field then
        keeps precedence, as in Asterisk, so disagreement is reported by setup, not turned into
        an #error. ``code``: the C source compiled for the module, when its MODULEINFO is
        declared elsewhere (an Asterisk Makefile-rule member such as app_voicemail)."""
        text = source.decode("latin-1")
        digest = "" if hash_header else source_hash(source)
        problems = []
        asterisk = None
        if wrapper is None:
            problems = header_problems(module, text, errors)
        else:
            from buildtool import handwritten

            call = handwritten.find_call(code.decode("latin-1") if code is not None else text)
            asterisk = {
                "wrapper": wrapper,
                # Asterisk's loader resolves core built-ins (cdr, http, ...) in .requires.
                "requires": ",".join(sorted(set(module.requires) | set(module.builtins))),
                "description": (call.description if call and call.description is not None else ""),
            }
        return self.render_context(header_context(module, digest, problems, hash_header, asterisk))

    def write(self, module: Module, source: bytes, out_dir: str | Path,
              errors: list[Diagnostic] = (), hash_header: bool = False,
              wrapper: str | None = None) -> tuple[Path, bool]:
        from pathlib import Path

        path = Path(out_dir) / header_name(module.name)
        return path, write_if_changed(path, self.render(module, source, errors, hash_header, wrapper))


def header_problems(module: Module, text: str, errors: list[Diagnostic] = ()) -> list[Problem]:
    """What a header turns into ``#error``s: the module's errors, and hand-written fields that disagree."""
    problems = [Problem(d.line, f"{d.message} [{d.code}]") for d in errors if d.severity is Severity.ERROR]
    return problems + handwritten_problems(module, text)


TEMPLATE = "modinfo.h.j2"
# A slot of a skeleton: @@N@@ is the N-th value as it is, @@eN@@ the same inside a C string literal.
_SLOT = re.compile(r"@@(e?)([0-9]+)@@")
_SCALAR_SLOTS = ("source_name", "guard", "name", "support_enum", "hash_header")


def _slot_values(context: dict) -> list[str]:
    """The values of a context that differ between modules, in slot order."""
    return ([context[key] for key in _SCALAR_SLOTS] + [value for _, value in context["lists"]]
            + [value for _, value in context["record"]])


def make_skeleton() -> str | None:
    """The template rendered once, for the build's common shape (the hash in its own header, no
    ``#error``, not Asterisk's own build), with a slot where each module's value goes.

    The meson build's per-module step fills it (``fill_skeleton``) instead of importing jinja2 on
    every MODULEINFO edit; the template stays the one definition of the header. None when the
    template cannot be rendered that way (then the step renders with jinja2): checked here by
    filling the skeleton for a sample module and comparing with jinja2's own rendering.
    """
    sample = Module(name="sample_mod", source="sample_mod.c", line=1, requires=("a", "b"), support_level="core")
    context = header_context(sample, "", hash_header=True)
    slotted = dict(context)
    values = _slot_values(context)
    numbers = iter(range(len(values)))
    for key in _SCALAR_SLOTS:
        slotted[key] = f"@@{next(numbers)}@@"
    slotted["lists"] = [(macro, f"@@{next(numbers)}@@") for macro, _ in context["lists"]]
    slotted["record"] = [(key, f"@@{next(numbers)}@@") for key, _ in context["record"]]

    def c_string_slots(value: str) -> str:
        return _SLOT.sub(lambda m: f"@@e{m.group(2)}@@", _c_string(value))

    skeleton = _environment(c_string_slots).get_template(TEMPLATE).render(**slotted)
    if len(_SLOT.findall(skeleton)) < len(values) - 1 or fill_skeleton(skeleton, context) != \
            HeaderGenerator().render_context(context):
        return None
    return skeleton


def fill_skeleton(skeleton: str, context: dict) -> str:
    """The header of ``context`` (``header_context``, hash header, no problems) from ``make_skeleton``'s text."""
    values = _slot_values(context)
    return _SLOT.sub(lambda m: _c_escaped(values[int(m.group(2))]) if m.group(1) else values[int(m.group(2))],
                     skeleton)


def cflags(module: Module, out_dir, include_dirs: list[str] = ()) -> list[str]:
    """The compiler flags that inject ``module``'s generated header."""
    flags = [f"-I{d}" for d in include_dirs]
    flags.append(f"-I{out_dir}")
    flags.append(f'-DAST_MODULE="{module.name}"')
    flags.append(f'-DAST_MODULEINFO_HEADER="{header_name(module.name)}"')
    return flags

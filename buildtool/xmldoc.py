"""The ``core-en_US.xml``-style document: one ``<module>`` element per module, with its dependency data.

Format (docs/check.md, "xmldoc")::

    <docs xmlns:xi="http://www.w3.org/2001/XInclude">
      <module name="res_b" category="res" support_level="core" default_enabled="yes"
              description="B" source="res_b.c" source_hash="sha256:...">
        <moduleinfo>                       <!-- MODULEINFO's own vocabulary, types made explicit -->
          <depend type="module">res_a</depend>
          <depend type="builtin">cdr</depend>
          <use type="interface">sorcery</use>
          <provide>...</provide> <enhance>...</enhance> <conflict>...</conflict>
        </moduleinfo>
        <application name="...">...</application>  <!-- the source's /*** DOCUMENTATION ***/ content -->
      </module>
    </docs>

Every XML input (``DOCUMENTATION`` blocks, third-party documents, a document
read back) is parsed by ``buildtool.safexml`` (DTDs, entity expansion and
network access off; a DOCTYPE or entity declaration is refused), and the
blocks are found by ``buildtool.clex``. Output is deterministic:
modules sorted by name, dependency tags in a fixed order, sorted, no paths
but the source's file name, no time stamps.

``verify_hashes`` is what a loader calls: each built module's embedded source
hash (record field ``source_hash``) against the document's ``source_hash``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Mapping

from lxml import etree

from buildtool import handwritten, safexml
from buildtool.clex import lines, marked_comments, position, relative_to
from buildtool.diagnostics import Diagnostic, Severity, error, warning
from buildtool.fsutil import read_regular
from buildtool.extract import DOCUMENTATION_OPENING
from buildtool.fields import FIELDS, LIST
from buildtool.generate import source_hash
from buildtool.model import PROVIDED_KINDS, Module, Tree

if TYPE_CHECKING:  # only named in annotations: a scan reading DOCUMENTATION needs no ELF reader
    from buildtool.elfinfo import ModuleRecord

XI_NS = "http://www.w3.org/2001/XInclude"
OPENING = DOCUMENTATION_OPENING
HASH_MODES = ("warn", "refuse")
_DOCS_WRAPPER = (f'<docs xmlns:xi="{XI_NS}">', "</docs>")


# --------------------------------------------------------------------------- reading sources

def _blocks(text: str, path: str, module: str | None, diagnostics: list[Diagnostic]):
    """Each well-formed ``/*** DOCUMENTATION ... ***/`` comment as (its ``<docs>`` root, the line its
    body starts on); a malformed one is a diagnostic instead."""
    for start, end in marked_comments(text, OPENING):
        token = text[start:end]
        line, column = position(text, start)
        if not token.endswith("*/"):
            diagnostics.append(error(path, line, column, "xmldoc-invalid", "DOCUMENTATION block is not closed",
                                     module=module))
            continue
        body = token[len(OPENING):-2].rstrip("*")
        try:
            body = body.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            pass  # kept as Latin-1 characters: every byte survives
        if "\r" in body:  # XML reads each line end as LF anyway; libxml2 counts no line at a lone CR
            body = body.replace("\r\n", "\n").replace("\r", "\n")
        try:
            root = safexml.parse(body, "DOCUMENTATION", wrapper=_DOCS_WRAPPER, keep_comments=True)
        except safexml.XMLError as exc:
            if exc.kind == "syntax":
                diagnostics.append(error(path, line + exc.line - 1, 1, "xmldoc-invalid",
                                         f"DOCUMENTATION is not well-formed XML: {exc.message}", module=module))
            else:
                at = relative_to((line, column + len(OPENING)), exc.line, exc.column)
                diagnostics.append(error(path, *at, "xmldoc-invalid", exc.message, module=module))
            continue
        yield root, line


def documentation(text: str, path: str, module: str | None = None) -> tuple[list[etree._Element], list[Diagnostic]]:
    """The elements of every ``/*** DOCUMENTATION ... ***/`` comment in ``text`` (Latin-1 decoded source)."""
    elements: list[etree._Element] = []
    diagnostics: list[Diagnostic] = []
    for root, _ in _blocks(text, path, module, diagnostics):
        elements.extend(child for child in root if isinstance(child.tag, str))
    return elements, diagnostics


# A provided name travels in comma-separated lists ("kind:name"): these characters cannot be carried.
_UNCARRIABLE = re.compile(r"[,=\x00-\x1f]")


@dataclass(frozen=True)
class ProvidedName:
    kind: str     # one of PROVIDED_KINDS
    name: str
    line: int
    column: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


def provided_names(text: str, path: str, module: str | None = None) -> tuple[list[ProvidedName], list[Diagnostic]]:
    """What the source's DOCUMENTATION says the module provides, with the line and column of each element."""
    found: list[ProvidedName] = []
    diagnostics: list[Diagnostic] = []
    source_lines: list[str] | None = None
    for root, first_line in _blocks(text, path, module, diagnostics):
        for child in root:
            if not isinstance(child.tag, str) or child.tag not in PROVIDED_KINDS:
                continue
            line = first_line + (child.sourceline or 1) - 1
            if source_lines is None:
                source_lines = lines(text)
            column = (max(source_lines[line - 1].find("<" + child.tag), 0) + 1 if line <= len(source_lines)
                      else 1)
            name = (child.get("name") or "").strip()
            if not name or _UNCARRIABLE.search(name):
                diagnostics.append(warning(path, line, column, "provided-name-invalid",
                                           f"<{child.tag} name={name!r}> cannot be carried in the module record "
                                           "(empty, or a comma, '=' or control character); it is left out",
                                           module=module))
                continue
            found.append(ProvidedName(child.tag, name, line, column))
    return found, diagnostics


# --------------------------------------------------------------------------- writing

_TAG_ORDER = ("depend", "use", "enhance", "provide", "conflict")
_TYPE_ORDER = ("module", "builtin", "interface", "external", "option")


# The field table's MODULEINFO lists in the document's order (by element, then type).
_ITEM_FIELDS = sorted((f for f in FIELDS if f.kind == LIST and f.tag in _TAG_ORDER),
                      key=lambda f: (_TAG_ORDER.index(f.tag), _TYPE_ORDER.index(f.tag_type) if f.tag_type else 0))


def moduleinfo_items(module: Module) -> list[tuple[str, str | None, str]]:
    """The module's dependency data as (tag, type, name), in the document's order."""
    return [(f.tag, f.tag_type, n) for f in _ITEM_FIELDS for n in getattr(module, f.name)]


def module_attributes(module: Module, data: bytes, description: str | None) -> dict[str, str]:
    attrs = {"name": module.name}
    if module.category:
        attrs["category"] = module.category
    attrs["support_level"] = module.support_level or "unspecified"
    attrs["default_enabled"] = "yes" if module.default_enabled else "no"
    for key in ("deprecated_in", "removed_in", "replacement"):
        if getattr(module, key):
            attrs[key] = getattr(module, key)
    if description:
        attrs["description"] = description
    attrs["source"] = os.path.basename(module.source)
    attrs["source_hash"] = source_hash(data)
    return attrs


def module_element(module: Module, data: bytes) -> tuple[etree._Element, list[Diagnostic]]:
    text = data.decode("latin-1")
    found = handwritten.find_call(text)
    description = found.description if found else None
    if description is not None:
        try:
            description = description.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
    element = etree.Element("module", module_attributes(module, data, description))
    info = etree.SubElement(element, "moduleinfo")
    for tag, kind, name in moduleinfo_items(module):
        child = etree.SubElement(info, tag, {"type": kind} if kind else {})
        child.text = name
    docs, diagnostics = documentation(text, module.source, module.name)
    for doc in docs:
        doc.tail = None  # so the document is indented around the documentation, not inside it
        element.append(doc)
    return element, diagnostics


def _thirdparty(directory: str) -> tuple[list[etree._Element], list[etree._Element], list[Diagnostic]]:
    modules: list[etree._Element] = []
    others: list[etree._Element] = []
    diagnostics: list[Diagnostic] = []
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".xml"))
    except OSError as exc:
        return modules, others, [error(directory, 0, 0, "io-error", f"cannot list directory: {exc.strerror}")]
    for name in names:
        path = os.path.join(directory, name)
        root, found = parse_document(path)
        diagnostics.extend(found)
        if root is None:
            continue
        for child in root:
            if not isinstance(child.tag, str):
                continue
            (modules if child.tag == "module" else others).append(child)
    return modules, others, diagnostics


def build(tree: Tree, sources: Mapping[str, bytes], thirdparty_dir: str | None = None) -> tuple[bytes, list[Diagnostic]]:
    """The document for ``tree`` (``sources``: module name -> source bytes), third-party documents merged."""
    root = etree.Element("docs", nsmap={"xi": XI_NS})
    diagnostics: list[Diagnostic] = []
    elements: dict[str, etree._Element] = {}
    for name in sorted(tree.modules):
        if name not in sources:
            continue
        element, found = module_element(tree.modules[name], sources[name])
        diagnostics.extend(found)
        elements[name] = element
    others: list[etree._Element] = []
    if thirdparty_dir:
        extra, others, found = _thirdparty(thirdparty_dir)
        diagnostics.extend(found)
        for element in extra:
            name = element.get("name")
            if not name:
                diagnostics.append(warning(thirdparty_dir, element.sourceline or 0, 0, "xmldoc-invalid",
                                           "third-party <module> without a name is ignored"))
                continue
            if name in elements:
                diagnostics.append(warning(thirdparty_dir, element.sourceline or 0, 0, "xmldoc-invalid",
                                           f"third-party <module name=\"{name}\"> is also a module of the tree; "
                                           "the tree's is kept", module=name))
                continue
            elements[name] = element
    for name in sorted(elements):
        root.append(elements[name])
    for element in others:
        root.append(element)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return body, diagnostics


# --------------------------------------------------------------------------- reading a document

@dataclass(frozen=True)
class ModuleDoc:
    name: str
    source_hash: str | None
    support_level: str | None
    items: tuple[tuple[str, str | None, str], ...]   # the <moduleinfo> tags as (tag, type, name)
    line: int


@dataclass
class Document:
    path: str
    modules: dict[str, ModuleDoc] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def parse_document(path: str, data: bytes | None = None) -> tuple[etree._Element | None, list[Diagnostic]]:
    try:
        data = read_regular(path) if data is None else data  # a FIFO or /dev/zero is refused
    except OSError as exc:
        return None, [error(path, 0, 0, "io-error", f"cannot read: {exc.strerror}")]
    try:
        root = safexml.parse(data, "an xmldoc document", keep_comments=True)
    except safexml.XMLError as exc:
        if exc.kind == "syntax":
            return None, [error(path, exc.line, max(exc.column, 1), "xmldoc-invalid",
                                f"not well-formed XML: {exc.message}")]
        return None, [error(path, exc.line, exc.column, "xmldoc-invalid", exc.message)]
    if root.tag != "docs":
        return None, [error(path, root.sourceline or 1, 1, "xmldoc-invalid",
                            f"the root element is <{root.tag}>, expected <docs>")]
    return root, []


def load_document(path: str, thirdparty_dir: str | None = None) -> Document:
    """Read a document (and merge ``thirdparty_dir``'s ``*.xml``, as a loader does at start-up)."""
    document = Document(path)
    root, document.diagnostics = parse_document(path)
    elements = list(root.iter("module")) if root is not None else []
    if thirdparty_dir:
        extra, _, found = _thirdparty(thirdparty_dir)
        document.diagnostics.extend(found)
        elements += extra
    for element in elements:
        name = element.get("name")
        if not name or name in document.modules:
            continue
        info = element.find("moduleinfo")
        items = tuple((child.tag, child.get("type"), (child.text or "").strip())
                      for child in (info if info is not None else ()) if isinstance(child.tag, str))
        document.modules[name] = ModuleDoc(name, element.get("source_hash"), element.get("support_level"),
                                           items, element.sourceline or 0)
    return document


# --------------------------------------------------------------------------- verification

def verify_hashes(document: Document | str, records: Iterable[ModuleRecord], mode: str = "warn") -> list[Diagnostic]:
    """Check each built module's embedded source hash against the document.

    ``document`` is a ``Document`` (``load_document``) or a path. ``records`` are
    the modules' records (``elfinfo.read_record``). ``mode`` is ``"warn"``
    (findings are warnings: load anyway) or ``"refuse"`` (errors: the loader
    must not load those modules; ``refused()`` names them). A module without a
    ``<module>`` element is ``xmldoc-missing``; an element without a
    ``source_hash`` attribute (a third-party document may leave it out) is not
    checked; a different hash is ``xmldoc-hash-mismatch``. Every finding has
    ``module`` set.
    """
    if mode not in HASH_MODES:
        raise ValueError(f"hash verification mode {mode!r}: expected one of {', '.join(HASH_MODES)}")
    if isinstance(document, (str, os.PathLike)):
        document = load_document(str(document))
    make = error if mode == "refuse" else warning
    findings: list[Diagnostic] = []
    for record in sorted(records, key=lambda r: (r.name, r.path)):
        entry = document.modules.get(record.name)
        if entry is None:
            findings.append(make(record.path, 0, 0, "xmldoc-missing",
                                 f"{record.name} has no <module> element in {document.path}",
                                 module=record.name, data={"document": document.path}))
            continue
        if entry.source_hash is None:
            continue
        embedded = record.fields.get("source_hash") or None
        if embedded != entry.source_hash:
            findings.append(make(record.path, 0, 0, "xmldoc-hash-mismatch",
                                 f"{record.name}: the binary was built from source {embedded or '(no hash)'}, "
                                 f"{document.path} documents {entry.source_hash}",
                                 module=record.name,
                                 data={"binary_hash": embedded, "document_hash": entry.source_hash,
                                       "document": document.path}))
    return findings


def refused(findings: Iterable[Diagnostic]) -> set[str]:
    """The modules a loader in ``refuse`` mode must not load."""
    return {d.module for d in findings if d.severity is Severity.ERROR and d.module}


def check_against_tree(document: Document, tree: Tree, sources: Mapping[str, bytes]) -> list[Diagnostic]:
    """``check --xmldoc``: the document's elements against the sources as they are today."""
    findings: list[Diagnostic] = list(document.diagnostics)
    for name in sorted(tree.modules):
        module = tree.modules[name]
        at = (module.source, max(module.line, 1), 1)
        entry = document.modules.get(name)
        if entry is None:
            findings.append(error(*at, "xmldoc-missing", f"{name} has no <module> element in {document.path}",
                                  module=name, data={"document": document.path}))
            continue
        data = sources.get(name)
        if data is None:
            continue
        problems = []
        digest = source_hash(data)
        if entry.source_hash is not None and entry.source_hash != digest:
            problems.append(f"source_hash {entry.source_hash}, source is now {digest}")
        want = set(moduleinfo_items(module))
        have = set(entry.items)
        if want != have:
            def show(items):
                return ", ".join(f"<{t}{f' type={k}' if k else ''}>{n}" for t, k, n in sorted(items, key=str))
            if want - have:
                problems.append("missing " + show(want - have))
            if have - want:
                problems.append("not in MODULEINFO " + show(have - want))
        level = module.support_level or "unspecified"
        if entry.support_level is not None and entry.support_level != level:
            problems.append(f"support_level {entry.support_level}, MODULEINFO says {level}")
        if problems:
            findings.append(error(*at, "xmldoc-stale",
                                  f"<module name=\"{name}\"> in {document.path} differs from the source: "
                                  + "; ".join(problems) + "; regenerate it with buildtool xmldoc",
                                  module=name, data={"document": document.path, "differences": problems}))
    for name in sorted(set(document.modules) - set(tree.modules)):
        findings.append(warning(document.path, document.modules[name].line, 1, "xmldoc-unknown",
                                f"<module name=\"{name}\"> documents a module that is not in the scanned tree",
                                module=name))
    return findings

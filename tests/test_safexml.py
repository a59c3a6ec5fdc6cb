"""One safe XML set-up for every caller: each refuses a DTD, an entity expansion, billion laughs and an
oversized input with the same diagnostic. A caller that parses with its own lxml set-up fails here:
lxml itself would accept these inputs (leaving entities unexpanded), and only the shared set-up knows the
message and the byte cap."""

from __future__ import annotations

import pytest

from buildtool import catalog, safexml, xmldoc
from buildtool.errors import InputError
from buildtool.scan import SourceFile, scan_source

LAUGHS = "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(2, 10))
HOSTILE = {
    # each declaration starts line 2 of the file, column 1, in every caller's input below
    "internal entity expansion": ('<!DOCTYPE d [<!ENTITY e "EXPANDED">]>', "&e;"),
    "external DTD": ('<!DOCTYPE d SYSTEM "file:///etc/passwd">', "x"),
    "external entity": ('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"),
    "billion laughs": ('<!DOCTYPE lolz [\n <!ENTITY lol1 "lol">\n' + LAUGHS + "]>", "&lol9;"),
}


def _moduleinfo(tmp_path, declaration, reference):
    text = f"/*** MODULEINFO\n{declaration}\n\t<depend>{reference}</depend>\n ***/\n"
    _, found = scan_source(SourceFile("src/app_x.c", "app_x", "src"), text.encode())
    return [(d.line, d.column, d.message) for d in found if d.code in ("xml-dtd", "xml-syntax")]


def _documentation(tmp_path, declaration, reference):
    text = f"/*** DOCUMENTATION\n{declaration}\n<application name='X'>{reference}</application>\n ***/\n"
    _, found = xmldoc.documentation(text, "src/app_x.c", "app_x")
    return [(d.line, d.column, d.message) for d in found if d.code == "xmldoc-invalid"]


def _document(tmp_path, declaration, reference):
    data = f'<?xml version="1.0"?>\n{declaration}\n<docs><module name="x">{reference}</module></docs>\n'
    root, found = xmldoc.parse_document("doc.xml", data.encode())
    assert (root is None) == bool(found)
    return [(d.line, d.column, d.message) for d in found if d.code == "xmldoc-invalid"]


def _catalog(tmp_path, declaration, reference):
    path = tmp_path / "cflags.xml"
    path.write_text(f'<?xml version="1.0"?>\n{declaration}\n<category><member name="{reference}"/></category>\n')
    try:
        catalog.load(str(path))
    except InputError as exc:
        return [(exc.line, exc.column, exc.message)]
    return []


CALLERS = {  # the caller, and how its messages name the input
    "moduleinfo (MODULEINFO block)": (_moduleinfo, "MODULEINFO"),
    "xmldoc (DOCUMENTATION block)": (_documentation, "DOCUMENTATION"),
    "xmldoc (document)": (_document, "an xmldoc document"),
    "catalog (menuselect XML)": (_catalog, "menuselect XML"),
}


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_refuses_declarations_with_the_same_diagnostic(tmp_path, caller, hostile):
    read, where = CALLERS[caller]
    declaration, reference = HOSTILE[hostile]
    word = "ENTITY" if declaration.startswith("<!ENTITY") else "DOCTYPE"
    assert read(tmp_path, declaration, reference) == [
        (2, 1, f"<!{word}> is not allowed in {where} (no DTDs, no entity declarations)")]


def test_a_declaration_anywhere_is_refused_where_it_is(tmp_path):
    """Not only in the prolog: the position is the declaration's own, in every caller."""
    late = "\n  <!ENTITY e 'x'>"  # line 3 of the file, column 3
    for caller, (read, where) in CALLERS.items():
        assert read(tmp_path, "<!-- c -->" + late, "y") == [
            (3, 3, f"<!ENTITY> is not allowed in {where} (no DTDs, no entity declarations)")], caller


def test_each_caller_refuses_an_input_over_the_byte_cap(tmp_path, monkeypatch):
    """The cap is the shared set-up's alone: lowering it makes every caller refuse the same input, which
    parses under the real cap."""
    filler = "<!-- " + "x" * 300 + " -->"
    for caller, (read, _) in CALLERS.items():
        assert read(tmp_path, filler, "ok") == [], caller
    monkeypatch.setattr(safexml, "MAX_BYTES", 200)
    # Where each caller's XML starts and how long it is, counted from the templates above (a block's
    # text runs from after its opening marker to before its closing "***/", one space included).
    sizes = {
        "moduleinfo (MODULEINFO block)": (1, 16, 1 + len(filler) + len("\n\t<depend>ok</depend>\n ")),
        "xmldoc (DOCUMENTATION block)": (1, 19, 1 + len(filler) + len("\n<application name='X'>ok</application>\n ")),
        "xmldoc (document)": (1, 1, 22 + len(filler) + len('\n<docs><module name="x">ok</module></docs>\n')),
        "catalog (menuselect XML)": (1, 1, 22 + len(filler) + len('\n<category><member name="ok"/></category>\n')),
    }
    for caller, (read, where) in CALLERS.items():
        line, column, size = sizes[caller]
        assert read(tmp_path, filler, "ok") == [
            (line, column, f"{where} is {size} bytes long, over the limit of 200 bytes")], caller


def test_the_parser_settings():
    """What the set-up promises, read back from the parser itself: nothing loaded, expanded or fetched."""
    root = safexml.parse(b"<a>&amp;&#65;<!-- c --><?p i?></a>", "x", keep_comments=True)
    assert root.text == "&A" and [type(c).__name__ for c in root] == ["_Comment"]
    assert safexml.parse(b"<a><!-- c --></a>", "x").text is None  # comments dropped unless kept
    with pytest.raises(safexml.XMLError) as info:
        safexml.parse("<a>\n&undefined;</a>", "x")
    assert (info.value.kind, info.value.line) == ("syntax", 2)
    assert "undefined" in info.value.message.lower() and ", line" not in info.value.message

"""Property tests: whatever bytes a source holds, the scanner never raises, always
returns a module plus diagnostics with real positions, and is deterministic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildtool import treefile
from buildtool.catalog import Catalog
from buildtool.clex import hidden_spans
from buildtool.diagnostics import Diagnostic, Severity
from buildtool.extract import OPENING, block_region, find_blocks
from buildtool.resolve import ScannedModule, resolve
from buildtool.scan import SourceFile, scan, scan_source

SOURCE = SourceFile("dir/res_prop.c", "res_prop", "dir")
CATALOG = Catalog(options={"TEST_FRAMEWORK"}, builtins={"cdr"}, interfaces={"sorcery"}, platforms={"win32"})
CATALOG.add_library("zlib")
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def check_diagnostics(diagnostics, lines_in_file: int, data: bytes | None = None) -> None:
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n") if data is not None else None
    for d in diagnostics:
        if lines is not None:
            # A column points into its line or just past its end, never beyond.
            assert d.column <= len(lines[d.line - 1]) + 1, (d, lines[d.line - 1])
        assert isinstance(d, Diagnostic)
        assert d.severity in (Severity.ERROR, Severity.WARNING, Severity.NOTE)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", d.code), d.code
        assert d.message
        assert d.line >= 1 and d.column >= 1, d
        assert d.line <= lines_in_file, (d, lines_in_file)


def line_count(data: bytes) -> int:
    """Lines as the C preprocessor counts them: LF, CRLF and a lone CR each end one."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1


def scan_and_resolve(data: bytes):
    item, diagnostics = scan_source(SOURCE, data)
    assert isinstance(item, ScannedModule)
    assert item.name == "res_prop"
    tree = resolve([item], CATALOG, diagnostics)
    assert list(tree.modules) == ["res_prop"]
    return item, tree


# --------------------------------------------------------------------------- arbitrary bytes

@settings(max_examples=200, **SETTINGS)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data):
    _, tree = scan_and_resolve(data)
    check_diagnostics(tree.diagnostics, line_count(data), data)
    if OPENING.encode() not in data:
        assert [d.code for d in tree.diagnostics] == ["block-missing"]


_C_PIECES = st.sampled_from([
    b"/*** MODULEINFO", b"***/", b"*/", b"/*", b"//", b"\"", b"'", b"\\", b"\n", b"\r\n", b"\r", b" ", b"\t",
    b"<depend>", b"</depend>", b"<use type=\"module\">", b"</use>", b"res_x", b"zlib", b"\xe9", b"\xff\xfe",
    b"<!DOCTYPE", b"<!ENTITY", b"&lol;", b"<support_level>core</support_level>", b"MODULEINFO", b"int x;",
])


@settings(max_examples=200, **SETTINGS)
@given(st.lists(_C_PIECES, max_size=60).map(b"".join))
def test_c_like_bytes(data):
    _, tree = scan_and_resolve(data)
    check_diagnostics(tree.diagnostics, line_count(data), data)


# --------------------------------------------------------------------------- XML-ish blocks from a grammar

TAGS = ["depend", "use", "conflict", "provide", "enhance", "support_level", "defaultenabled", "deprecated_in",
        "removed_in", "replacement", "requires", "module", "x:y", "DEPEND"]
ATTRS = ["type", "optional", "level", "xmlns", "xmlns:x"]
ATTR_VALUES = ["module", "external", "interface", "option", "builtin", "library", "", "a&amp;b", "<", "&x;"]
TEXTS = ["res_a", "res_prop", "zlib", "ZLIB", "TEST_FRAMEWORK", "cdr", "win32", "sorcery", "core", "extended",
         "yes", "no", "maybe", "bad name", "caf\u00e9", "", " ", "\n", "&amp;", "&lt;", "&#65;", "&#x1F600;",
         "&lol;", "&", "<", "]]>", "<![CDATA[res_b]]>", "<!-- c -->", "<?pi x?>", "***", "*/"]
DECLS = ["<!DOCTYPE m [<!ENTITY lol \"lol\">]>", "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">",
         "<!doctype m SYSTEM \"http://example.invalid/x.dtd\">", "<?xml version=\"1.0\"?>"]


_text = st.sampled_from(TEXTS)
_xmlish = st.recursive(
    _text,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map("".join),
        st.builds(lambda tag, attrs, body, mode: (
            f"<{tag}" + "".join(f' {a}="{v}"' for a, v in attrs)
            + ("/>" if mode == 0 else f">{body}</{tag}>" if mode == 1 else f">{body}" if mode == 2
               else f">{body}</depend>")),
            st.sampled_from(TAGS),
            st.lists(st.tuples(st.sampled_from(ATTRS), st.sampled_from(ATTR_VALUES)), max_size=2),
            inner,
            st.integers(0, 3)),
    ),
    max_leaves=12,
)
_WELL_FORMED = st.builds(
    lambda tag, attrs, body: f"<{tag}" + "".join(f' {a}="{v}"' for a, v in attrs) + f">{body}</{tag}>",
    st.sampled_from(TAGS[:10]),
    st.lists(st.tuples(st.sampled_from(["type"] * 4 + ATTRS), st.sampled_from(ATTR_VALUES[:6])), max_size=1),
    st.sampled_from(TEXTS[:14]),
)
_WHITESPACE = st.sampled_from(["\n", "\t", "\r\n", " ", "\n\t"])
# Mostly elements (well-formed ones most of all, so names get classified), some
# arbitrary XML-ish nesting, now and then a DTD or entity declaration.
_block_body = st.lists(
    st.one_of(_WELL_FORMED, _WELL_FORMED, _WELL_FORMED, _xmlish, _WHITESPACE, _WHITESPACE),
    min_size=1, max_size=12,
).map("".join)


@st.composite
def sources(draw):
    if draw(st.integers(0, 9)) == 0:  # a DTD now and then, not in every other block
        body = draw(st.sampled_from(DECLS)) + draw(_block_body)
    else:
        body = draw(_block_body.filter(lambda b: not re.search(r"<!(?i:doctype|entity)", b)))
    before = draw(st.sampled_from(["", "/* header */\n", "#include \"x.h\"\n// MODULEINFO\n",
                                   "static const char *s = \"/*** MODULEINFO\";\r\n", "\n\n\xe9\n"]))
    after = draw(st.sampled_from(["", "", "\nint main(void) { return 0; }\n",
                                  "\n/*** MODULEINFO <use>x</use> ***/\n"]))
    closer = draw(st.sampled_from([" ***/", " ***/", " ***/", "***/", "*/", ""]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    text = before + OPENING + body + closer + after
    return text.encode(encoding, errors="replace")


@settings(max_examples=200, **SETTINGS)
@given(sources())
def test_xmlish_blocks(data):
    item, tree = scan_and_resolve(data)
    check_diagnostics(tree.diagnostics, line_count(data), data)
    module = tree.modules["res_prop"]
    for names in (module.requires, module.optional_modules, module.conflicts, module.libraries_required):
        assert list(names) == sorted(set(names))
    # Nothing from a DTD is ever expanded into a name.
    assert "lol" not in json.dumps(tree.to_json()["modules"])
    # Every name that made it into the declarations is a valid name.
    if item.decl is not None:
        for ref in item.decl.names:
            assert re.fullmatch(r"[A-Za-z0-9_.+\-]+", ref.name)


@settings(max_examples=4, **SETTINGS)
@given(st.lists(sources(), min_size=1, max_size=25))
def test_deterministic_across_processes_and_directories(tmp_path_factory, contents):
    # The same generated sources in two directories (another depth, written in another order), scanned
    # by two child processes with different hash seeds: the JSON tree and the diagnostics, byte for byte.
    outputs = []
    for run, indexes in enumerate((range(len(contents)), reversed(range(len(contents))))):
        root = tmp_path_factory.mktemp("det") / ("x" * (run + 1)) / "mods"
        root.mkdir(parents=True)
        for index in indexes:
            (root / f"res_m{index:02d}.c").write_bytes(contents[index])
        env = {**os.environ, "PYTHONHASHSEED": str(run + 1)}
        done = subprocess.run([sys.executable, "-m", "buildtool", "scan", "--format", "json", "."], cwd=root,
                              env=env, capture_output=True)
        assert done.returncode in (0, 1), done.stderr
        outputs.append((done.stdout, done.stderr))
    assert outputs[0] == outputs[1]
    assert len(json.loads(outputs[0][0])["modules"]) == len(contents)


# --------------------------------------------------------------------------- whole scan() on files

@settings(max_examples=60, **SETTINGS)
@given(st.lists(st.one_of(sources(), st.binary(max_size=300)), min_size=1, max_size=4))
def test_scan_files(tmp_path_factory, contents):
    root = tmp_path_factory.mktemp("props")
    lines = {}
    for index, data in enumerate(contents):
        path = root / f"res_m{index}.c"
        path.write_bytes(data)
        lines[str(path)] = line_count(data)
    tree = scan([str(root)], CATALOG)
    assert sorted(tree.modules) == [f"res_m{i}" for i in range(len(contents))]
    for d in tree.diagnostics:
        assert d.path in lines
        assert 1 <= d.line <= lines[d.path] and d.column >= 1, d
    again = scan([str(root)], CATALOG)
    assert treefile.to_json(tree) == treefile.to_json(again)
    keys = [d.sort_key() for d in tree.diagnostics]
    assert keys == sorted(set(keys))


# --------------------------------------------------------------------------- the fast lexer equals the token regex

_REFERENCE_TOKEN = re.compile(
    r'"(?:\\.|[^"\\\n])*"?'
    r"|'(?:\\.|[^'\\\n])*'?"
    r"|//(?:\\\n|[^\n])*"
    r"|/\*.*?(?:\*/|\Z)",
    re.S,
)


@settings(max_examples=200, **SETTINGS)
@given(st.lists(st.sampled_from(["/", "*", '"', "'", "\\", "\n", "a", " ", OPENING, "*/", "//", "***/", "/*"]),
                max_size=40).map("".join))
def test_lexer_matches_reference(text):
    last = text.rfind(OPENING)
    last = len(text) if last < 0 else last
    expected = []
    for match in _REFERENCE_TOKEN.finditer(text):
        if match.start() > last:
            break
        expected.append((match.start(), match.end()))
    assert list(hidden_spans(text, last)) == expected


@settings(max_examples=200, **SETTINGS)
@given(st.lists(_C_PIECES, max_size=60).map(b"".join))
def test_block_region_changes_nothing(data):
    """Lexing only the region that can hold blocks finds exactly what lexing the whole file finds."""
    whole = find_blocks(data.decode("latin-1"), "p")
    region = find_blocks(block_region(data).decode("latin-1"), "p")
    assert region == whole

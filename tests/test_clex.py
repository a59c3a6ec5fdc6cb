"""The one C-text lexer (buildtool/clex.py): its two views of a text agree, and what each reader gets from it.

tests/test_scan_properties.py checks ``hidden_spans`` against a reference lexer written there; the cases
below check the full tokenizer (``handwritten``'s view) against ``hidden_spans`` (``extract``'s and
``xmldoc``'s), and line ends as every reader counts them.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildtool import clex, handwritten, xmldoc

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = ["/", "*", '"', "'", "\\", "\n", "\r\n", "\r", "a", "_b1", " ", "\t", "*/", "//", "/*", "(", ",", "#"]


@settings(max_examples=300, **SETTINGS)
@given(st.lists(st.sampled_from(PIECES), max_size=50).map("".join))
def test_tokens_cover_the_text_without_gaps(text):
    pos = 0
    for kind, value, start, end in clex.tokens(text):
        assert (start, value) == (pos, text[start:end]) and end > start, (kind, value, start)
        pos = end
    assert pos == len(text)


@settings(max_examples=300, **SETTINGS)
@given(st.lists(st.sampled_from([p for p in PIECES if p != "#"]), max_size=50).map("".join))
def test_tokens_hide_what_hidden_spans_hides(text):
    """Without directives (which only the full tokenizer knows), both views find the same literals and comments."""
    hidden = [(start, end) for kind, _, start, end in clex.tokens(text)
              if kind in ("string", "char", "unterminated", "comment")]
    assert hidden == list(clex.hidden_spans(text, len(text)))


def test_token_kinds():
    kinds = [(kind, value) for kind, value, _, _ in clex.tokens('x = "a\\"b" \'c\' "open\n# if 1\ny # z')]
    assert kinds == [
        ("ident", "x"), ("space", " "), ("punct", "="), ("space", " "), ("string", '"a\\"b"'), ("space", " "),
        ("char", "'c'"), ("space", " "), ("unterminated", '"open'), ("space", "\n"), ("directive", "# if 1"),
        ("space", "\n"), ("ident", "y"), ("space", " "), ("punct", "#"), ("space", " "), ("ident", "z")]


def test_marked_comments_skip_the_marker_in_literals_and_other_comments():
    text = '"/*** M" // /*** M\n/* /*** M */ /*** M one */ x /*** M two'
    assert [text[s:e] for s, e in clex.marked_comments(text, "/*** M")] == ["/*** M one */", "/*** M two"]


def test_code_at():
    text = 'a "b" /* c */ d'
    assert clex.code_at(text, [0, 3, 8, 14]) == [0, 14]


def test_strip_comments_keeps_literals():
    assert clex.strip_comments('#if A /* x */ && B // y\n"/* z */"') == '#if A  && B \n"/* z */"'


def test_positions_and_lines_with_every_line_end():
    text = "a\nb\r\nc\rd"
    assert [clex.position(text, text.index(c)) for c in "abcd"] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert clex.lines(text) == ["a", "b", "c", "d"]
    assert clex.lines("a\nb") == ["a", "b"]


def test_a_conditional_field_with_a_comment_in_its_directive():
    text = ('AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT, "d",\n'
            '#ifdef HAVE_X /* the library */ // really\n'
            '\t.requires = "res_x",\n#endif\n);\n')
    field = handwritten.find(text).fields["requires"]
    assert (field.value, field.condition, field.line, field.column) == ("res_x", "#ifdef HAVE_X", 3, 2)


def test_documentation_positions_with_lone_cr_line_ends():
    """A source whose lines end in a lone CR: the provided names at their own line and column."""
    for end in ("\n", "\r\n", "\r"):
        text = end.join(["int x;", "/*** DOCUMENTATION", '\t<application name="A">', "\t</application>",
                         '  <function name="F"/>', " ***/", ""])
        names, found = xmldoc.provided_names(text, "app_x.c", "app_x")
        assert found == []
        assert [(n.key, n.line, n.column) for n in names] == [("application:A", 3, 2), ("function:F", 5, 3)], end

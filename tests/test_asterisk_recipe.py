"""Recipe lines evaluated without a shell, checked against the real /bin/sh: the words it passes to a command
and what its echo writes; every refusal with its full text and position."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from buildtool.asterisk import recipe
from buildtool.errors import InputError

needs_sh = pytest.mark.skipif(not shutil.which("sh"), reason="/bin/sh is the reference")

WORDS = [
    "a b\tc",
    '  "a b" c  ',
    "'x y'z \"\" ''",
    "a\\ b \\ ",
    '"q\\"uote" "back\\\\slash" "\\a" "\\$"',
    '"a"\'b\'c d"e"',
    "a\\\nb \"x\\\ny\"",
    'echo "<member name=\\"app_a\\" remove_on_change=\\"apps/app_a.o apps/app_a.so\\">"',
]


def sh_words(text: str) -> list[str]:
    """The words /bin/sh passes to a command for ``text``, each framed by NUL."""
    out = subprocess.run(["sh", "-c", "printf '%s\\0' " + text], capture_output=True, check=True).stdout
    return out.decode().split("\0")[:-1]


@needs_sh
@pytest.mark.parametrize("text", WORDS)
def test_words_are_the_shells(text):
    assert recipe.split_words(text, "Makefile", 3) == (sh_words(text), [])


@needs_sh
@pytest.mark.parametrize("args", ["a  b", "'<depend>x</depend>'", "", '"two  spaces" x\'\'', "-x -- a"])
def test_echo_writes_what_the_shells_echo_writes(args):
    command = recipe.parse("echo " + args, "Makefile", 1)
    expected = subprocess.run(["sh", "-c", "echo " + args], capture_output=True, check=True).stdout.decode()
    assert recipe.echo_output(command, "Makefile", 1) == expected


def test_redirections():
    assert recipe.parse("\t@+ -echo a b >> menuselect-tree", "M", 1) == recipe.Command("echo", ["a", "b"], ">>",
                                                                                      "menuselect-tree")
    assert recipe.parse("cat x>out", "M", 1) == recipe.Command("cat", ["x"], ">", "out")
    assert recipe.parse("awk -f s a.c", "M", 1) == recipe.Command("awk", ["-f", "s", "a.c"], None, None)
    assert recipe.split_words("echo a >> t", "M", 1) == (["echo", "a", "t"], [(">>", 2)])


def test_prefixes_are_stripped_only_at_the_start():
    assert recipe.strip_prefixes("\t @ - +echo a-b + ") == "echo a-b + "
    assert recipe.strip_prefixes("-@echo") == "echo"


def refusal(text: str, function=recipe.parse) -> str:
    with pytest.raises(InputError) as caught:
        function(text, "apps/Makefile", 12)
    return str(caught.value)


LONG = "echo " + "x" * 90 + " $(y)"


@pytest.mark.parametrize("text, why", [
    ("echo $HOME", "'$' would be expanded by the shell"),
    ("echo `id`", "'`' would be expanded by the shell"),
    ('echo "a $b"', "'$' would be expanded by the shell"),
    ('echo "a `b`"', "'`' would be expanded by the shell"),
    ('echo "a \\$b `c`"', "'`' would be expanded by the shell"),
    ("echo *.c", "'*' would be matched against file names by the shell"),
    ("echo a?", "'?' would be matched against file names by the shell"),
    ("echo [ab]", "'[' would be matched against file names by the shell"),
    ('echo "open', "unterminated quote"),
    ("echo 'open", "unterminated quote"),
    ("echo a | cat", "shell operator '|'"),
    ("echo a; echo b", "shell operator ';'"),
    ("echo a & b", "shell operator '&'"),
    ("(echo a)", "shell operator '('"),
    ("echo a > x >> y", "two redirections"),
    ("echo > x y", "redirection not last"),
    ("echo a >", "redirection not last"),
    (LONG, "'$' would be expanded by the shell"),
    ('echo "' + "x" * 90 + ' $y"', "'$' would be expanded by the shell"),
    ("echo " + "x" * 90 + " > a > b", "two redirections"),
    ("echo " + "x" * 90 + " > a b", "redirection not last"),
])
def test_refused_shapes_name_the_line_and_why(text, why):
    shown = repr(text.strip()[:80])
    assert refusal(text) == f"apps/Makefile:12:1: error: recipe shape not understood ({why}): {shown}"


def test_empty_line():
    assert refusal("  @ ") == "apps/Makefile:12:1: error: empty recipe line: '@'"
    assert refusal(" @" + " " * 90) == "apps/Makefile:12:1: error: empty recipe line: '@'"
    assert refusal("@-" * 45) == f"apps/Makefile:12:1: error: empty recipe line: {'@-' * 40!r}"


@pytest.mark.parametrize("flag", ["-n", "-e", "-E"])
def test_echo_options_are_refused(flag):
    command = recipe.parse(f"echo {flag} a >> t", "apps/Makefile", 12)
    assert refusal(command, recipe.echo_output) == (
        f"apps/Makefile:12:1: error: echo {flag} is not understood (it differs between shells)")


def test_echo_backslash_is_refused():
    command = recipe.parse("echo 'a\\tb'", "apps/Makefile", 12)
    assert refusal(command, recipe.echo_output) == ("apps/Makefile:12:1: error: a backslash in echo's output "
                                                    "differs between dash and bash; not evaluated")
    assert recipe.echo_output(recipe.parse("echo a -n", "M", 1), "M", 1) == "a -n\n"

"""Asterisk's awk extractors and display-name pipeline against the real awk, grep, head and cut, on the inputs
that steer their state: a <support_level> line before or on an opener's line, an opener's literal on a line
the opener does not match, blocks spread over several files, programs written with blank lines and comments."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from buildtool.asterisk import awk
from helpers.asterisk import GET_MAKEOPTS, GET_MODULEINFO

pytestmark = pytest.mark.skipif(not (shutil.which("awk") and shutil.which("grep") and shutil.which("cut")),
                                reason="awk, grep and cut are the reference")

PIECES = ["/*** MODULEINFO", "***/", "<support_level>core</support_level>", "\t<depend>a</depend>",
          "<support_level>early</support_level> /*** MODULEINFO", "/*** MODULEINFO <support_level>x</support_level>",
          "MODULEINFO is mentioned here", "/** MODULEINFO", "MAKEOPTS alone", "/*** MAKEOPTS", "text", ""]
# The same programs as written with blank lines, comments and indentation: awk ignores them, so must parse.
SPACED = {
    "get_moduleinfo": "# extract the block\n\n" + GET_MODULEINFO.replace("\n", "\n\n  # a comment\n", 1),
    "get_makeopts": "\n\t# extract MAKEOPTS\n" + GET_MAKEOPTS + "\n",
}


def real_awk(program, files) -> str:
    return subprocess.run(["awk", "-f", str(program), *map(str, files)], capture_output=True,
                          check=True).stdout.decode("latin-1")


def test_state_steering_lines_against_real_awk(tmp_path):
    rng = random.Random(15)
    programs = {}
    for name, text in SPACED.items():
        (tmp_path / name).write_text(text)
        programs[name] = awk.parse(text)
        assert programs[name] is not None, name
    assert programs["get_moduleinfo"] == awk.parse(GET_MODULEINFO)
    assert programs["get_makeopts"] == awk.parse(GET_MAKEOPTS)
    for case in range(40):
        files = []
        for index in range(rng.randint(1, 3)):
            lines = [rng.choice(PIECES) for _ in range(rng.randint(1, 14))]
            path = tmp_path / f"c{case}_{index}.c"
            path.write_text("\n".join(lines) + ("\n" if rng.random() < 0.8 else ""), encoding="latin-1")
            files.append(path)
        texts = [p.read_bytes().decode("latin-1") for p in files]
        for name, program in programs.items():
            assert program.run(texts) == real_awk(tmp_path / name, files), (name, texts)


def test_support_level_on_an_earlier_opener_line_does_not_count(tmp_path):
    text = ("/*** MODULEINFO <support_level>x</support_level>\n\t<depend>a</depend>\n***/\n"
            "/*** MODULEINFO\n<support_level>core</support_level>\n***/\n")
    (tmp_path / "p").write_text(GET_MODULEINFO)
    (tmp_path / "a.c").write_text(text)
    expected = "\t<depend>a</depend>\n<support_level>core</support_level>\n"
    assert real_awk(tmp_path / "p", [tmp_path / "a.c"]) == expected
    assert awk.parse(GET_MODULEINFO).run([text]) == expected


@pytest.mark.parametrize("rules", [
    GET_MODULEINFO.replace("{printit=0}", "{printit=2}"),
    GET_MODULEINFO.replace("/.*/ {if (printit) print}", "/.*/ {print}"),
    GET_MODULEINFO + "/x/ {print}\n",
    "/MODULEINFO/ {printit=1; next}\n",
    "",
])
def test_other_programs_are_not_recognised(rules):
    assert awk.parse(rules) is None


def _grep_head_cut(path) -> str:
    """The display name as Asterisk's Makefile takes it: ``grep | head -n 1 | cut``."""
    return subprocess.run(f"grep -e AST_MODULE_INFO {path} | head -n 1 | cut -d '\"' -f 2", shell=True,
                          capture_output=True, check=True).stdout.decode().rstrip("\n")


@pytest.mark.parametrize("text", [
    "\nAST_MODULE_INFO(no quote)\n",
    "x\nAST_MODULE_INFO(K)",
    'AST_MODULE_INFO(K, "one quote\n',
    '\n\nAST_MODULE_INFO_STANDARD(K, "Two");',
])
def test_display_name_edge_lines_match_grep_head_cut(tmp_path, text):
    path = tmp_path / "m.c"
    path.write_text(text)
    shell = _grep_head_cut(path)
    assert awk.display_name(text) == shell


# Each case: the files of one awk invocation. Beside the random mix above, the shapes that sit on a boundary of
# the skipping: a block that goes on into a file starting with an empty line, a <support_level> line at the very
# start of a file, the opener on the first line or after several, a close line with no newline at the end of a
# file, a <support_level> line after a closed block, with and without a later block.
STEERING = [
    ["/*** MODULEINFO\n\t<depend>a</depend>\n", "\n\t<depend>b</depend>\n***/\ntext\n"],
    ["/*** MODULEINFO", "\n<support_level>core</support_level>\n***/\n"],
    ["<support_level>early</support_level>\ntext\n/*** MODULEINFO\n<support_level>core</support_level>\n"
     "\t<depend>a</depend>\n***/\n"],
    ["text\ntext\n\n/*** MODULEINFO\n\t<depend>a</depend>\n***/"],
    ["/*** MODULEINFO\n\t<depend>a</depend>\n***/\n<support_level>late</support_level>\n",
     "/*** MODULEINFO\n<support_level>core</support_level>\n***/\n"],
    ["/*** MODULEINFO\n\t<depend>a</depend>\n***/\n<support_level>late</support_level>\n/*** MODULEINFO\n"
     "<support_level>core</support_level>\n***/\n"],
    ["/*** MAKEOPTS\n<support_level>a</support_level>\n<support_level>b</support_level>\n***/\n"],
    ["x /*** MODULEINFO\n<support_level>a</support_level>\n\n***/\n/*** MODULEINFO ***/\n\t<depend>c</depend>\n"],
]


@pytest.mark.parametrize("texts", STEERING)
def test_boundary_shapes_against_real_awk(tmp_path, texts):
    files = []
    for index, text in enumerate(texts):
        files.append(tmp_path / f"f{index}.c")
        files[-1].write_text(text)
    outputs = {}
    for name, program_text in SPACED.items():
        (tmp_path / name).write_text(program_text)
        outputs[name] = (awk.parse(program_text).run(texts), real_awk(tmp_path / name, files))
    assert {name: mine for name, (mine, _) in outputs.items()} == {name: theirs for name, (_, theirs) in outputs.items()}
    assert any(theirs for _, theirs in outputs.values())  # the case prints something: it means something


@pytest.mark.parametrize("text", [
    'static int x;\n/* a "comment" */\nAST_MODULE_INFO_STANDARD(K, "First");\n'
    'AST_MODULE_INFO(K, "Second")\nint y;\n"z"\n',
    'a\nb\nc AST_MODULE_INFO(K, "Late", x) "more"\nd\ne "f"\n',
])
def test_display_name_takes_the_first_matching_line_whole(tmp_path, text):
    path = tmp_path / "m.c"
    path.write_text(text)
    shell = _grep_head_cut(path)
    assert awk.display_name(text) == shell
    assert shell in ("First", "Late")

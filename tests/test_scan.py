"""The scanner over the fixture trees in tests/fixtures/scan: exact diagnostics,
exact tree contents, the real CLI (exit codes, stderr format, -o), determinism,
and the menuselect XML form.

Every fixture folder tests one thing; ``good`` scans with zero diagnostics.
Paths are given relative to the fixture root (the tests chdir there), so the
paths in diagnostics and in the tree are exact.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from buildtool import catalog as catalog_mod
from buildtool import cli, treefile
from buildtool.extract import find_blocks
from buildtool.moduleinfo import parse_block
from buildtool.scan import SourceFile, scan, scan_source

FIXTURES = Path(__file__).parent / "fixtures" / "scan"
CATALOGS = ["catalog.toml", "menuselect-deps.in", "cflags.xml"]
CATALOG_ARGS = [arg for c in CATALOGS for arg in ("--catalog", c)]
GOOD = ["good/apps", "good/channels", "good/funcs", "good/res"]
RENDERED = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|note): "
                      r"(?P<msg>.+) \[(?P<code>[a-z][a-z0-9-]*)\]$")


@pytest.fixture(autouse=True)
def _in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES)


def run_cli(*args: str, cwd: Path = FIXTURES) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONHASHSEED", None)
    return subprocess.run([sys.executable, "-m", "buildtool", "scan", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=120)


def full_catalog():
    return catalog_mod.load_all(CATALOGS)


def summary(tree) -> list[tuple]:
    return [(d.path, d.line, d.column, d.severity.value, d.code) for d in tree.diagnostics]


# --------------------------------------------------------------------------- exact diagnostics per scenario

# scenario: (paths, use the catalogues, expected (path, line, column, severity, code), exit status)
SCENARIOS = {
    "good": (GOOD, True, [], 0),
    "crlf": (["crlf"], False, [], 0),
    "latin1": (["latin1"], False, [], 0),
    "decoys": (["decoys"], False, [], 0),
    "decoys-only": (["decoys-only"], False, [("decoys-only/app_nothing.c", 1, 1, "warning", "block-missing")], 0),
    "block-missing": (["block-missing"], False,
                      [("block-missing/app_noblock.c", 1, 1, "warning", "block-missing")], 0),
    "block-unterminated": (["block-unterminated"], False,
                           [("block-unterminated/app_open.c", 3, 1, "error", "block-unterminated")], 1),
    "block-empty": (["block-empty"], False, [
        ("block-empty/app_empty.c", 2, 1, "error", "block-empty"),
        ("block-empty/app_empty_inline.c", 1, 1, "error", "block-empty"),
    ], 1),
    "block-duplicate": (["block-duplicate"], False,
                        [("block-duplicate/app_two.c", 5, 1, "error", "block-duplicate")], 1),
    "block-encoding": (["block-encoding"], False, [
        ("block-encoding/app_latin1_block.c", 1, 16, "warning", "block-encoding"),
        ("block-encoding/app_latin1_block.c", 3, 15, "warning", "unknown-name"),
    ], 0),
    "xml-dtd": (["xml-dtd"], False, [
        ("xml-dtd/app_billion_laughs.c", 2, 1, "error", "xml-dtd"),
        ("xml-dtd/app_doctype.c", 1, 17, "error", "xml-dtd"),
        ("xml-dtd/app_xxe.c", 3, 2, "error", "xml-dtd"),
    ], 1),
    "xml-syntax": (["xml-syntax"], False, [
        ("xml-syntax/app_entity.c", 2, 15, "error", "xml-syntax"),
        ("xml-syntax/app_mismatch.c", 1, 36, "error", "xml-syntax"),
        ("xml-syntax/app_unclosed.c", 4, 2, "error", "xml-syntax"),
    ], 1),
    "stray-text": (["stray-text"], False, [
        ("stray-text/app_stray.c", 2, 2, "warning", "stray-text"),
        ("stray-text/app_stray_tail.c", 2, 28, "warning", "stray-text"),
        ("stray-text/app_stray_tail.c", 4, 2, "warning", "stray-text"),
    ], 0),
    "unknown-tag": (["unknown-tag"], False, [
        ("unknown-tag/app_unknown_tag.c", 3, 2, "warning", "unknown-tag"),
        ("unknown-tag/app_unknown_tag.c", 4, 2, "warning", "unknown-tag"),
    ], 0),
    "unknown-attribute": (["unknown-attribute"], False, [
        ("unknown-attribute/app_unknown_attr.c", line, 2, "warning", "unknown-attribute") for line in (2, 3, 4, 5, 6)
    ], 0),
    "duplicate-tag": (["duplicate-tag"], False,
                      [("duplicate-tag/app_dup_tag.c", 3, 2, "warning", "duplicate-tag")], 0),
    "empty-value": (["empty-value"], False, [
        ("empty-value/app_empty_value.c", line, 2, "error", "empty-value") for line in (2, 3, 4)
    ], 1),
    "bad-name": (["bad-name"], False, [
        ("bad-name/app_bad_name.c", 2, 10, "error", "bad-name"),
        ("bad-name/app_bad_name.c", 3, 7, "error", "bad-name"),
    ], 1),
    "bad-value": (["bad-value"], False, [
        ("bad-value/app_bad_value.c", 2, 17, "error", "bad-value"),
        ("bad-value/app_bad_value.c", 3, 18, "error", "bad-value"),
    ], 1),
    "unknown-name": (["unknown-name"], False, [
        ("unknown-name/app_typo.c", 2, 10, "error", "unknown-name"),
        ("unknown-name/app_typo.c", 3, 7, "warning", "unknown-name"),
        ("unknown-name/app_typo.c", 4, 12, "warning", "unknown-name"),
        ("unknown-name/app_typo.c", 5, 11, "warning", "unknown-name"),
        ("unknown-name/app_typo.c", 6, 15, "warning", "unknown-name"),
    ], 1),
    "unknown-use": (["unknown-use"], False,
                    [("unknown-use/app_use_unknown.c", 2, 7, "warning", "unknown-name")], 0),
    "missing-module": (["missing-module"], False, [
        ("missing-module/app_missing.c", 2, 24, "error", "missing-module"),
        ("missing-module/app_missing.c", 3, 21, "warning", "missing-module"),
    ], 1),
    "self-dependency": (["self-dependency"], False,
                        [("self-dependency/res_self.c", 2, 10, "error", "self-dependency")], 1),
    "dependency-cycle": (["dependency-cycle"], False,
                         [("dependency-cycle/res_a.c", 2, 10, "error", "dependency-cycle")], 1),
    "duplicate-module": (["duplicate-module/one", "duplicate-module/two"], False,
                         [("duplicate-module/two/res_x.c", 1, 1, "error", "duplicate-module")], 1),
    "platform-dependency": (["platform-dependency"], True,
                            [("platform-dependency/app_win.c", 2, 10, "warning", "platform-dependency")], 0),
    "crlf-positions": (["crlf-positions"], False, [
        ("crlf-positions/app_crlf_bad.c", 6, 18, "error", "bad-value"),
        ("crlf-positions/app_crlf_bad.c", 7, 10, "error", "unknown-name"),
    ], 1),
    "io-error": (["does-not-exist"], False, [("does-not-exist", 0, 0, "error", "io-error")], 2),
}

ALL_CODES = {
    "io-error", "block-missing", "block-unterminated", "block-empty", "block-duplicate", "block-encoding",
    "xml-dtd", "xml-syntax", "stray-text", "unknown-tag", "unknown-attribute", "duplicate-tag", "empty-value",
    "bad-name", "bad-value", "unknown-name", "missing-module", "self-dependency", "dependency-cycle",
    "duplicate-module", "platform-dependency",
}


def test_scenarios_cover_every_code():
    seen = {expected[4] for _, _, diags, _ in SCENARIOS.values() for expected in diags}
    assert seen == ALL_CODES


def test_every_fixture_folder_is_a_scenario():
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    named = {Path(p).parts[0] for paths, *_ in SCENARIOS.values() for p in paths} - {"does-not-exist"}
    assert folders == named


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_diagnostics(name):
    paths, with_catalog, expected, _ = SCENARIOS[name]
    tree = scan(paths, full_catalog() if with_catalog else None)
    assert summary(tree) == expected


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_cli(name):
    paths, with_catalog, expected, status = SCENARIOS[name]
    result = run_cli(*(CATALOG_ARGS if with_catalog else []), *paths)
    assert result.returncode == status, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected)
    got = []
    for line in lines:
        match = RENDERED.match(line)
        assert match, f"not compiler style: {line!r}"
        got.append((match["path"], int(match["line"]), int(match["col"]), match["sev"], match["code"]))
    assert got == expected


# --------------------------------------------------------------------------- messages that matter

def messages(paths, with_catalog=False):
    tree = scan(paths, full_catalog() if with_catalog else None)
    return [(d.line, d.code, d.message) for d in tree.diagnostics]


def test_depend_typo_suggests_the_module():
    msgs = messages(["unknown-name"])
    assert msgs[0] == (2, "unknown-name",
                       "<depend>res_pjsp</depend>: 'res_pjsp' is not a module of the scanned tree, a core built-in, "
                       "a library, a build option or an interface; did you mean 'res_pjsip'?")
    # A far-off name gets no suggestion; the replacement typo gets the module.
    assert "did you mean" not in msgs[1][2]
    assert msgs[4][2].endswith("did you mean 'app_replacement'?")


def test_enhance_of_a_library_never_suggests_itself():
    # <enhance>zlib</enhance>: zlib is no module; "did you mean 'zlib'" would be nonsense.
    line, code, message = messages(["unknown-name"])[3]
    assert (line, code) == (5, "unknown-name")
    assert message == "<enhance>zlib</enhance>: 'zlib' is not a module of the scanned tree"


def test_cycle_message_and_data():
    tree = scan(["dependency-cycle"])
    (diag,) = tree.diagnostics
    assert diag.message == "required dependency cycle: res_a -> res_b -> res_c -> res_a"
    assert diag.to_json()["cycle"] == ["res_a", "res_b", "res_c", "res_a"]
    # res_d needs res_a (outside the cycle); res_d <-> res_d_opt is optional only: no cycle there.
    assert tree.modules["res_d"].requires == ("res_a",)
    assert tree.modules["res_d"].optional_modules == ("res_d_opt",)
    assert tree.modules["res_d_opt"].optional_modules == ("res_d",)


def test_duplicate_module_message():
    (diag,) = scan(["duplicate-module/two", "duplicate-module/one"]).diagnostics
    assert diag.message == ("module name 'res_x' is also used by duplicate-module/one/res_x.c; "
                            "module names (file stems) must be unique")


def test_same_file_named_twice_is_one_source():
    tree = scan(["self-dependency", "./self-dependency", "self-dependency/res_self.c"])
    assert [d.code for d in tree.diagnostics] == ["self-dependency"]
    assert list(tree.modules) == ["res_self"]


def test_stray_text_names_the_lost_text():
    assert [m for _, _, m in messages(["stray-text"])] == [
        "text outside any tag is ignored: 'depends on nothing'",
        "text outside any tag is ignored: ', app_lost'",
        "text outside any tag is ignored: 'also lost'",
    ]


def test_unknown_attribute_messages():
    assert [m for _, _, m in messages(["unknown-attribute"])] == [
        "unknown attribute 'optional' on <depend> is ignored",
        'unknown type="library" on <use>; expected one of module, external, interface, option, builtin; '
        "the name is classified as if untyped",
        '<provide> names an interface; type="module" is ignored',
        "unknown attribute 'type' on <enhance> is ignored",
        "unknown attribute 'level' on <support_level> is ignored",
    ]
    tree = scan(["unknown-attribute"])
    m = tree.modules["app_unknown_attr"]
    assert m.requires == ("app_unknown_attr_base",)
    assert m.provides == ("iface_x",)
    assert m.optional_modules == ()  # <use type="library"> of a module it also requires
    assert m.enhances == ("app_unknown_attr_base",)
    assert m.support_level == "core"


def test_platform_conflict_needs_the_catalogue():
    without = scan(["platform-dependency"])
    assert summary(without) == [
        ("platform-dependency/app_win.c", 2, 10, "error", "unknown-name"),
        ("platform-dependency/app_win.c", 3, 12, "warning", "unknown-name"),
    ]
    with_catalog = scan(["platform-dependency"], full_catalog())
    assert with_catalog.modules["app_win"].conflicts == ("win32",)


def test_good_tree_without_catalogue_has_unknown_libraries():
    tree = scan(GOOD)
    unknown = sorted({d.message.split("'")[1] for d in tree.diagnostics if d.code == "unknown-name"})
    assert unknown == ["OPTIONAL_API", "TEST_FRAMEWORK", "cdr", "curl", "http", "pjproject", "sorcery", "spandsp",
                       "win32", "zlib"]


# --------------------------------------------------------------------------- DTDs and entities: refused, never expanded

def test_billion_laughs_and_xxe_are_refused_not_expanded():
    result = run_cli("--format", "json", "xml-dtd")
    assert result.returncode == 1
    assert "lollol" not in result.stdout
    assert "root:" not in result.stdout and "root:" not in result.stderr
    data = json.loads(result.stdout)
    for name in ("app_billion_laughs", "app_doctype", "app_xxe"):
        m = data["modules"][name]
        assert m["requires"] == [] and m["libraries"] == {"optional": [], "required": []}
        assert m["support_level"] is None
    messages_ = [d["message"] for d in data["diagnostics"]]
    assert messages_ == [
        "<!DOCTYPE> is not allowed in MODULEINFO (no DTDs, no entity declarations)",
        "<!doctype> is not allowed in MODULEINFO (no DTDs, no entity declarations)",
        "<!ENTITY> is not allowed in MODULEINFO (no DTDs, no entity declarations)",
    ]


def test_undefined_entity_reference_is_a_syntax_error():
    source = SourceFile("x/app_e.c", "app_e", "x")
    item, diags = scan_source(source, b"/*** MODULEINFO\n<depend>&ent;</depend>\n***/\n")
    assert [(d.code, d.line) for d in diags] == [("xml-syntax", 2)]
    assert item.decl is not None and item.decl.names == []


def test_predefined_and_character_entities_are_text():
    source = SourceFile("x/app_e.c", "app_e", "x")
    item, diags = scan_source(source, b"/*** MODULEINFO\n<depend>res&#95;a</depend><replacement>a&amp;b</replacement>\n***/")
    assert diags == []
    assert [r.name for r in item.decl.names] == ["res_a"]
    assert item.decl.scalars["replacement"][0] == "a&b"


# --------------------------------------------------------------------------- extraction edge cases

def test_decoys_are_not_blocks():
    text = (FIXTURES / "decoys/app_decoy.c").read_bytes().decode("latin-1")
    blocks, diags = find_blocks(text, "decoys/app_decoy.c")
    assert diags == []
    (block,) = blocks
    assert (block.line, block.column, block.content_line, block.content_column) == (6, 1, 6, 16)
    assert "<depend>app_decoy_base</depend>" in block.text
    assert "nope" not in block.text


def test_crlf_and_latin1_trees():
    crlf = scan(["crlf"])
    assert (FIXTURES / "crlf/res_crlf.c").read_bytes().count(b"\r\n") > 10
    assert crlf.modules["res_crlf"].requires == ("res_crlf_base",)
    assert crlf.modules["res_crlf"].line == 4
    assert crlf.modules["res_crlf"].support_level == "core"
    latin = scan(["latin1"])
    data = (FIXTURES / "latin1/res_latin1.c").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert latin.modules["res_latin1"].requires == ("res_latin1_base",)
    assert latin.modules["res_latin1"].support_level == "extended"
    assert latin.modules["res_latin1"].line == 5


def test_non_utf8_block_is_read_as_latin1():
    tree = scan(["block-encoding"])
    m = tree.modules["app_latin1_block"]
    assert m.replacement == "app_caf\u00e9"
    assert m.support_level == "core"


def test_broken_blocks_leave_an_empty_module():
    tree = scan(["block-unterminated", "block-empty", "block-missing"])
    for name in ("app_open", "app_empty", "app_empty_inline", "app_noblock"):
        m = tree.modules[name]
        assert m.line == 0 and m.requires == () and m.support_level is None


def test_second_block_is_ignored():
    m = scan(["block-duplicate"]).modules["app_two"]
    assert m.support_level == "core" and m.requires == () and m.libraries_required == ()


def test_duplicate_tag_last_one_counts():
    assert scan(["duplicate-tag"]).modules["app_dup_tag"].support_level == "extended"


# --------------------------------------------------------------------------- exact tree contents

def module_json(name, category, **fields):
    base = {
        "builtins": [], "category": category, "conflicts": [], "default_enabled": True, "deprecated_in": None,
        "displayname": "",
        "enhances": [], "libraries": {"optional": [], "required": []}, "line": 1, "name": name, "names": [],
        "optional_modules": [], "options": {"optional": [], "required": []}, "provides": [], "removed_in": None,
        "replacement": None, "requires": [], "source": f"good/{category}/{name}.c", "support_level": "core",
        "interfaces": {"optional": [], "required": []},
    }
    for key, value in fields.items():
        base[key] = value
    return base


GOOD_MODULES = {
    "app_new": module_json("app_new", "apps", libraries={"optional": ["zlib"], "required": []},
                           options={"optional": [], "required": ["OPTIONAL_API"]}),
    "app_old": module_json("app_old", "apps", support_level="deprecated", deprecated_in="19", removed_in="21",
                           replacement="app_new"),
    "chan_pjsip": module_json(
        "chan_pjsip", "channels",
        builtins=["cdr"], conflicts=["app_old", "win32"],
        libraries={"optional": ["zlib"], "required": ["pjproject"]},
        optional_modules=["res_fax", "res_statsd"],
        options={"optional": [], "required": ["TEST_FRAMEWORK"]},
        requires=["res_pjsip", "res_pjsip_session"],
        interfaces={"optional": ["sip_auth", "sorcery"], "required": ["sip"]}),
    "func_cpp": module_json("func_cpp", "funcs", source="good/funcs/func_cpp.cc", support_level="extended"),
    "func_curl": module_json("func_curl", "funcs", conflicts=["app_old"], support_level="external",
                             libraries={"optional": [], "required": ["curl"]}),
    "res_fax": module_json("res_fax", "res", interfaces={"optional": ["sorcery_cache"], "required": []}),
    "res_fax_spandsp": module_json("res_fax_spandsp", "res", enhances=["res_fax"], requires=["res_fax"],
                                   libraries={"optional": [], "required": ["spandsp"]}, support_level="extended"),
    "res_pjsip": module_json("res_pjsip", "res", provides=["sip", "sip_auth"],
                             libraries={"optional": ["sqlite3"], "required": ["crypto", "pjproject"]}),
    "res_pjsip_session": module_json("res_pjsip_session", "res", requires=["res_pjsip", "res_sorcery_memory"],
                                     libraries={"optional": [], "required": ["pjproject"]}),
    "res_sorcery_memory": module_json("res_sorcery_memory", "res", provides=["sorcery_cache"], builtins=["http"]),
    # <use type="builtin">cdr</use>: a built-in is required at load time (docs/scanner.md, "builtin").
    "res_statsd": module_json("res_statsd", "res", default_enabled=False, support_level="extended",
                              options={"optional": ["OPTIONAL_API"], "required": []}, builtins=["cdr"]),
}


def test_good_tree_exact():
    tree = scan(GOOD, full_catalog())
    assert tree.to_json() == {"schema": 4, "modules": GOOD_MODULES, "diagnostics": []}


def test_good_tree_cli_json_exact():
    result = run_cli(*CATALOG_ARGS, "--format", "json", *GOOD)
    assert result.returncode == 0 and result.stderr == ""
    assert json.loads(result.stdout) == {"schema": 4, "modules": GOOD_MODULES, "diagnostics": []}


def test_good_tree_text_summary():
    result = run_cli(*CATALOG_ARGS, *GOOD)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[-1] == "11 modules, 0 errors, 0 warnings"
    assert lines[2] == ("chan_pjsip [core]  requires: res_pjsip, res_pjsip_session  optional: res_fax, res_statsd  "
                        "interfaces: sip, sip_auth?, sorcery?  libraries: pjproject, zlib?  options: TEST_FRAMEWORK  "
                        "builtins: cdr  conflicts: app_old, win32")


def test_headers_and_other_files_are_not_sources():
    tree = scan(["good/funcs"], full_catalog())
    assert sorted(tree.modules) == ["func_cpp", "func_curl"]


def test_a_single_file_argument():
    tree = scan(["good/res/res_fax.c"], full_catalog())
    assert list(tree.modules) == ["res_fax"]
    assert tree.modules["res_fax"].category == "res"


# --------------------------------------------------------------------------- CLI exit status 2, stderr format

def test_usage_errors_exit_2():
    expected = {(): "buildtool scan: error: the following arguments are required: PATH",
                ("--format", "yaml", "good/res"): "buildtool scan: error: argument --format: invalid choice: 'yaml'",
                ("--bogus", "good/res"): "buildtool: error: unrecognized arguments: --bogus"}
    for args, message in expected.items():
        result = run_cli(*args)
        assert result.returncode == 2 and result.stdout == "", args
        assert result.stderr.startswith("usage: ") and message in result.stderr, args


def test_missing_catalogue_exits_2():
    result = run_cli("--catalog", "nope.toml", "good/res")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "nope.toml:0:0: error: cannot read catalogue: No such file or directory\n"


def test_bad_catalogue_exits_2_with_position(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('options = ["A"]\nlibraries = 3\n')
    result = run_cli("--catalog", str(bad), "good/res")
    assert result.returncode == 2
    assert result.stderr == f"{bad}:2:1: error: 'libraries' must be a table\n"


def test_stderr_exact_lines():
    result = run_cli("missing-module")
    assert result.returncode == 1
    assert result.stderr == (
        "missing-module/app_missing.c:2:24: error: <depend type=\"module\">res_gone</depend>: "
        "no module 'res_gone' is known [missing-module]\n"
        "missing-module/app_missing.c:3:21: warning: <use type=\"module\">res_also_gone</use>: "
        "no module 'res_also_gone' is known [missing-module]\n")


def test_warnings_only_exit_0_and_still_print():
    result = run_cli("unknown-use")
    assert result.returncode == 0
    assert result.stderr.endswith("[unknown-name]\n") and ": warning: " in result.stderr


# --------------------------------------------------------------------------- determinism

MANY = GOOD + ["crlf", "latin1", "decoys", "dependency-cycle", "unknown-name", "xml-dtd", "stray-text",
               "duplicate-module/one", "duplicate-module/two", "block-encoding"]


def test_json_runs_are_byte_identical():
    first = run_cli(*CATALOG_ARGS, "--format", "json", *MANY)
    second = run_cli(*CATALOG_ARGS, "--format", "json", *MANY)
    assert first.returncode == 1
    assert first.stdout == second.stdout and first.stderr == second.stderr


def test_argument_order_does_not_matter():
    reference = run_cli(*CATALOG_ARGS, "--format", "json", *MANY)
    rng = random.Random(1234)
    for _ in range(3):
        shuffled = MANY[:]
        rng.shuffle(shuffled)
        assert shuffled != MANY
        other = run_cli(*CATALOG_ARGS, "--format", "json", *shuffled)
        assert other.stdout == reference.stdout
        assert other.stderr == reference.stderr


def test_xml_and_text_are_deterministic_too():
    for fmt in ("xml", "text"):
        a = run_cli(*CATALOG_ARGS, "--format", fmt, *MANY)
        b = run_cli(*CATALOG_ARGS, "--format", fmt, *reversed(MANY))
        assert a.stdout == b.stdout


def _check_sorted_keys(pairs):
    keys = [k for k, _ in pairs]
    assert keys == sorted(keys), keys
    return dict(pairs)


def test_json_keys_sorted_lists_sorted_unique():
    result = run_cli(*CATALOG_ARGS, "--format", "json", *MANY)
    data = json.loads(result.stdout, object_pairs_hook=_check_sorted_keys)
    assert result.stdout == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    assert len(data["modules"]) > 20
    for name, m in data["modules"].items():
        assert m["name"] == name
        lists = [m["builtins"], m["conflicts"], m["enhances"], m["optional_modules"], m["provides"], m["requires"],
                 m["libraries"]["optional"], m["libraries"]["required"], m["options"]["optional"],
                 m["options"]["required"], m["interfaces"]["optional"], m["interfaces"]["required"]]
        for values in lists:
            assert values == sorted(set(values))
        # A required name is never listed as optional too.
        assert not set(m["requires"]) & set(m["optional_modules"])
        assert not set(m["interfaces"]["required"]) & set(m["interfaces"]["optional"])
    keys = [(d["path"], d["line"], d["column"], d["code"], d["message"]) for d in data["diagnostics"]]
    assert keys == sorted(set(keys))


# --------------------------------------------------------------------------- -o: atomic, change-only

def test_output_file_equals_stdout(tmp_path):
    out = tmp_path / "sub" / "tree.json"
    to_stdout = run_cli(*CATALOG_ARGS, "--format", "json", *GOOD)
    to_file = run_cli(*CATALOG_ARGS, "--format", "json", "-o", str(out), *GOOD)
    assert to_file.returncode == 0 and to_file.stdout == ""
    assert out.read_text() == to_stdout.stdout


def test_output_written_by_rename_and_only_when_changed(tmp_path):
    out = tmp_path / "tree.json"
    out.write_text("old contents\n")
    inode = out.stat().st_ino
    assert run_cli("--format", "json", "-o", str(out), "self-dependency").returncode == 1
    # Replaced through a new file (rename), not truncated and rewritten in place.
    assert out.stat().st_ino != inode
    assert json.loads(out.read_text())["modules"]["res_self"]["support_level"] == "core"
    stat = out.stat()
    assert run_cli("--format", "json", "-o", str(out), "self-dependency").returncode == 1
    again = out.stat()
    assert (again.st_ino, again.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree.json"]


def test_output_failure_leaves_no_half_file(tmp_path, monkeypatch, capsys):
    out = tmp_path / "tree.json"
    out.write_text("previous tree\n")
    real_replace = os.replace

    def failing_replace(src, dst):
        # The temporary file is complete at this point; fail the rename.
        assert Path(src).read_text().startswith("{")
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(os, "replace", failing_replace)
    status = cli.main(["scan", "--format", "json", "-o", str(out), "self-dependency"])
    monkeypatch.setattr(os, "replace", real_replace)
    assert status == 2
    assert out.read_text() == "previous tree\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree.json"]
    assert "error: No space left on device" in capsys.readouterr().err


def test_output_onto_a_directory_exits_2(tmp_path):
    target = tmp_path / "adir"
    target.mkdir()
    result = run_cli("--format", "json", "-o", str(target), "self-dependency")
    assert result.returncode == 2
    assert ": error: " in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir"]
    assert list(target.iterdir()) == []


def test_output_under_a_file_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("--format", "json", "-o", str(blocker / "tree.json"), "self-dependency")
    assert result.returncode == 2
    assert result.stdout == "" and result.stderr.startswith(f"{blocker / 'tree.json'}: error: ")
    assert "Traceback" not in result.stderr
    assert blocker.read_text() == "x"


# --------------------------------------------------------------------------- menuselect XML

def test_menuselect_xml_categories_and_members():
    result = run_cli(*CATALOG_ARGS, "--format", "xml", *GOOD)
    assert result.returncode == 0
    root = etree.fromstring(result.stdout.encode("utf-8"))
    assert root.tag == "menu"
    categories = {c.get("displayname"): c for c in root.findall("category")}
    assert sorted(categories) == ["apps", "channels", "funcs", "res"]
    assert categories["res"].get("name") == "MENUSELECT_RES"
    members = {c: sorted(m.get("name") for m in el.findall("member")) for c, el in categories.items()}
    assert members == {
        "apps": ["app_new", "app_old"],
        "channels": ["chan_pjsip"],
        "funcs": ["func_cpp", "func_curl"],
        "res": ["res_fax", "res_fax_spandsp", "res_pjsip", "res_pjsip_session", "res_sorcery_memory", "res_statsd"],
    }
    (chan,) = categories["channels"].findall("member")
    assert chan.get("remove_on_change") == "channels/chan_pjsip.o channels/chan_pjsip.so"
    got = [(el.tag, el.get("type"), el.text) for el in chan]
    assert got == [
        ("support_level", None, "core"),
        ("depend", "module", "res_pjsip"),
        ("depend", "module", "res_pjsip_session"),
        ("depend", None, "pjproject"),
        ("depend", None, "TEST_FRAMEWORK"),
        ("use", "builtin", "cdr"),  # not <depend>: menuselect would drop the module (docs/scanner.md)
        ("depend", "interface", "sip"),
        ("use", "interface", "sip_auth"),
        ("use", "interface", "sorcery"),
        ("use", "module", "res_fax"),
        ("use", "module", "res_statsd"),
        ("use", "external", "zlib"),
        ("conflict", None, "app_old"),
        ("conflict", None, "win32"),
    ]
    statsd = categories["res"].xpath("member[@name='res_statsd']")[0]
    assert statsd.findtext("defaultenabled") == "no"
    old = categories["apps"].xpath("member[@name='app_old']")[0]
    assert [(el.tag, el.text) for el in old] == [("support_level", "deprecated"), ("deprecated_in", "19"),
                                                 ("removed_in", "21"), ("replacement", "app_new")]


def test_menuselect_xml_round_trips_through_the_scanner():
    """The XML's member bodies are MODULEINFO again: re-scanning them gives the same modules."""
    tree = scan(GOOD, full_catalog())
    root = etree.fromstring(treefile.to_menuselect_xml(tree).encode("utf-8"))
    cat = full_catalog()
    for member in root.iter("member"):
        body = "".join(etree.tostring(child, encoding="unicode") for child in member)
        source = SourceFile(f"{member.get('name')}.c", member.get("name"), "x")
        item, diags = scan_source(source, f"/*** MODULEINFO\n{body}\n***/\n".encode())
        assert diags == []
        original = {(r.tag, r.name) for r in parse_block(
            find_blocks((FIXTURES / tree.modules[item.name].source).read_text(), "x")[0][0], "x")[0].names}
        again = {(r.tag, r.name) for r in item.decl.names}
        # The XML keeps everything but optional names that are also required and library case
        # (normalized to the catalogue's spelling); a built-in is written <use type="builtin">,
        # which menuselect does not take for a build dependency.
        required = {n for t, n in original if t == "depend"}
        lowered = {("use" if n in cat.builtins else t, n.lower() if cat.library(n) else n) for t, n in original
                   if not (t == "use" and n in required)}
        assert again == lowered, item.name

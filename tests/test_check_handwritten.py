"""check --hand-written on the fixture that holds the real forms (tests/fixtures/handwritten)."""

from __future__ import annotations

from buildtool import handwritten
from test_check_helpers import FIXTURES, by_code, check_json

HW = FIXTURES / "handwritten"


def _report():
    return check_json("--hand-written", "--catalog", HW / "catalog.toml", HW)


def test_drift_findings_carry_field_and_both_lists():
    rc, report = _report()
    assert rc == 1
    drift = {(f["module"], f["field"]): f for f in by_code(report, "hand-written-drift")}
    assert set(drift) == {("res_multiline", "requires"), ("res_after_fields", "optional_modules"),
                          ("res_no_list", "requires"), ("res_enhancer", "enhances")}
    multi = drift[("res_multiline", "requires")]
    assert multi["only_in_hand_written"] == ["res_other"] and multi["only_in_moduleinfo"] == []
    assert multi["line"] == 14  # the field, inside the multi-line initializer
    after = drift[("res_after_fields", "optional_modules")]
    assert after["only_in_hand_written"] == ["res_other"] and after["line"] == 19
    none = drift[("res_no_list", "requires")]
    assert none["only_in_moduleinfo"] == ["res_base"] and none["only_in_hand_written"] == []
    assert drift[("res_enhancer", "enhances")]["only_in_hand_written"] == ["res_base"]


def test_concatenated_literals_that_agree_are_clean():
    _, report = _report()
    assert not [f for f in report["findings"] if f["module"] == "res_concat"]
    found = handwritten.find((HW / "res_concat.c").read_text())
    assert found.fields["requires"].names() == ("res_base", "res_other")


def test_core_builtins_have_their_own_code():
    _, report = _report()
    [builtin] = by_code(report, "hand-written-builtin")
    assert builtin["module"] == "res_builtins" and builtin["field"] == "requires"
    assert builtin["only_in_hand_written"] == ["cdr", "http"]
    assert builtin["not_in_catalogue"] == ["http"]  # the catalogue declares cdr only
    assert "<depend>cdr</depend>" in builtin["message"]
    # res_base, the module part of that list, agrees: no drift for res_builtins.
    assert not [f for f in by_code(report, "hand-written-drift") if f["module"] == "res_builtins"]


def test_without_the_flag_no_hand_written_findings():
    rc, report = check_json("--catalog", HW / "catalog.toml", HW)
    assert rc == 0 and not [f for f in report["findings"] if f["code"].startswith("hand-written")]


def test_standard_macro_and_description():
    assert handwritten.find((HW / "res_no_list.c").read_text()) is None
    found = handwritten.find_call((HW / "res_no_list.c").read_text())
    assert found.macro == "AST_MODULE_INFO_STANDARD" and found.fields == {}
    assert found.description == "No hand-written list"
    assert handwritten.find_call((HW / "res_concat.c").read_text()).description == "Concatenated literals"


def test_builtin_declared_in_moduleinfo_agrees_with_the_hand_written_list():
    # <depend>cdr</depend> + .requires = "cdr,res_base": MODULEINFO says everything the copy says.
    from buildtool.catalog import Catalog
    from buildtool.check.handwritten_drift import check_module
    from buildtool.model import Module, Tree
    base = Module(name="res_base", source="res_base.c", line=1)
    user = Module(name="res_user", source="res_user.c", line=1, requires=("res_base",), builtins=("cdr",))
    tree = Tree(modules={"res_base": base, "res_user": user})
    text = 'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "User", .requires = "cdr,res_base");\n'
    assert check_module(user, text, tree, Catalog(builtins={"cdr"})) == []
    # and the same list without the built-in in MODULEINFO is drift towards it, with its own code
    bare = Module(name="res_user", source="res_user.c", line=1, requires=("res_base",))
    [finding] = check_module(bare, text, tree, Catalog(builtins={"cdr"}))
    assert (finding.code, finding.data["only_in_hand_written"]) == ("hand-written-builtin", ["cdr"])

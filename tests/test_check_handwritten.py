"""check --hand-written on the fixture that holds the real forms (tests/fixtures/handwritten)."""

from __future__ import annotations

from buildtool import handwritten
from helpers.check import FIXTURES, by_code, check_json

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


# ------------------------------------------------------------------ the drift check in-process, exact findings

def _drift_of(module_kw: dict, info: str, catalog=None, others=("res_base", "res_other")):
    from buildtool.catalog import Catalog
    from buildtool.check.handwritten_drift import check
    from buildtool.model import Module, Tree
    modules = {n: Module(name=n, source=f"{n}.c", line=1) for n in others}
    user = Module(name="res_user", source="res_user.c", line=3, **module_kw)
    modules["res_user"] = user
    text = f'/*** MODULEINFO ***/\n\n#include "asterisk/module.h"\n{info}\n'
    return check(Tree(modules=modules), {"res_user": text.encode("latin-1")}, catalog or Catalog())


def _rows(findings):
    return [(f.path, f.line, f.column, f.severity.value, f.code, f.message, f.module, dict(f.data)) for f in findings]


def test_drift_both_ways_exact():
    info = 'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U",\n\t.requires = "res_other",\n);'
    assert _rows(_drift_of(dict(requires=("res_base",)), info)) == [
        ("res_user.c", 5, 2, "error", "hand-written-drift",
         'hand-written .requires = "res_other" disagrees with MODULEINFO (only in MODULEINFO: res_base; '
         "only hand-written: res_other)", "res_user",
         {"field": "requires", "only_in_moduleinfo": ["res_base"], "only_in_hand_written": ["res_other"]})]


def test_missing_field_while_moduleinfo_declares_it_exact():
    info = 'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U",\n\t.load = load_module,\n);'
    assert _rows(_drift_of(dict(optional_modules=("res_other", "res_base")), info)) == [
        ("res_user.c", 4, 1, "error", "hand-written-drift",
         "the info struct has no .optional_modules, but MODULEINFO declares res_base, res_other "
         '(add .optional_modules = "res_base,res_other" or inject it)', "res_user",
         {"field": "optional_modules", "only_in_moduleinfo": ["res_base", "res_other"], "only_in_hand_written": []})]
    # AST_MODULE_INFO_STANDARD (no fields at all): reported at the module's MODULEINFO line
    [finding] = _drift_of(dict(enhances=("res_base",)), 'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "U");')
    assert (finding.line, finding.column, finding.data["field"]) == (3, 1, "enhances")


def test_agreeing_and_empty_lists_are_clean():
    info = ('AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U", .requires = "res_base, cdr", '
            '.optional_modules = "res_other", .enhances = "")')
    from buildtool.catalog import Catalog
    assert _drift_of(dict(requires=("res_base",), builtins=("cdr",), optional_modules=("res_other",)), info,
                     Catalog(builtins={"cdr"})) == []
    assert _drift_of({}, 'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "U");') == []


def test_not_a_literal_is_a_warning_not_a_comparison():
    info = 'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U",\n\t.requires = DEPS,\n);'
    assert _rows(_drift_of(dict(requires=("res_base",)), info)) == [
        ("res_user.c", 5, 2, "warning", "hand-written-unreadable",
         "hand-written .requires = DEPS is not a string literal; it cannot be compared with MODULEINFO",
         "res_user", {"field": "requires"})]


def test_builtin_names_and_what_is_not_one():
    from buildtool.catalog import Catalog
    catalog = Catalog(builtins={"cdr"}, options={"TEST_FRAMEWORK"}, interfaces={"sorcery"}, platforms={"win32"})
    catalog.add_library("zlib")
    # cdr (declared) and http (undeclared, no "_", no other kind): built-ins; the rest are drift
    info = ('AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U",\n\t.requires = "cdr,http,res_base,res_other,res_nomod,'
            'zlib,TEST_FRAMEWORK,sorcery,win32",\n);')
    drift, builtin = _drift_of(dict(requires=("res_base",)), info, catalog)
    assert drift.code == "hand-written-drift"
    assert drift.data["only_in_hand_written"] == ["TEST_FRAMEWORK", "res_nomod", "res_other", "sorcery", "win32",
                                                  "zlib"]
    assert _rows([builtin]) == [
        ("res_user.c", 5, 2, "error", "hand-written-builtin",
         "hand-written .requires names core built-in cdr, http, which MODULEINFO does not declare: add "
         "<depend>cdr</depend> <depend>http</depend> to MODULEINFO and declare http in the catalogue's builtins "
         "(buildtool migrate does it)", "res_user",
         {"field": "requires", "only_in_hand_written": ["cdr", "http"], "only_in_moduleinfo": [],
          "not_in_catalogue": ["http"]})]
    # every built-in declared: no "declare ..." part; a built-in only counts in .requires
    info = 'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U", .requires = "cdr", .optional_modules = "http")'
    builtin, drift = _drift_of({}, info, catalog)
    assert builtin.code == "hand-written-builtin" and builtin.message.endswith(
        "add <depend>cdr</depend> to MODULEINFO (buildtool migrate does it)")
    assert builtin.data["not_in_catalogue"] == []
    assert drift.code == "hand-written-drift" and drift.data == {
        "field": "optional_modules", "only_in_moduleinfo": [], "only_in_hand_written": ["http"]}


def test_is_builtin_rules():
    from buildtool.catalog import Catalog
    from buildtool.check.handwritten_drift import is_builtin
    from buildtool.model import Module, Tree
    tree = Tree(modules={"cdrmod": Module(name="cdrmod", source="x.c", line=1)})
    catalog = Catalog(builtins={"res_declared"}, options={"OPT"}, interfaces={"iface"}, platforms={"win32"})
    catalog.add_library("zlib")
    assert is_builtin("res_declared", tree, catalog)           # declared wins even with a "_"
    assert is_builtin("http", tree, catalog)
    assert not is_builtin("cdrmod", tree, catalog)             # a module of the tree
    assert not is_builtin("res_x", tree, catalog)              # module-like name
    for name in ("zlib", "ZLIB", "OPT", "iface", "win32"):
        assert not is_builtin(name, tree, catalog), name


def test_sources_without_text_are_skipped_and_modules_come_sorted():
    from buildtool.catalog import Catalog
    from buildtool.check.handwritten_drift import check
    from buildtool.model import Module, Tree
    info = b'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U", .requires = "res_q")'
    modules = {n: Module(name=n, source=f"{n}.c", line=1) for n in ("res_b", "res_a", "res_c")}
    found = check(Tree(modules=modules), {"res_b": info, "res_a": info}, Catalog())
    assert [(f.module, f.code) for f in found] == [("res_a", "hand-written-drift"), ("res_b", "hand-written-drift")]


def test_lists_of_several_names_and_positions_without_a_struct():
    from buildtool.catalog import Catalog
    info = ('AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U",\n\t.requires = DEPS,\n'
            '\t.optional_modules = "res_p,res_q",\n\t.enhances = "http,udptl",\n);')
    unreadable, drift, enhances = _drift_of(dict(optional_modules=("res_base", "res_other")), info, Catalog(),
                                            others=("res_base", "res_other", "res_p", "res_q"))
    # a built-in-looking name in .enhances is drift: only .requires can name core built-ins
    assert enhances.code == "hand-written-drift" and enhances.data["only_in_hand_written"] == ["http", "udptl"]
    assert unreadable.code == "hand-written-unreadable"  # and the fields after it are still compared
    assert drift.message == ('hand-written .optional_modules = "res_p,res_q" disagrees with MODULEINFO '
                             "(only in MODULEINFO: res_base, res_other; only hand-written: res_p, res_q)")
    builtin_info = 'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U", .requires = "http,udptl")'
    [builtin] = _drift_of({}, builtin_info, Catalog())
    assert "and declare http, udptl in the catalogue's builtins" in builtin.message
    # no info struct at all, and no MODULEINFO line (0): reported at line 1
    from buildtool.check.handwritten_drift import check_module
    from buildtool.model import Module, Tree
    module = Module(name="res_user", source="res_user.c", line=0, requires=("res_base",))
    tree = Tree(modules={"res_user": module, "res_base": Module(name="res_base", source="b.c", line=1)})
    [finding] = check_module(module, "int x;\n", tree, Catalog())
    assert (finding.line, finding.column, finding.code) == (1, 1, "hand-written-drift")


def test_a_conditional_field_is_a_note_and_the_fields_after_it_are_still_compared():
    info = ('AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U",\n#ifdef HAVE_X\n\t.requires = "res_other",\n#endif\n'
            '\t.optional_modules = "res_base",\n);')
    assert _rows(_drift_of({}, info)) == [
        ("res_user.c", 6, 2, "note", "hand-written-conditional",
         'hand-written .requires = "res_other" holds only under #ifdef HAVE_X: a conditional dependency that '
         "MODULEINFO cannot express; it keeps precedence and migrate leaves it", "res_user",
         {"field": "requires", "condition": "#ifdef HAVE_X"}),
        ("res_user.c", 8, 2, "error", "hand-written-drift",
         'hand-written .optional_modules = "res_base" disagrees with MODULEINFO (only hand-written: res_base)',
         "res_user", {"field": "optional_modules", "only_in_moduleinfo": [], "only_in_hand_written": ["res_base"]}),
    ]


def test_under_injection_check_compares_only_the_written_lists():
    from buildtool.catalog import Catalog
    from buildtool.check.handwritten_drift import check
    from buildtool.model import Module, Tree
    modules = {n: Module(name=n, source=f"{n}.c", line=1) for n in ("res_base", "res_other")}
    modules["res_user"] = Module(name="res_user", source="res_user.c", line=1, requires=("res_base",))
    text = b'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "U",\n\t.optional_modules = "res_other",\n);\n'
    plain = check(Tree(modules=modules), {"res_user": text}, Catalog())
    injected = check(Tree(modules=modules), {"res_user": text}, Catalog(), injected=True)
    assert [(f.code, f.data["field"]) for f in plain] == [("hand-written-drift", "requires"),
                                                         ("hand-written-drift", "optional_modules")]
    assert [(f.code, f.data["field"], f.line) for f in injected] == [("hand-written-drift", "optional_modules", 2)]

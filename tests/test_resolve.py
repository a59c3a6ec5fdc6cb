"""The resolver (buildtool/resolve.py) in-process: what each name is, the exact diagnostics for the names
that are nothing known (with their did-you-mean), names from an installed tree, and cycles."""

from __future__ import annotations

from pathlib import Path

from buildtool.catalog import Catalog
from buildtool.model import Module, Tree
from buildtool.scan import scan


def catalog() -> Catalog:
    cat = Catalog(options={"TEST_FRAMEWORK"}, builtins={"cdr"}, interfaces={"sorcery"}, platforms={"win32"})
    cat.add_library("zlib")
    return cat


def write(directory: Path, name: str, body: str) -> None:
    (directory / f"{name}.c").write_text(f"/*** MODULEINFO\n{body}\n ***/\n")


def rows(tree):
    return [(Path(d.path).name, d.line, d.column, d.severity.value, d.code, d.module, d.message)
            for d in tree.diagnostics]


def test_typed_names_that_are_nothing_known(tmp_path):
    write(tmp_path, "res_a", '\t<depend type="interface">nope_if</depend>\n'
                             '\t<use type="option">NOPE_OPT</use>\n'
                             '\t<depend type="builtin">nope_bi</depend>\n'
                             '\t<depend type="module">zlib</depend>\n'
                             '\t<conflict>res_b</conflict>\n'
                             '\t<depend type="interface">sorcery</depend>\n'
                             '\t<use type="option">TEST_FRAMEWORK</use>\n'
                             '\t<depend type="builtin">cdr</depend>\n'
                             '\t<use type="external">whatever_lib</use>')
    write(tmp_path, "res_b", "\t<support_level>core</support_level>")
    tree = scan([str(tmp_path)], catalog())
    assert rows(tree) == [
        ("res_a.c", 2, 27, "error", "unknown-name", "res_a",
         "<depend type=\"interface\">nope_if</depend>: no interface 'nope_if' is known"),
        ("res_a.c", 3, 21, "warning", "unknown-name", "res_a",
         "<use type=\"option\">NOPE_OPT</use>: no build option 'NOPE_OPT' is known"),
        ("res_a.c", 4, 25, "error", "unknown-name", "res_a",
         "<depend type=\"builtin\">nope_bi</depend>: no core built-in 'nope_bi' is known"),
        # a library is not a module, and a module is suggested only from modules
        ("res_a.c", 5, 24, "error", "missing-module", "res_a",
         "<depend type=\"module\">zlib</depend>: no module 'zlib' is known"),
        ]
    a = tree.modules["res_a"]
    assert a.conflicts == ("res_b",)  # the names after a conflict are still read
    assert a.interfaces_required == ("sorcery",) and a.interfaces_optional == () and a.options_optional == ("TEST_FRAMEWORK",)
    assert a.builtins == ("cdr",) and a.libraries_optional == ("whatever_lib",)


def test_module_without_a_block(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "res_plain.c").write_text("int x;\n")
    tree = scan([str(tmp_path / "sub")], catalog())
    assert tree.modules["res_plain"] == Module(name="res_plain", source=str(tmp_path / "sub" / "res_plain.c"),
                                               line=0, category="sub")


def test_did_you_mean(tmp_path):
    write(tmp_path, "res_fax", "\t<support_level>core</support_level>")
    write(tmp_path, "res_user", "\t<depend>Zlibb</depend>\n"          # only case-insensitively close: zlib
                                "\t<depend>res_faxx</depend>\n"        # close to a module
                                "\t<depend>res_fox_zz</depend>\n"      # similar, but under the cutoff
                                '\t<depend type="module">zlibx</depend>\n'  # close to a library only
                                "\t<enhance>res_fa</enhance>\n"
                                "\t<depend>win32</depend>\n"
                                "\t<depend>res_user</depend>\n"
                                "\t<use>TEST_FRAMEWORK</use>\n"
                                "\t<replacement>res_fx</replacement>")
    tree = scan([str(tmp_path)], catalog())
    assert rows(tree) == [
        ("res_user.c", 2, 10, "error", "unknown-name", "res_user",
         "<depend>Zlibb</depend>: 'Zlibb' is not a module of the scanned tree, a core built-in, a library, a build "
         "option or an interface; did you mean 'zlib'?"),
        ("res_user.c", 3, 10, "error", "unknown-name", "res_user",
         "<depend>res_faxx</depend>: 'res_faxx' is not a module of the scanned tree, a core built-in, a library, a "
         "build option or an interface; did you mean 'res_fax'?"),
        ("res_user.c", 4, 10, "error", "unknown-name", "res_user",
         "<depend>res_fox_zz</depend>: 'res_fox_zz' is not a module of the scanned tree, a core built-in, a "
         "library, a build option or an interface"),
        ("res_user.c", 5, 24, "error", "missing-module", "res_user",
         "<depend type=\"module\">zlibx</depend>: no module 'zlibx' is known"),
        ("res_user.c", 6, 11, "warning", "unknown-name", "res_user",
         "<enhance>res_fa</enhance>: 'res_fa' is not a module of the scanned tree; did you mean 'res_fax'?"),
        ("res_user.c", 7, 10, "warning", "platform-dependency", "res_user",
         "<depend>win32</depend> names a platform; platforms are only meaningful in <conflict>"),
        ("res_user.c", 8, 10, "error", "self-dependency", "res_user", "module 'res_user' names itself in <depend>"),
        ("res_user.c", 10, 15, "warning", "unknown-name", "res_user",
         "<replacement>res_fx</replacement> is not a module of the scanned tree; did you mean 'res_fax'?")]
    user = tree.modules["res_user"]
    assert user.enhances == ("res_fa",) and user.requires == ()
    assert user.options_optional == ("TEST_FRAMEWORK",)  # read after the self-dependency


def test_names_from_an_installed_tree(tmp_path):
    installed = Tree(modules={
        "res_inst": Module(name="res_inst", source="res_inst.c", line=1, provides=("inst_if",), requires=("res_mine",)),
        "res_i1": Module(name="res_i1", source="res_i1.c", line=1, requires=("res_i2",)),
        "res_i2": Module(name="res_i2", source="res_i2.c", line=1, requires=("res_i1",))})
    write(tmp_path, "res_mine", '\t<depend>res_inst</depend>\n\t<depend type="interface">inst_if</depend>')
    tree = scan([str(tmp_path)], catalog(), installed)
    mine = tree.modules["res_mine"]
    assert mine.requires == ("res_inst",) and mine.interfaces_required == ("inst_if",) and mine.interfaces_optional == ()
    # the cycle through the installed module is reported on the scanned one, though res_inst sorts first;
    # the installed modules' own cycle is not this tree's to report
    assert rows(tree) == [("res_mine.c", 2, 10, "error", "dependency-cycle", "res_mine",
                           "required dependency cycle: res_mine -> res_inst -> res_mine")]
    assert tree.diagnostics[0].data == {"cycle": ["res_mine", "res_inst", "res_mine"]}
    assert list(tree.modules) == ["res_mine"]
    # without the installed tree, the same names are unknown
    alone = scan([str(tmp_path)], catalog())
    assert [(d.code, d.line) for d in alone.diagnostics] == [("unknown-name", 2), ("unknown-name", 3)]


def test_a_typed_name_known_only_as_another_kind(tmp_path):
    # type= forces the kind: a built-in typed as an interface, a library typed as an option and an interface
    # typed as a built-in are each unknown, not taken for what the name is known as. Suggestions for
    # <enhance> and <replacement> come from modules only: the library zlib is close, yet not offered.
    write(tmp_path, "res_a", '\t<depend type="interface">cdr</depend>\n'
                             '\t<use type="option">zlib</use>\n'
                             '\t<depend type="builtin">sorcery</depend>\n'
                             '\t<conflict>nothing_known</conflict>\n'
                             '\t<enhance>zlibb</enhance>\n'
                             '\t<replacement>zlibb</replacement>')
    tree = scan([str(tmp_path)], catalog())
    assert rows(tree) == [
        ("res_a.c", 2, 27, "error", "unknown-name", "res_a", "<depend type=\"interface\">cdr</depend>: no interface "
                                                             "'cdr' is known"),
        ("res_a.c", 3, 21, "warning", "unknown-name", "res_a", "<use type=\"option\">zlib</use>: no build option "
                                                               "'zlib' is known"),
        ("res_a.c", 4, 25, "error", "unknown-name", "res_a", "<depend type=\"builtin\">sorcery</depend>: no core "
                                                             "built-in 'sorcery' is known"),
        ("res_a.c", 5, 12, "warning", "unknown-name", "res_a",
         "<conflict>nothing_known</conflict>: 'nothing_known' is not a module of the scanned tree, a core built-in, a "
         "library, a build option or an interface"),
        ("res_a.c", 6, 11, "warning", "unknown-name", "res_a", "<enhance>zlibb</enhance>: 'zlibb' is not a module of "
                                                               "the scanned tree"),
        ("res_a.c", 7, 15, "warning", "unknown-name", "res_a", "<replacement>zlibb</replacement> is not a module of "
                                                               "the scanned tree")]
    a = tree.modules["res_a"]
    assert (a.builtins, a.interfaces_required, a.options_optional, a.libraries_optional) == ((), (), (), ())
    assert a.conflicts == ("nothing_known",) and a.enhances == ("zlibb",) and a.replacement == "zlibb"


def test_two_modules_providing_one_application_or_function(tmp_path):
    # Exclusive kinds (application, function) only; a variant built from the same source and a module that
    # declares a <conflict> with the first claimant are alternatives, not an error.
    import os
    (tmp_path / "app_one.c").write_text('/*** DOCUMENTATION\n\t<application name="Dial"/>\n\t<function name="F"/>\n'
                                        '\t<manager name="X"/>\n ***/\n')
    os.symlink("app_one.c", tmp_path / "app_one_imap.c")
    (tmp_path / "app_three.c").write_text("/*** MODULEINFO\n\t<conflict>app_one</conflict>\n ***/\n"
                                          '/*** DOCUMENTATION\n\t<application name="Dial"/>\n\t<function name="G"/>\n'
                                          " ***/\n")
    (tmp_path / "app_two.c").write_text('/* two */\n/*** DOCUMENTATION\n  <manager name="X"/>\n'
                                        '    <application name="Dial"/>\n\t<function name="F"/>\n'
                                        '\t<function name="G"/>\n ***/\n')
    tree = scan([str(tmp_path)], catalog())
    claims = [(d.path, d.line, d.column, d.severity.value, d.code, d.module, d.message, dict(d.data))
              for d in tree.diagnostics if d.code == "provided-name-duplicate"]
    two = str(tmp_path / "app_two.c")
    tail = "; two modules may not provide one application or function (declare <conflict> if they are alternatives)"
    assert claims == [
        (two, 4, 5, "error", "provided-name-duplicate", "app_two",
         "application Dial is also provided by app_one (app_one.c:2)" + tail,
         {"name": "application:Dial", "modules": ["app_one", "app_two"]}),
        (two, 5, 2, "error", "provided-name-duplicate", "app_two", "function F is also provided by app_one (app_one.c:3)"
         + tail, {"name": "function:F", "modules": ["app_one", "app_two"]}),
        (two, 6, 2, "error", "provided-name-duplicate", "app_two",
         "function G is also provided by app_three (app_three.c:6)" + tail,
         {"name": "function:G", "modules": ["app_three", "app_two"]})]


def test_is_builtin():
    from buildtool.resolve import is_builtin
    cat = catalog()                     # builtins cdr; options TEST_FRAMEWORK; interfaces sorcery; platforms win32
    tree = Tree(modules={"http2": Module(name="http2", source="http2.c", line=1)})
    assert [name for name in ("cdr", "http", "http2", "res_x", "zlib", "TEST_FRAMEWORK", "sorcery", "win32")
            if is_builtin(name, tree, cat)] == ["cdr", "http"]
    # declared in the catalogue, a built-in even with an underscore or the name of a module
    cat.builtins.add("odd_one")
    assert is_builtin("odd_one", Tree(modules={"odd_one": Module(name="odd_one", source="o.c", line=1)}), cat)


def test_display_name_and_provided_names_are_kept(tmp_path):
    from buildtool.resolve import resolve
    from buildtool.scan import SourceFile, scan_source
    resolved = {}
    for name, text in (("app_plain", '/*** DOCUMENTATION\n\t<application name="P"/>\n ***/\n'),
                       ("app_block", "/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\n"
                                     '/*** DOCUMENTATION\n\t<application name="B"/>\n ***/\n')):
        (tmp_path / f"{name}.c").write_text(text)
        scanned, _ = scan_source(SourceFile(name=name, path=str(tmp_path / f"{name}.c"), category="apps"),
                                 text.encode())
        scanned.displayname = f"The {name}"
        resolved[name] = resolve([scanned], catalog()).modules[name]
    assert [(m.displayname, m.names) for m in resolved.values()] == [
        ("The app_plain", ("application:P",)), ("The app_block", ("application:B",))]


def test_one_module_resolved_with_the_names_of_the_rest_of_its_tree(tmp_path):
    # The meson build's per-module step resolves one module knowing the others only by name: the module
    # names of the tree and the interfaces its modules <provide>. Nothing else of them may be needed.
    from buildtool.resolve import TreeNames, resolve_one
    from buildtool.scan import SourceFile, scan_source

    body = ('\t<depend>res_other</depend>\n'
            '\t<depend type="interface">other_if</depend>\n'
            '\t<use>res_othr</use>\n'
            '\t<depend type="interface">sorcery</depend>\n'
            '\t<depend>cdr</depend>\n'
            '\t<provide>own_if</provide>\n'
            '\t<depend type="interface">own_if</depend>\n'
            '\t<support_level>extended</support_level>')
    data = f"/*** MODULEINFO\n{body}\n ***/\n".encode()
    path = str(tmp_path / "res_one.c")
    scanned, found = scan_source(SourceFile(path, "res_one", "res"), data)
    assert found == []
    others = TreeNames(modules=frozenset({"res_one", "res_other"}), provided=frozenset({"other_if"}))
    module, diagnostics = resolve_one(scanned, catalog(), others)
    assert (module.name, module.requires, module.interfaces_required, module.builtins, module.provides,
            module.support_level) == ("res_one", ("res_other",), ("other_if", "own_if", "sorcery"), ("cdr",),
                                      ("own_if",), "extended")
    assert module.optional_modules == ()
    # a misspelt name is suggested from the others' names too
    unknown = "is not a module of the scanned tree, a core built-in, a library, a build option or an interface"
    assert [(d.line, d.column, d.severity.value, d.code, d.module, d.message) for d in diagnostics] == [
        (4, 7, "warning", "unknown-name", "res_one", f"<use>res_othr</use>: 'res_othr' {unknown}; did you mean 'res_other'?")]
    # without the others' names, the module and interface they give are unknown
    alone_module, alone = resolve_one(scanned, catalog(), TreeNames(frozenset(), frozenset()))
    assert alone_module.requires == () and alone_module.interfaces_required == ("own_if", "sorcery")
    assert [(d.line, d.column, d.severity.value, d.message) for d in alone] == [
        (2, 10, "error", f"<depend>res_other</depend>: 'res_other' {unknown}; did you mean 'res_one'?"),
        (3, 27, "error", "<depend type=\"interface\">other_if</depend>: no interface 'other_if' is known"),
        (4, 7, "warning", f"<use>res_othr</use>: 'res_othr' {unknown}")]

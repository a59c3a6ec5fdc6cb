"""Catalogues: the three input forms, merging, and their errors (exit 2 with a position)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildtool import catalog
from buildtool.catalog import Library
from buildtool.errors import InputError
from buildtool.scan import scan

FIXTURES = Path(__file__).parent / "fixtures" / "scan"


def test_toml_fixture():
    cat = catalog.load(str(FIXTURES / "catalog.toml"))
    assert cat.options == {"OPTIONAL_API"}
    assert cat.builtins == {"cdr", "http"}
    assert cat.interfaces == {"sorcery"}
    assert cat.platforms == {"win32"}
    assert cat.libraries == {
        "pjproject": Library("pjproject", "libpjproject"),
        "crypto": Library("crypto", "libcrypto"),
        "zlib": Library("zlib", "zlib"),
    }


def test_menuselect_deps_fixture():
    cat = catalog.load(str(FIXTURES / "menuselect-deps.in"))
    assert sorted(cat.libraries) == ["curl", "spandsp", "sqlite3"]
    assert cat.library("CURL") == Library("curl", "curl")
    assert cat.options == set() and cat.builtins == set()


def test_menuselect_xml_fixture():
    cat = catalog.load(str(FIXTURES / "cflags.xml"))
    assert cat.options == {"DONT_OPTIMIZE", "TEST_FRAMEWORK"}
    assert cat.libraries == {}


def test_merge_in_order():
    cat = catalog.load_all([str(FIXTURES / n) for n in ("catalog.toml", "menuselect-deps.in", "cflags.xml")])
    assert sorted(cat.libraries) == ["crypto", "curl", "pjproject", "spandsp", "sqlite3", "zlib"]
    assert cat.options == {"OPTIONAL_API", "DONT_OPTIMIZE", "TEST_FRAMEWORK"}
    assert cat.known_names() == {"crypto", "curl", "pjproject", "spandsp", "sqlite3", "zlib", "OPTIONAL_API",
                                 "DONT_OPTIMIZE", "TEST_FRAMEWORK", "cdr", "http", "sorcery", "win32"}


def test_later_library_entry_wins(tmp_path):
    first = tmp_path / "a.toml"
    first.write_text('[libraries]\nssl = "openssl"\n')
    second = tmp_path / "b.toml"
    second.write_text('[libraries]\nSSL = { dependency = "libssl" }\n')
    cat = catalog.load_all([str(first), str(second)])
    assert cat.library("ssl") == Library("SSL", "libssl")


def test_library_names_are_case_insensitive(tmp_path, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    tree = scan(["good/res"], catalog.load_all(["catalog.toml", "menuselect-deps.in"]))
    # <use type="external">SQLITE3</use> is the catalogue's sqlite3.
    assert tree.modules["res_pjsip"].libraries_optional == ("sqlite3",)


@pytest.mark.parametrize("text, line, col, message", [
    ('options = ["A"\n', 2, 1, "invalid TOML: Unclosed array"),
    ('colours = ["red"]\n', 1, 1, "unknown catalogue key 'colours'"),
    ('options = "A"\n', 1, 1, "'options' must be a list of names"),
    ('options = ["A", ""]\n', 1, 1, "'options' must be a list of names"),
    ('platforms = ["x"]\n\nbuiltins = [1]\n', 3, 1, "'builtins' must be a list of names"),
    ('[libraries]\nzlib = 3\n', 2, 1, "library 'zlib' must be a dependency name"),
    ('[libraries]\nzlib = { pkg = "z" }\n', 2, 1, "library 'zlib' must be a dependency name"),
])
def test_toml_errors(tmp_path, text, line, col, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        catalog.load(str(path))
    assert (info.value.line, info.value.column) == (line, col)
    assert info.value.message.startswith(message)
    assert str(info.value).startswith(f"{path}:{line}:{col}: error: ")


def test_toml_not_utf8(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(b'options = ["caf\xe9"]\n')
    with pytest.raises(InputError) as info:
        catalog.load(str(path))
    assert (info.value.line, info.value.column, info.value.message) == (1, 16, "catalogue is not UTF-8")


def test_menuselect_deps_bad_line(tmp_path):
    path = tmp_path / "menuselect-deps"
    path.write_text("# c\nCURL=@PBX_CURL@\n\nthis is not a key\n")
    with pytest.raises(InputError) as info:
        catalog.load(str(path))
    assert (info.value.line, info.value.column) == (4, 1)


def test_menuselect_xml_invalid(tmp_path):
    path = tmp_path / "cflags.xml"
    path.write_text('<category>\n<member name="A">\n</category>\n')
    with pytest.raises(InputError) as info:
        catalog.load(str(path))
    assert info.value.line == 3
    assert info.value.message.startswith("invalid menuselect XML")


def test_menuselect_xml_entities_not_expanded(tmp_path):
    path = tmp_path / "evil.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/hostname">]>\n'
                    '<category><member name="A">&e;</member><member name="B"/></category>\n')
    # refused outright, as MODULEINFO and xmldoc refuse it (tests/test_safexml.py): nothing is read
    with pytest.raises(InputError) as info:
        catalog.load(str(path))
    assert (info.value.line, info.value.column) == (2, 1)
    assert info.value.message == "<!DOCTYPE> is not allowed in menuselect XML (no DTDs, no entity declarations)"


def test_unknown_form(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("x: 1\n")
    with pytest.raises(InputError) as info:
        catalog.load(str(path))
    assert "unknown catalogue form" in info.value.message


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        catalog.load(str(tmp_path / "none.toml"))
    assert info.value.message == "cannot read catalogue: No such file or directory"

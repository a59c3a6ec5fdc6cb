"""check --binaries: undefined symbols against the declared dependencies (modpost-style)."""

from __future__ import annotations

import subprocess

from helpers.check import CC, build, by_code, check_json, module_source, needs_cc, write_sources

pytestmark = needs_cc

API_A = "int res_a_api(int x) { return x + 1; }"
USE_A = "extern int res_a_api(int);\nint use_a(void) { return res_a_api(1); }"


def test_undeclared_dependency_names_symbol_module_and_line(tmp_path):
    src = write_sources(tmp_path / "src", {"res_a": module_source(body=API_A),
                                           "res_b": module_source(body=USE_A)})
    build(src, tmp_path / "out")
    rc, report = check_json("--binaries", tmp_path / "out", src)
    assert rc == 1
    [finding] = by_code(report, "undeclared-dependency")
    assert finding["module"] == "res_b" and finding["symbol"] == "res_a_api"
    assert finding["defined_by"] == "res_a" and finding["add"] == "<depend>res_a</depend>"
    assert "<depend>res_a</depend>" in finding["message"] and "res_a_api" in finding["message"]


def test_transitive_requirement_and_interface_provider_are_enough(tmp_path):
    src = write_sources(tmp_path / "src", {
        "res_a": module_source(body=API_A),
        "res_mid": module_source(requires=["res_a"]),
        "res_b": module_source(requires=["res_mid"], body=USE_A),
        "res_prov": module_source(tags="\t<provide>sorcery</provide>", body="int sorcery_api(void) { return 3; }"),
        "res_user": module_source(tags='\t<depend type="interface">sorcery</depend>',
                                  body="extern int sorcery_api(void);\nint u(void) { return sorcery_api(); }"),
    })
    build(src, tmp_path / "out")
    rc, report = check_json("--binaries", tmp_path / "out", src)
    assert rc == 0, report["findings"]
    # res_b requires res_mid but uses none of its own symbols: a note, not a failure.
    [unused] = [f for f in by_code(report, "unused-dependency") if f["module"] == "res_b"]
    assert unused["requires"] == "res_mid" and unused["severity"] == "note"


def test_optional_module_symbol(tmp_path):
    src = write_sources(tmp_path / "src", {"res_a": module_source(body=API_A),
                                           "res_b": module_source(uses=["res_a"], body=USE_A)})
    build(src, tmp_path / "out")
    _, report = check_json("--binaries", tmp_path / "out", src)
    [finding] = by_code(report, "optional-module-symbol")
    assert finding["defined_by"] == "res_a" and finding["symbol"] == "res_a_api"


def test_libc_is_core_and_core_option(tmp_path):
    core_src = tmp_path / "core.c"
    core_src.write_text("int ast_log_thing(int x) { return x; }\n")
    core = tmp_path / "libastcore.so"
    subprocess.run([CC, "-shared", "-fPIC", "-o", str(core), str(core_src)], check=True)
    src = write_sources(tmp_path / "src", {"res_a": module_source(body="""
        #include <stdio.h>
        #include <stdlib.h>
        extern int ast_log_thing(int);
        int res_a_api(const char *s) { puts(s); return ast_log_thing(atoi(s)); }
        extern int nowhere_defined(void);
        int other(void) { return nowhere_defined(); }
    """)})
    build(src, tmp_path / "out")
    _, report = check_json("--binaries", tmp_path / "out", src)
    [unresolved] = by_code(report, "unresolved-symbol")
    assert unresolved["severity"] == "note"  # no --core: the core's API is unknown
    assert set(unresolved["symbols"]) == {"ast_log_thing", "nowhere_defined"}  # puts/atoi: libc
    rc, report = check_json("--binaries", tmp_path / "out", "--core", core, src)
    [unresolved] = by_code(report, "unresolved-symbol")
    assert unresolved["severity"] == "error" and unresolved["symbols"] == ["nowhere_defined"]
    assert rc == 1


def test_undeclared_library(tmp_path):
    # A private library stands for an external one (libm & co. count as the core).
    lib_src = tmp_path / "libfoo.c"
    lib_src.write_text("int foo_compress(int x) { return x * 2; }\n")
    libdir = tmp_path / "lib"
    libdir.mkdir()
    subprocess.run([CC, "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", str(libdir / "libfoo.so.1"),
                    str(lib_src)], check=True)
    (libdir / "libfoo.so").symlink_to("libfoo.so.1")
    body = "extern int foo_compress(int);\nint z(void) { return foo_compress(2); }"
    src = write_sources(tmp_path / "src", {"res_z": module_source(body=body),
                                           "res_ok": module_source(body=body, tags="\t<depend>foo</depend>")})
    catalog = tmp_path / "catalog.toml"
    catalog.write_text('[libraries]\nfoo = "foo"\n')
    build(src, tmp_path / "out", catalogs=[catalog], extra=[f"-L{libdir}", "-lfoo"])
    _, report = check_json("--catalog", catalog, "--binaries", tmp_path / "out", "--library-path", libdir, src)
    [finding] = by_code(report, "undeclared-library")
    assert finding["module"] == "res_z" and finding["library"] == "libfoo.so.1"
    assert finding["add"] == "<depend>foo</depend>" and finding["symbol"] == "foo_compress"
    # Without the library path the library cannot be read: a note, and no false error.
    _, report = check_json("--catalog", catalog, "--binaries", tmp_path / "out", src)
    assert {f["module"] for f in by_code(report, "library-not-found")} == {"res_ok", "res_z"}
    assert not by_code(report, "unresolved-symbol")

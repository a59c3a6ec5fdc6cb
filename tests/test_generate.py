"""The generator: generated headers, the compile-time checks they carry, cflags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from buildtool import handwritten
from buildtool.elfinfo import read_record
from buildtool.generate import HeaderGenerator, cflags, handwritten_problems
from buildtool.model import Module

REPO = Path(__file__).resolve().parent.parent
INCLUDE = REPO / "include"

BODY = """
#include "asterisk/module.h"
static int load_module(void) { return AST_MODULE_LOAD_SUCCESS; }
static int unload_module(void) { return 0; }
"""


def buildtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "buildtool", *args], cwd=cwd, capture_output=True, text=True)


def write_module(directory: Path, name: str, moduleinfo: str, info: str) -> Path:
    path = directory / f"{name}.c"
    path.write_text(f"/*** MODULEINFO\n{moduleinfo}\n ***/\n{BODY}\n{info}\n")
    return path


def compile_module(source: Path, tree: Path, out: Path) -> subprocess.CompletedProcess:
    flags = buildtool("cflags", str(source), "--tree", str(tree), "--out-dir", str(out / "gen"),
                      "--include-dir", str(INCLUDE), cwd=out)
    assert flags.returncode == 0, flags.stderr
    import shlex
    return subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
                           *shlex.split(flags.stdout), str(source), "-o", str(out / f"{source.stem}.so")],
                          capture_output=True, text=True)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    write_module(src, "res_base", "<support_level>core</support_level><provide>sorcery</provide>",
                 'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Base");')
    write_module(src, "res_user",
                 "<depend>res_base</depend><use type=\"interface\">sorcery</use><support_level>extended</support_level>",
                 'AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_GLOBAL_SYMBOLS, "User",\n'
                 '\t.load = load_module,\n\t.unload = unload_module,\n\t.requires = "res_base",\n);')
    result = buildtool("scan", "--format", "json", "-o", str(tmp_path / "tree.json"), str(src), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "tree.json"


def test_injected_record_matches_moduleinfo(tree: Path, tmp_path: Path) -> None:
    result = compile_module(tmp_path / "src" / "res_user.c", tree, tmp_path)
    assert result.returncode == 0, result.stderr
    record = read_record(str(tmp_path / "res_user.so"))
    assert record.name == "res_user"
    assert record.flags == 1
    assert record.list("requires") == ("res_base",)
    assert record.list("optional_uses") == ("sorcery",)
    assert record.list("uses") == ()
    assert record.fields["support_level"] == "extended"
    assert record.fields["description"] == "User"
    assert record.fields["source_hash"].startswith("sha256:")


def test_disagreeing_hand_written_list_is_a_compile_error_at_its_line(tree: Path, tmp_path: Path) -> None:
    source = tmp_path / "src" / "res_user.c"
    source.write_text(source.read_text().replace('.requires = "res_base"', '.requires = "res_base," "res_other"'))
    result = compile_module(source, tree, tmp_path)
    assert result.returncode != 0
    line = next(i for i, text in enumerate(source.read_text().splitlines(), 1) if ".requires" in text)
    assert f"res_user.c:{line}:" in result.stderr
    assert "only hand-written: res_other" in result.stderr


def test_compiling_without_generated_data_fails_clearly(tmp_path: Path) -> None:
    source = tmp_path / "res_x.c"
    source.write_text(BODY + 'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "X");\n')
    result = subprocess.run(["gcc", "-c", f"-I{INCLUDE}", '-DAST_MODULE="res_x"', str(source), "-o", os.devnull],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "no generated MODULEINFO data" in result.stderr


def test_header_for_another_module_is_refused(tree: Path, tmp_path: Path) -> None:
    assert compile_module(tmp_path / "src" / "res_base.c", tree, tmp_path).returncode == 0
    source = tmp_path / "src" / "res_user.c"
    result = subprocess.run(["gcc", "-c", f"-I{INCLUDE}", f"-I{tmp_path / 'gen'}", '-DAST_MODULE="res_user"',
                             '-DAST_MODULEINFO_HEADER="res_base.modinfo.h"', str(source), "-o", os.devnull],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "belongs to another module" in result.stderr


def test_headers_are_the_same_bytes_from_another_process_and_directory(tmp_path: Path) -> None:
    # `buildtool generate` in two child processes (different hash seeds and working directories) over
    # copies of modules/ at different depths: every header byte-identical, and no path of either copy in it.
    import shutil
    outs = []
    for i, where in enumerate((tmp_path / "one", tmp_path / "two" / "deeper")):
        copy = shutil.copytree(REPO / "modules", where / "modules")
        env = {**os.environ, "PYTHONHASHSEED": str(i + 1)}
        done = subprocess.run([sys.executable, "-m", "buildtool", "generate", "--catalog", str(copy / "catalog.toml"),
                               "--out-dir", str(where / "gen"), str(copy)], capture_output=True, text=True,
                              cwd=where, env=env)
        assert done.returncode == 0, done.stderr
        outs.append({p.name: p.read_bytes() for p in (where / "gen").glob("*.modinfo.h")})
    assert len(outs[0]) == len(list((REPO / "modules").glob("*.c")))
    assert outs[0] == outs[1]
    assert not [name for name, data in outs[0].items() if str(tmp_path).encode() in data]


def test_header_is_path_free_and_written_only_on_change(tmp_path: Path) -> None:
    module = Module(name="res_a", source="/some/absolute/dir/res_a.c", line=1, support_level="core",
                    requires=("res_c", "res_b"), interfaces_required=("sorcery",))
    generator = HeaderGenerator()
    text = generator.render(module, b"int x;\n")
    assert "/some/absolute" not in text
    # the source hash is sha256 of the bytes, computed here with hashlib itself
    import hashlib
    digest = hashlib.sha256(b"int x;\n").hexdigest()
    assert f'#define AST_MODULE_SOURCE_HASH "sha256:{digest}"' in text
    assert '#define AST_MODULE_REQUIRES "res_b,res_c"' in text
    assert '#define AST_MODULE_USES "sorcery"' in text
    path, written = generator.write(module, b"int x;\n", tmp_path)
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    _, again = generator.write(module, b"int x;\n", tmp_path)
    assert written and not again
    assert path.stat().st_mtime_ns == before - 10**9
    _, changed = generator.write(module, b"int y;\n", tmp_path)
    assert changed


def test_c_string_escaping_survives_odd_descriptions(tmp_path: Path) -> None:
    source = tmp_path / "res_odd.c"
    source.write_text('/*** MODULEINFO\n<deprecated_in>"21" \\ \\0</deprecated_in>\n ***/\n' + BODY
                      + 'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Odd \\"quoted\\" module");\n')
    tree = tmp_path / "tree.json"
    assert buildtool("scan", "--format", "json", "-o", str(tree), str(source), cwd=tmp_path).returncode == 0
    result = compile_module(source, tree, tmp_path)
    assert result.returncode == 0, result.stderr
    record = read_record(str(tmp_path / "res_odd.so"))
    assert record.fields["deprecated_in"] == '"21" \\ \\0'
    assert record.fields["description"] == 'Odd "quoted" module'


def test_agreeing_hand_written_lists_are_accepted() -> None:
    module = Module(name="res_a", source="res_a.c", line=1, support_level="core",
                    requires=("res_b",), builtins=("cdr",), optional_modules=("res_c",))
    text = ('AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "A", .support_level = AST_MODULE_SUPPORT_CORE,\n'
            '  .requires = "cdr," "res_b", .optional_modules = "res_c");')
    assert handwritten_problems(module, text) == []
    worse = text.replace("AST_MODULE_SUPPORT_CORE", "AST_MODULE_SUPPORT_EXTENDED")
    [problem] = handwritten_problems(module, worse)
    assert problem.line == 1 and "<support_level>extended</support_level>" in problem.message


def test_hand_written_reader_handles_real_forms() -> None:
    text = ('/* AST_MODULE_INFO( in a comment */\n'
            'static const char *s = "AST_MODULE_INFO(";\n'
            'AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "PJSIP",\n'
            '\t.support_level = AST_MODULE_SUPPORT_CORE,\n'
            '\t.load = load_module, .unload = unload(1, 2),\n'
            '\t.requires = "res_pjsip,"  /* why */\n'
            '\t\t"res_pjsip_session",\n'
            '\t.enhances = "res_fax"\n'
            ');\n')
    found = handwritten.find(text)
    assert found is not None and found.line == 3
    assert found.fields["requires"].names() == ("res_pjsip", "res_pjsip_session")
    assert (found.fields["requires"].line, found.fields["requires"].column) == (6, 2)
    assert found.fields["enhances"].value == "res_fax"
    assert found.fields["support_level"].value == "AST_MODULE_SUPPORT_CORE"
    assert "optional_modules" not in found.fields
    assert handwritten.find("AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, \"x\");") is None


def test_cflags_of_a_missing_source_is_an_io_error(tmp_path: Path) -> None:
    result = buildtool("cflags", str(tmp_path / "res_gone.c"), "--out-dir", str(tmp_path / "gen"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'res_gone.c'}:0:0: error: no such file or directory [io-error]"


def test_unwritable_output_names_the_file_asked_for(tmp_path: Path) -> None:
    (tmp_path / "res_a.c").write_text("/*** MODULEINFO\n<support_level>core</support_level>\n ***/\n")
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = buildtool("scan", "--format", "json", "-o", str(blocker / "tree.json"), str(tmp_path / "res_a.c"),
                       cwd=tmp_path)
    assert result.returncode == 2
    assert str(blocker / "tree.json") in result.stderr and ".tmp" not in result.stderr
    assert "Traceback" not in result.stderr


# Each hand-written field the header checks, with a copy that disagrees with MODULEINFO in the direction
# a one-way comparison would miss (MODULEINFO declares more than the copy says).
HAND_WRITTEN_CASES = {
    "requires": (dict(requires=("res_b", "res_c")), '.requires = "res_b"', "only in MODULEINFO: res_c"),
    "optional_modules": (dict(optional_modules=("res_c", "res_d")), '.optional_modules = "res_d"',
                         "only in MODULEINFO: res_c"),
    "enhances": (dict(enhances=("res_fax",)), '.enhances = ""', "only in MODULEINFO: res_fax"),
    "support_level": (dict(support_level="core"), ".support_level = AST_MODULE_SUPPORT_EXTENDED",
                      "<support_level>extended</support_level>"),
}


@pytest.mark.parametrize("field", sorted(HAND_WRITTEN_CASES))
def test_hand_written_field_that_says_less_is_a_problem(field: str) -> None:
    declared, written, detail = HAND_WRITTEN_CASES[field]
    module = Module(name="res_a", source="res_a.c", line=1, **declared)
    text = f'\nAST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "A",\n\t.load = load_module,\n\t{written},\n);\n'
    [problem] = handwritten_problems(module, text)
    assert problem.line == 4
    assert detail in problem.message


@pytest.mark.parametrize("field", sorted(HAND_WRITTEN_CASES))
def test_hand_written_field_that_disagrees_is_an_error_without_werror(field: str, tmp_path: Path) -> None:
    # No -Werror here: the generated header must stop the compile by itself (#error, not #warning).
    declared, written, detail = HAND_WRITTEN_CASES[field]
    source = tmp_path / "res_a.c"
    source.write_text("/*** MODULEINFO\n ***/\n" + BODY
                      + f'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "A",\n\t.load = load_module,\n\t{written},\n);\n')
    line = next(i for i, text in enumerate(source.read_text().splitlines(), 1) if f".{field} =" in text)
    module = Module(name="res_a", source=str(source), line=1, **declared)
    HeaderGenerator().write(module, source.read_bytes(), tmp_path / "gen")
    result = subprocess.run(["gcc", "-fsyntax-only", *cflags(module, tmp_path / "gen", [str(INCLUDE)]), str(source)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert f"res_a.c:{line}:" in result.stderr and "error:" in result.stderr
    assert detail in result.stderr
    # the agreeing copy compiles (so the failure above is the check, not the test's source)
    fixed = source.read_text().replace(f"\t{written},\n", "")
    source.write_text(fixed)
    HeaderGenerator().write(module, source.read_bytes(), tmp_path / "gen")
    ok = subprocess.run(["gcc", "-fsyntax-only", *cflags(module, tmp_path / "gen", [str(INCLUDE)]), str(source)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_hand_written_list_given_by_a_macro_is_not_read_as_a_name() -> None:
    # .requires = DEPS: the value of DEPS is unknown here; it is not the module name "DEPS"
    module = Module(name="res_a", source="res_a.c", line=1, requires=("res_b",))
    [problem] = handwritten_problems(module, 'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "A",\n\t.requires = DEPS,\n);')
    assert problem.line == 2 and problem.message.startswith(
        "hand-written .requires = DEPS is not a string literal, so it cannot be checked against MODULEINFO")
    # an enum constant is the normal form of .support_level
    assert handwritten_problems(Module(name="res_a", source="res_a.c", line=1, support_level="core"),
                                'AST_MODULE_INFO(K, 0, "A", .support_level = AST_MODULE_SUPPORT_CORE);') == []


EXPECTED_HEADER = '''/* Generated by buildtool from the MODULEINFO block of res_odd-name.x.c; do not edit.
 * Consumed by include/asterisk/module.h. */
#ifndef AST_MODULEINFO_RES_ODD_NAME_X_H
#define AST_MODULEINFO_RES_ODD_NAME_X_H

#define AST_MODULEINFO_GENERATED 1
#define AST_MODULEINFO_MODULE "res_odd-name.x"
#define AST_MODULE_REQUIRES "res_b,res_c"
#define AST_MODULE_OPTIONAL_MODULES "res_d,res_e"
#define AST_MODULE_ENHANCES "res_f,res_g"
#define AST_MODULE_PROVIDES "p1,p2"
#define AST_MODULE_USES "i1,i2"
#define AST_MODULE_OPTIONAL_USES "o1,o2"
#define AST_MODULE_LIBRARIES "ssl,zlib"
#define AST_MODULE_OPTIONAL_LIBRARIES "crypto,curl"
#define AST_MODULE_OPTIONS "O1,O2"
#define AST_MODULE_BUILTINS "cdr,http"
#define AST_MODULE_CONFLICTS "res_x,res_y"
#define AST_MODULE_SUPPORT_LEVEL AST_MODULE_SUPPORT_EXTENDED
#define AST_MODULE_SOURCE_HASH "sha256:@DIGEST@"

/* The same data for the .ast_modinfo section record ("key=value\\0" pairs). */
#define AST_MODULE_RECORD_TEXT \\
\t"requires=res_b,res_c" "\\0" \\
\t"optional_modules=res_d,res_e" "\\0" \\
\t"enhances=res_f,res_g" "\\0" \\
\t"provides=p1,p2" "\\0" \\
\t"uses=i1,i2" "\\0" \\
\t"optional_uses=o1,o2" "\\0" \\
\t"libraries=ssl,zlib" "\\0" \\
\t"optional_libraries=crypto,curl" "\\0" \\
\t"options=O1,O2" "\\0" \\
\t"builtins=cdr,http" "\\0" \\
\t"conflicts=res_x,res_y" "\\0" \\
\t"support_level=extended" "\\0" \\
\t"default_enabled=no" "\\0" \\
\t"deprecated_in=21" "\\0" \\
\t"removed_in=23" "\\0" \\
\t"replacement=res_\\"new\\"\\\\" "\\0" \\
\t"source_hash=sha256:@DIGEST@" "\\0" \\
\t"names=" "\\0" \\
\t""

#line 7 "res_odd-name.x.c"
#error "no module 'res_q' [missing-module]"

#line 9 "res_odd-name.x.c"
#error "hand-written .requires = \\"res_b\\" disagrees with MODULEINFO (only in MODULEINFO: cdr,http,res_c); MODULEINFO is the source of truth: remove the field (buildtool migrate does it)"

#endif
'''


def test_whole_header_for_every_field(tmp_path: Path) -> None:
    # Written out by hand: every list in struct order, the record, errors (not warnings) as #error at their
    # lines, the guard from a name with odd characters, C escapes, and the source's sha256 from hashlib.
    import hashlib
    from buildtool.diagnostics import error, warning
    module = Module(name="res_odd-name.x", source="/abs/dir/res_odd-name.x.c", line=1, support_level="extended",
                    default_enabled=False, requires=("res_b", "res_c"), optional_modules=("res_d", "res_e"),
                    enhances=("res_f", "res_g"), provides=("p1", "p2"),
                    interfaces_required=("i1", "i2"), interfaces_optional=("o1", "o2"),
                    libraries_required=("ssl", "zlib"), libraries_optional=("crypto", "curl"),
                    options_required=("O1", "O2"), builtins=("cdr", "http"), conflicts=("res_x", "res_y"),
                    deprecated_in="21", removed_in="23", replacement='res_"new"\\')
    source = ("\n" * 8 + 'AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "X", .requires = "res_b");\n').encode()
    errors = [error("res_odd-name.x.c", 7, 3, "missing-module", "no module 'res_q'"),
              warning("res_odd-name.x.c", 8, 1, "unknown-name", "only a warning")]
    expected = EXPECTED_HEADER.replace("@DIGEST@", hashlib.sha256(source).hexdigest())
    assert HeaderGenerator().render(module, source, errors) == expected
    path, written = HeaderGenerator().write(module, source, tmp_path, errors)
    assert written and path == tmp_path / "res_odd-name.x.modinfo.h" and path.read_text() == expected


def test_record_of_a_default_module() -> None:
    from buildtool.generate import record_fields
    module = Module(name="res_a", source="res_a.c", line=1)
    assert record_fields(module, "sha256:00") == [
        ("requires", ""), ("optional_modules", ""), ("enhances", ""), ("provides", ""), ("uses", ""),
        ("optional_uses", ""), ("libraries", ""), ("optional_libraries", ""), ("options", ""), ("builtins", ""),
        ("conflicts", ""), ("support_level", ""), ("default_enabled", "yes"), ("deprecated_in", ""),
        ("removed_in", ""), ("replacement", ""), ("source_hash", "sha256:00"), ("names", "")]


def test_c_string_escapes() -> None:
    from buildtool.generate import _c_string
    assert _c_string('a\\b"c\nd\re\x01f\x7fg\th') == '"a\\\\b\\"c\\nd\\re\\001f\\177g\\011h"'
    assert _c_string("") == '""'


def test_hand_written_problems_in_line_order_with_exact_messages() -> None:
    module = Module(name="res_a", source="res_a.c", line=1, requires=("res_b",), enhances=("res_e",))
    text = ('AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, "A",\n'
            '\t.support_level = 5,\n'
            '\t.requires = "res_x,res_b,res_y",\n'
            '\t.optional_modules = OPT,\n'
            '\t.enhances = "res_z",\n);')
    assert [(p.line, p.message) for p in handwritten_problems(module, text)] == [
        (2, "hand-written .support_level = 5 disagrees with MODULEINFO (no <support_level>); MODULEINFO is the "
            "source of truth: remove the field or write a <support_level> in MODULEINFO"),
        (3, 'hand-written .requires = "res_x,res_b,res_y" disagrees with MODULEINFO (only hand-written: '
            "res_x,res_y); MODULEINFO is the source of truth: remove the field (buildtool migrate does it)"),
        (4, "hand-written .optional_modules = OPT is not a string literal, so it cannot be checked against "
            "MODULEINFO; remove it (the build injects it from MODULEINFO)"),
        (5, 'hand-written .enhances = "res_z" disagrees with MODULEINFO (only hand-written: res_z; only in '
            "MODULEINFO: res_e); MODULEINFO is the source of truth: remove the field (buildtool migrate does it)")]
    # fields written in another order than the struct's: problems still follow the lines
    text = 'AST_MODULE_INFO(K, 0, "A",\n\t.requires = "res_q",\n\t.enhances = "res_q",\n);'
    assert [p.line for p in handwritten_problems(module, text)] == [2, 3]
    assert handwritten_problems(Module(name="res_a", source="res_a.c", line=1, support_level="core"),
                                'AST_MODULE_INFO(K, 0, "A", .support_level = AST_MODULE_SUPPORT_DEPRECATED)')[0].message \
        == ("hand-written .support_level = AST_MODULE_SUPPORT_DEPRECATED disagrees with MODULEINFO (core); MODULEINFO "
            "is the source of truth: remove the field or write <support_level>deprecated</support_level> in MODULEINFO")


EXPECTED_ASTERISK_HEADER = '''/* Generated by buildtool from the MODULEINFO block of res_Wrap.c; do not edit.
 * Consumed by include/asterisk/module.h. */
#ifndef AST_MODULEINFO_RES_WRAP_H
#define AST_MODULEINFO_RES_WRAP_H

#define AST_MODULEINFO_GENERATED 1
#define AST_MODULEINFO_MODULE "res_Wrap"
#define AST_MODULE_REQUIRES "res_b"
#define AST_MODULE_OPTIONAL_MODULES ""
#define AST_MODULE_ENHANCES ""
#define AST_MODULE_PROVIDES ""
#define AST_MODULE_USES ""
#define AST_MODULE_OPTIONAL_USES ""
#define AST_MODULE_LIBRARIES ""
#define AST_MODULE_OPTIONAL_LIBRARIES ""
#define AST_MODULE_OPTIONS ""
#define AST_MODULE_BUILTINS "cdr"
#define AST_MODULE_CONFLICTS ""
#define AST_MODULE_SUPPORT_LEVEL AST_MODULE_SUPPORT_CORE
/* The source hash changes with every edit: the build writes it alone (buildtool/buildstep.py). */
#include "res_Wrap.modinfo.hash.h"

/* The same data for the .ast_modinfo section record ("key=value\\0" pairs). */
#define AST_MODULE_RECORD_TEXT \\
\t"requires=res_b" "\\0" \\
\t"optional_modules=" "\\0" \\
\t"enhances=" "\\0" \\
\t"provides=" "\\0" \\
\t"uses=" "\\0" \\
\t"optional_uses=" "\\0" \\
\t"libraries=" "\\0" \\
\t"optional_libraries=" "\\0" \\
\t"options=" "\\0" \\
\t"builtins=cdr" "\\0" \\
\t"conflicts=" "\\0" \\
\t"support_level=core" "\\0" \\
\t"default_enabled=yes" "\\0" \\
\t"deprecated_in=" "\\0" \\
\t"removed_in=" "\\0" \\
\t"replacement=" "\\0" \\
\t"source_hash=" AST_MODULE_SOURCE_HASH "\\0" \\
\t"names=" "\\0" \\
\t""

/* Asterisk's own struct ast_module_info: .requires holds the core built-ins too,
 * since Asterisk's loader resolves them. */
#define AST_MODULE_ASTERISK_REQUIRES "cdr,res_b"
/* What Asterisk's make passes as -D; a module built out of tree gets it here. */
#ifndef AST_MODULE
#define AST_MODULE "res_Wrap"
#endif
#ifndef AST_MODULE_SELF_SYM
#define AST_MODULE_SELF_SYM __internal_res_Wrap_self
#endif
#define AST_MODULE_DESCRIPTION_TEXT "@DESCRIPTION@"
#include "asterisk/wrap.h"

#endif
'''


def test_whole_header_for_asterisk_with_the_hash_header(tmp_path: Path) -> None:
    # Asterisk's own build (a wrapper), the source hash in the build step's header: written out by hand. The
    # guard keeps the name's capitals; .requires for Asterisk adds the built-ins; the description comes from
    # the AST_MODULE_INFO call of the compiled code when given, else of the source; a hand-written field is
    # left to Asterisk (no #error), as are the scanner's errors (asterisk-setup reports them).
    from buildtool.diagnostics import error
    module = Module(name="res_Wrap", source="/abs/res_Wrap.c", line=1, requires=("res_b",), builtins=("cdr",),
                    support_level="core")
    source = b'AST_MODULE_INFO(K, 0, "From the source", .requires = "res_z");\n'
    code = b'AST_MODULE_INFO_STANDARD(K, "From the code");\n'
    errors = [error("res_Wrap.c", 1, 1, "missing-module", "no module 'res_q'")]

    def render(source, code=None):
        return HeaderGenerator().render(module, source, errors, hash_header=True, wrapper="asterisk/wrap.h",
                                        code=code)

    assert render(source, code) == EXPECTED_ASTERISK_HEADER.replace("@DESCRIPTION@", "From the code")
    assert render(source) == EXPECTED_ASTERISK_HEADER.replace("@DESCRIPTION@", "From the source")
    assert render(b"int no_info_call;\n") == EXPECTED_ASTERISK_HEADER.replace("@DESCRIPTION@", "")
    path, written = HeaderGenerator().write(module, source, tmp_path, errors, hash_header=True,
                                            wrapper="asterisk/wrap.h")
    assert written and path.read_text() == EXPECTED_ASTERISK_HEADER.replace("@DESCRIPTION@", "From the source")
@pytest.mark.parametrize("module", [
    Module(name="res_plain", source="/x/res_plain.c", line=3),
    Module(name="res_full", source="res_full.c", line=9, requires=("res_a", "res_b"), optional_modules=("res_c",),
           provides=("iface",), libraries_required=("zlib",), support_level="extended", default_enabled=False,
           deprecated_in="18", removed_in="21", replacement="res_new", names=("application:Dial",)),
    # Everything a C string literal must escape, in a value the skeleton puts inside one.
    Module(name="res_odd", source="dir with space/res_odd.c", line=1, replacement='a"b\\c\nd\x01@@e3@@',
           support_level="core"),
    # a file name the header writes as it is (in a comment), but also escaped (in #line of an #error)
    Module(name="res_q", source='dir/res_"q\\.c', line=1),
])
def test_skeleton_filled_equals_the_template_rendered_by_jinja2(module) -> None:
    # The build's per-module step fills a skeleton made once from the template; jinja2 is the reference.
    from buildtool.generate import fill_skeleton, header_context, make_skeleton

    skeleton = make_skeleton()
    assert skeleton is not None and "@@" in skeleton
    context = header_context(module, "", hash_header=True)
    assert fill_skeleton(skeleton, context) == HeaderGenerator().render(module, b"", hash_header=True)


def test_header_context_without_the_hash_header_carries_the_digest() -> None:
    from buildtool.generate import header_context

    context = header_context(Module(name="res_a", source="res_a.c", line=1), "sha256:ab")
    assert context["hash_header"] == "" and context["source_hash"] == "sha256:ab" and context["asterisk"] is None
    assert dict(context["record"])["source_hash"] == "sha256:ab" and context["problems"] == []


def test_a_context_missing_a_value_is_refused_not_rendered_empty() -> None:
    import jinja2
    from buildtool.generate import header_context

    context = header_context(Module(name="res_a", source="res_a.c", line=1), "sha256:ab")
    del context["asterisk"]
    with pytest.raises(jinja2.UndefinedError, match="'asterisk' is undefined"):
        HeaderGenerator().render_context(context)


def _template_text() -> str:
    from importlib.resources import files

    return files("buildtool").joinpath("templates", "modinfo.h.j2").read_text()


@pytest.mark.parametrize("edit, usable", [
    (lambda text: text, True),
    # a value transformed by the template: the skeleton would put the raw value there
    (lambda text: text.replace("#endif", "/* {{ name | upper }} */\n#endif"), False),
    (lambda text: text.replace("{{ source_name }}", "{{ source_name | replace('_', '-') }}"), False),
    (lambda text: text.replace("{{ macro }} {{ value | c_string }}",
                               "{{ macro }} {{ value | replace(',', ' ') | c_string }}"), False),
    # a value the template leaves out is still a skeleton; two left out is a template it was not made for
    (lambda text: text.replace("#ifndef AST_MODULEINFO_{{ guard }}_H\n", ""), True),
    (lambda text: text.replace("#ifndef AST_MODULEINFO_{{ guard }}_H\n#define AST_MODULEINFO_{{ guard }}_H\n", ""),
     False),
])
def test_skeleton_only_from_a_template_it_can_fill(monkeypatch, edit, usable) -> None:
    # make_skeleton checks itself against jinja2's rendering of the template, and gives None (the step then
    # renders with jinja2) when a value does not go into the header as it is
    import jinja2
    from buildtool import generate

    text = edit(_template_text())
    real_environment = generate._environment

    def environment(*args):
        env = real_environment(*args)
        env.loader = jinja2.DictLoader({generate.TEMPLATE: text})
        return env

    monkeypatch.setattr(generate, "_environment", environment)
    skeleton = generate.make_skeleton()
    assert (skeleton is not None) == usable
    if usable:
        module = Module(name="res_x", source="res_x.c", line=1, requires=("res_y",), support_level="extended")
        expected = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                      keep_trailing_newline=True)
        expected.filters["c_string"] = lambda v: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        context = generate.header_context(module, "", hash_header=True)
        assert generate.fill_skeleton(skeleton, context) == expected.from_string(text).render(**context)

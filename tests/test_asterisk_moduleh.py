"""The module.h shape check of asterisk-setup, message for message: what is accepted, and each refusal's
full text and position (path:line:column), on headers written here.

Expected texts are literals: the refusal a user sees is the interface.
"""

from __future__ import annotations

import pytest

from buildtool.asterisk import moduleh
from buildtool.errors import InputError
from helpers.asterisk import MODULE_H

SUPPORTED = ("; buildtool asterisk-setup supports the designated-initializer AST_MODULE_INFO of Asterisk 16 and "
             "later and refuses any other shape rather than inject into a struct it does not know")
BODY = ('static struct ast_module_info __mod_info = { .name = AST_MODULE, .flags = flags_to_set, '
        '.description = desc, .key = keystr, .buildopt_sum = "", fields }; '
        'static void __attribute__((constructor)) __reg_module(void) { ast_module_register(&__mod_info); } '
        'static const struct ast_module_info *ast_module_info = &__mod_info')
DEFINE = "#define AST_MODULE_INFO(keystr, flags_to_set, desc, fields...)\t\\"


def refusal(text: str, path: str = "inc/module.h") -> str:
    with pytest.raises(InputError) as caught:
        moduleh.parse(path, text)
    return str(caught.value)


def test_accepted_header_gives_its_path_version_parameters_body_and_line():
    header = moduleh.parse("inc/module.h", MODULE_H)
    assert (header.path, header.version, header.parameters, header.line) == (
        "inc/module.h", "unknown", ("keystr", "flags_to_set", "desc", "fields..."), 26)
    assert MODULE_H.splitlines()[25] == DEFINE
    assert header.body == BODY
    assert moduleh.parse("m.h", MODULE_H, "22.10.1").version == "22.10.1"


def test_comments_in_the_macro_and_the_struct_are_not_code():
    text = ("\n" + MODULE_H.replace("\t\tfields\t\t\t\t\t\t\\", "\t\tfields /* the module's own */\t\\")
            .replace("\tconst char *requires;", "\tconst char *requires /* a comma list */;")
            .replace("(keystr, flags_to_set, desc, fields...)", "(keystr,flags_to_set,desc,fields...)"))
    header = moduleh.parse("m.h", text)
    assert header.body == BODY and header.line == 27
    assert header.parameters == ("keystr", "flags_to_set", "desc", "fields...")
    # A member only named in a comment is not a member.
    commented = text.replace("\tconst char *enhances;", "\t/* const char *enhances; comes in 16 */")
    assert refusal(commented) == ("inc/module.h:5:1: error: unsupported Asterisk module.h: struct ast_module_info "
                                  "has no enhances (Asterisk before 16 has no .requires)" + SUPPORTED)


def test_missing_struct_members_are_all_named_at_the_struct_line():
    text = "\n" + MODULE_H.replace("\tconst char *requires;\n", "").replace("\tconst char *enhances;\n", "")
    assert refusal(text) == ("inc/module.h:5:1: error: unsupported Asterisk module.h: struct ast_module_info "
                             "has no requires, enhances (Asterisk before 16 has no .requires)" + SUPPORTED)


def test_no_struct_definition():
    assert refusal(MODULE_H.replace("struct ast_module_info {", "struct ast_module_infos {")) == (
        "inc/module.h:1:1: error: unsupported Asterisk module.h: no 'struct ast_module_info {' definition" + SUPPORTED)


@pytest.mark.parametrize("text, found", [
    (MODULE_H.replace("fields...)\t\\", "rest...)\t\\"), 0),
    (MODULE_H + DEFINE + "\n\tstatic int x\n", 2),
])
def test_exactly_one_plain_c_definition(text, found):
    assert refusal(text) == ("inc/module.h:1:1: error: unsupported Asterisk module.h: expected one plain-C "
                             f"'#define AST_MODULE_INFO(..., fields...)', found {found}" + SUPPORTED)


def test_other_parameter_names_are_refused_at_the_define_line():
    text = "\n" + MODULE_H.replace("(keystr, flags_to_set, desc, fields...)", "(key, flags_to_set, desc, fields...)")
    assert refusal(text) == ("inc/module.h:27:1: error: unsupported Asterisk module.h: AST_MODULE_INFO takes "
                             "(key, flags_to_set, desc, fields...), not (keystr, flags_to_set, desc, fields...)"
                             + SUPPORTED)


def test_initializer_shapes_refused_at_the_define_line():
    other = MODULE_H.replace("static struct ast_module_info \t\t\t\t\\\n\t\t__mod_info", "static struct other")
    assert refusal(other) == ("inc/module.h:26:1: error: unsupported Asterisk module.h: AST_MODULE_INFO does not "
                              "start with 'static struct ast_module_info __mod_info = {...};'" + SUPPORTED)
    # A positional member before the hand-written fields: "fields" is last, yet one item is not designated.
    positional = MODULE_H.replace('\t\t.buildopt_sum = "",\t\t\\\n', '\t\t.buildopt_sum = "",\t\t\\\n\t\tNULL,\t\\\n')
    assert refusal(positional) == ("inc/module.h:26:1: error: unsupported Asterisk module.h: the __mod_info "
                                   "initializer is not designated fields followed by 'fields'" + SUPPORTED)
    const = MODULE_H.replace("static struct ast_module_info \t", "static const struct ast_module_info \t")
    assert moduleh.parse("m.h", const).body == BODY.replace("static struct", "static const struct", 1)


def test_read_takes_the_trees_header_and_version(tmp_path):
    header = tmp_path / "include" / "asterisk" / "module.h"
    header.parent.mkdir(parents=True)
    # Any byte is read (a Latin-1 copyright sign, as old headers have), never a decoding error.
    header.write_bytes(b"/* Copyright \xa9 Digium */ " + MODULE_H.encode())
    unknown = moduleh.read(str(tmp_path))
    assert (unknown.path, unknown.version, unknown.body) == (str(header), "unknown", BODY)
    (tmp_path / ".version").write_bytes(b"22.10.1-caf\xe9\n")
    assert moduleh.read(str(tmp_path)).version == "22.10.1-caf\xe9"
    installed = moduleh.parse_file(str(header))
    assert (installed.path, installed.version, installed.line) == (str(header), "installed", 26)
    assert moduleh.parse_file(str(header), "20.1.0").version == "20.1.0"


def test_unreadable_header_is_a_clear_error(tmp_path):
    missing = tmp_path / "include" / "asterisk" / "module.h"
    with pytest.raises(InputError) as caught:
        moduleh.read(str(tmp_path))
    assert str(caught.value) == f"{missing}:0:0: error: cannot read Asterisk's module.h: No such file or directory"

"""Every consumer of the field table (buildtool/fields.py) carries every field of it.

One module is given a distinct value in every field of the table; each consumer must show each value
where the table says: the generated header (template), the record read back from a module gcc built
with it, the ctypes mirror over the same module dlopened, the tree JSON, the meson plan, xmldoc, the
menuselect XML and text summary, and include/asterisk/module.h (written by hand: its members and
initializers are parsed here), and the tree's JSON schema. A field added to the table and missed by any
of them fails here.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from buildtool import mesonplan, treefile, xmldoc
from buildtool.catalog import Catalog
from buildtool.elfinfo import read_binary, read_record
from buildtool.fields import FIELDS, LIST
from buildtool.generate import HeaderGenerator, cflags, source_hash
from buildtool.loader import abi
from buildtool.loader.meta import ModuleMeta, meta_from_record
from buildtool.model import Module, Tree
from helpers.check import CC, INCLUDE, needs_cc

ROOT = Path(__file__).resolve().parents[1]

# A distinct value for every field; the few whose values are constrained are written out.
SCALARS = {"support_level": "extended", "default_enabled": False}
# What those look like in the record and in the struct (enum ast_module_support_level of module.h).
SCALAR_TEXT = {"support_level": "extended", "default_enabled": "no"}
SCALAR_MEMBER = {"support_level": 2}


def value(field) -> object:
    if field.kind == LIST:
        return (f"{field.name}_v",)
    return SCALARS.get(field.name, f"{field.name}_v")


def text(field) -> str:
    """The value as the record writes it: one name, or the scalar."""
    return f"{field.name}_v" if field.kind == LIST else SCALAR_TEXT.get(field.name, f"{field.name}_v")


SOURCE = (b'#include "asterisk/module.h"\n'
          b"static int load_module(void) { return AST_MODULE_LOAD_SUCCESS; }\n"
          b"static int unload_module(void) { return 0; }\n"
          b'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "every field");\n')


def full_module(source: str = "res_full.c") -> Module:
    return Module(name="res_full", source=source, line=1,
                  **{f.name: value(f) for f in FIELDS if f.json is not None})


def test_every_field_has_one_name_a_place_and_a_kind():
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names))
    for key in ("json", "record", "member", "macro"):
        taken = [getattr(f, key) for f in FIELDS if getattr(f, key) is not None]
        assert len(taken) == len(set(taken)), key
    for f in FIELDS:
        assert f.kind in (LIST, "scalar")
        assert f.json is not None or f.record is not None, f.name   # else it is nowhere
        assert (f.member is None) == (f.macro is None), f.name          # a member is filled from its macro
        assert f.member is None or f.record is not None, f.name         # what the struct holds, the record holds


def test_tree_json_has_every_field_and_reads_it_back():
    module = full_module()
    data = module.to_json()
    for f in FIELDS:
        if f.json is None:
            continue
        at = data
        for key in f.json:
            at = at[key]
        assert at == (list(value(f)) if f.kind == LIST else value(f)), f.name
    assert Module.from_json(data) == module
    assert Tree.from_json(Tree(modules={"res_full": module}).to_json()).modules["res_full"] == module


def test_generated_header_defines_every_macro_and_records_every_field():
    header = HeaderGenerator().render(full_module(), SOURCE)
    digest = source_hash(SOURCE)
    for f in FIELDS:
        if f.macro and f.kind == LIST:
            assert f'#define AST_MODULE_{f.macro} "{text(f)}"\n' in header, f.name
        elif f.macro:
            assert f"#define AST_MODULE_{f.macro} " in header, f.name
        if f.record:
            want = digest if f.name == "source_hash" else text(f)
            assert f'"{f.record}={want}" "\\0"' in header, f.name


def test_module_h_members_and_initializers_follow_the_table():
    text_h = (ROOT / "include" / "asterisk" / "module.h").read_text()
    body = re.search(r"struct ast_module_info \{(.*?)\n\};", text_h, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    members = [re.search(r"(\w+)\s*(?:\)\s*\(void\))?\s*;", line).group(1).strip("*")
               for line in body.splitlines() if ";" in line]
    # the ctypes mirror is made from the table: module.h must have exactly its members, in its order
    assert members == [name for name, _ in abi.AstModuleInfo._fields_]
    for f in FIELDS:
        if f.member:
            assert f.member in members, f.name
            assert f"\t\t.{f.member} = AST_MODULE_{f.macro}, \\\n" in text_h, f.name


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    if CC is None:
        pytest.skip("no C compiler (gcc) installed")
    out = tmp_path_factory.mktemp("fields")
    source = out / "res_full.c"
    source.write_bytes(SOURCE)
    module = full_module(str(source))
    HeaderGenerator().write(module, SOURCE, out)
    target = out / "res_full.so"
    done = subprocess.run([CC, "-shared", "-fPIC", *cflags(module, out, [str(INCLUDE)]), "-o", str(target),
                           str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return target


@needs_cc
def test_record_read_back_carries_every_field(built):
    record = read_record(str(built))
    assert record == read_binary(str(built)).record
    for f in FIELDS:
        if f.record:
            want = source_hash(SOURCE) if f.name == "source_hash" else text(f)
            assert record.fields[f.record] == want, f.name
    meta = meta_from_record(record)
    for f in FIELDS:
        if f.record and f.kind == LIST:
            assert getattr(meta, f.name) == (text(f),), f.name
    assert ModuleMeta.from_row("res_full", "", meta.to_row()) == meta._replace(path="")


@needs_cc
def test_ctypes_mirror_reads_every_member_of_the_loaded_struct(built):
    handle = ctypes.CDLL(str(built), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    info = abi.read_info(ctypes.cast(handle[abi.SYMBOL.decode()], ctypes.c_void_p).value)
    for f in FIELDS:
        if f.member:
            got = getattr(info.struct, f.member)
            if f.name == "source_hash":
                assert got == source_hash(SOURCE).encode()
            else:
                assert got == SCALAR_MEMBER.get(f.name, text(f).encode()), f.name


def test_meson_plan_has_every_plan_field():
    names = {text(f) for f in FIELDS if f.kind == LIST}
    # the names a module list may keep only when they are modules of the tree
    others = {n: Module(name=n, source=f"{n}.c", line=1) for n in names}
    tree = Tree(modules={"res_full": full_module(), **others})
    plan = mesonplan.make_meson_plan(tree, Catalog())
    record = next(m for m in mesonplan.parse_plan(plan.text())["module"] if m["name"] == "res_full")
    for f in FIELDS:
        if f.plan:
            assert record[f.name] == [text(f)], f.name
    assert plan.lines[0].split("|")[1:] == list(mesonplan.MODULE_FIELDS[1:])


def test_xmldoc_and_the_tree_renderers_show_every_moduleinfo_list():
    module = full_module()
    items = xmldoc.moduleinfo_items(module)
    xml = etree.fromstring(treefile.to_menuselect_xml(Tree(modules={"res_full": module})).encode())
    shown = {(e.tag, e.text) for e in xml.iter()}
    summary = treefile.to_text(Tree(modules={"res_full": module}))
    for f in FIELDS:
        if f.kind == LIST and f.tag:
            assert (f.tag, f.tag_type, text(f)) in items, f.name
            assert any(t == text(f) for _, t in shown), f.name
            assert text(f) in summary, f.name


def test_tree_json_schema_names_every_field():
    import json
    schema = json.loads((ROOT / "buildtool" / "schemas" / "tree.schema.json").read_text())
    module = schema["$defs"]["module"]
    keys = {f.json[0] for f in FIELDS if f.json is not None} | {"category", "displayname", "line", "name", "source"}
    assert set(module["required"]) == set(module["properties"]) == keys
    for f in FIELDS:
        if f.json is not None and len(f.json) == 2:
            assert module["properties"][f.json[0]]["$ref"] == "#/$defs/required_optional", f.name
            assert f.json[1] in schema["$defs"]["required_optional"]["required"], f.name

"""The two record readers agree on real modules built with gcc (helpers/check.py builds them)."""

from __future__ import annotations

from buildtool.elfinfo import read_binary
from buildtool.elfinfo import read_record
from helpers.check import build, module_source, needs_cc, write_sources


@needs_cc
def test_fast_reader_agrees_with_elfinfo(tmp_path):
    src = write_sources(tmp_path / "src", {
        "res_a": module_source(body="int res_a_api(void) { return 1; }"),
        "res_b": module_source(requires=["res_a"], body="extern int res_a_api(void);\n"
                                                       "int use(void) { return res_a_api(); }"),
    })
    built = build(src, tmp_path / "out")
    for path in built.values():
        fast = read_binary(str(path))
        assert fast.record == read_record(str(path))
    b = read_binary(str(built["res_b"]))
    assert "res_a_api" in b.undefined
    assert "__ast_module_info" in b.defined

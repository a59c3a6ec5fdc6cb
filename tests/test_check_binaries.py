"""check --binaries: built modules against their sources (real gcc builds, read without loading)."""

from __future__ import annotations

import shutil
import struct

import pytest

from buildtool.elfinfo import MAGIC, read_record
from helpers.check import (AARCH64_CC, build, by_code, check_json, module_source, needs_cc,
                                write_sources)

pytestmark = needs_cc


def _tree(tmp_path):
    return write_sources(tmp_path / "src", {
        "res_a": module_source(body="int res_a_api(int x) { return x + 1; }"),
        "res_b": module_source(requires=["res_a"], body="extern int res_a_api(int);\n"
                                                       "int res_b_api(void) { return res_a_api(1); }"),
    })


def test_fresh_build_is_clean(tmp_path):
    src = _tree(tmp_path)
    build(src, tmp_path / "out")
    rc, report = check_json("--binaries", tmp_path / "out", src)
    assert rc == 0, report["findings"]


def test_stale_binary_after_moduleinfo_edit_without_rebuild(tmp_path):
    src = _tree(tmp_path)
    build(src, tmp_path / "out")
    text = (src / "res_a.c").read_text()
    (src / "res_a.c").write_text(text.replace("<support_level>core</support_level>",
                                              "<support_level>extended</support_level>"))
    rc, report = check_json("--binaries", tmp_path / "out", src)
    assert rc == 1
    [stale] = by_code(report, "binary-stale")
    assert stale["module"] == "res_a"
    diffs = {d["field"]: d for d in stale["differences"]}
    assert diffs["support_level"] == {"field": "support_level", "binary": "core", "source": "extended"}
    assert "source_hash" in diffs and "support_level" in stale["message"]


def test_code_only_change_is_stale_too(tmp_path):
    src = _tree(tmp_path)
    build(src, tmp_path / "out")
    with open(src / "res_b.c", "a") as handle:
        handle.write("int res_b_more(void) { return 2; }\n")
    _, report = check_json("--binaries", tmp_path / "out", src)
    [stale] = by_code(report, "binary-stale")
    assert [d["field"] for d in stale["differences"]] == ["source_hash"]
    assert "metadata is unchanged" in stale["message"]


def _patch(path, old: bytes, new: bytes):
    data = path.read_bytes()
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, new))


def test_hand_edited_binary(tmp_path):
    src = _tree(tmp_path)
    built = build(src, tmp_path / "out")
    _patch(built["res_b"], b"requires=res_a\0", b"requires=res_x\0")
    rc, report = check_json("--binaries", tmp_path / "out", src)
    assert rc == 1
    [edited] = by_code(report, "binary-metadata")
    assert edited["differences"] == [{"field": "requires", "binary": "res_x", "source": "res_a"}]


def test_abi_version_and_struct_size(tmp_path):
    src = _tree(tmp_path)
    built = build(src, tmp_path / "out")
    data = built["res_a"].read_bytes()
    at = data.index(MAGIC)
    built["res_a"].write_bytes(data[:at + 8] + struct.pack("<I", 7) + data[at + 12:])
    data = built["res_b"].read_bytes()
    at = data.index(MAGIC)
    built["res_b"].write_bytes(data[:at + 12] + struct.pack("<I", 999) + data[at + 16:])
    _, report = check_json("--binaries", tmp_path / "out", src)
    [abi] = by_code(report, "abi-version")
    assert abi["module"] == "res_a" and abi["abi_version"] == 7
    [size] = by_code(report, "struct-size")
    assert size["module"] == "res_b" and size["struct_size"] == 999 and size["expected"] == 232


def test_foreign_missing_and_unknown_binaries(tmp_path):
    src = _tree(tmp_path)
    built = build(src, tmp_path / "out")
    shutil.copy(built["res_a"], built["res_b"])          # res_b.so is res_a's build
    other = write_sources(tmp_path / "other", {"res_z": module_source()})
    build(other, tmp_path / "out" / "sub")                # a module of no scanned source
    (tmp_path / "out" / "junk.so").write_bytes(b"not elf")
    _, report = check_json("--binaries", tmp_path / "out", src)
    assert by_code(report, "binary-foreign")[0]["record_name"] == "res_a"
    assert by_code(report, "binary-unknown")[0]["path"].endswith("res_z.so")
    assert by_code(report, "binary-unreadable")[0]["path"].endswith("junk.so")
    built["res_b"].unlink()
    _, report = check_json("--binaries", tmp_path / "out", src)
    [missing] = by_code(report, "binary-missing")
    assert missing["module"] == "res_b"


def test_disabled_modules_need_no_binary(tmp_path):
    src = write_sources(tmp_path / "src", {
        "res_a": module_source(),
        "res_lib": module_source(tags="\t<depend>zlib</depend>"),
        "res_chain": module_source(requires=["res_lib"]),
        "res_off": module_source(tags="\t<defaultenabled>no</defaultenabled>"),
        "res_manual": module_source(),
    })
    catalog = tmp_path / "catalog.toml"
    catalog.write_text('[libraries]\nzlib = "zlib"\n')
    build(src, tmp_path / "out", catalogs=[catalog], only={"res_a"})
    rc, report = check_json("--catalog", catalog, "--binaries", tmp_path / "out", src)
    assert rc == 1 and {f["module"] for f in by_code(report, "binary-missing")} == {"res_chain", "res_lib", "res_manual"}
    # A disabled file is the build's whole list: a <defaultenabled>no</defaultenabled>
    # module missing from it was built (meson builds them by default), so its binary must exist.
    (tmp_path / "disabled.txt").write_text("# from the build\nres_manual not wanted here\n")
    rc, report = check_json("--catalog", catalog, "--binaries", tmp_path / "out", "--missing-library", "zlib",
                            "--disabled-file", tmp_path / "disabled.txt", src)
    assert rc == 1 and {f["module"] for f in by_code(report, "binary-missing")} == {"res_off"}
    (tmp_path / "disabled.txt").write_text("# from the build\nres_manual not wanted here\nres_off skipped\n")
    rc, report = check_json("--catalog", catalog, "--binaries", tmp_path / "out", "--missing-library", "zlib",
                            "--disabled-file", tmp_path / "disabled.txt", src)
    assert rc == 0, report["findings"]
    reasons = {f["module"]: f["reason"] for f in by_code(report, "binary-disabled")}
    assert reasons["res_lib"] == "required library zlib is absent"
    assert reasons["res_chain"].startswith("requires res_lib, which is disabled")
    assert reasons["res_off"] == "skipped"
    assert reasons["res_manual"] == "not wanted here"
    rc, report = check_json("--catalog", catalog, "--binaries", tmp_path / "out", "--missing-library", "zlib",
                            "--disabled", "res_manual", src)
    assert rc == 0 and {f["module"]: f["reason"] for f in by_code(report, "binary-disabled")}["res_off"] \
        == "<defaultenabled>no</defaultenabled>"


@pytest.mark.skipif(AARCH64_CC is None,
                    reason="aarch64-linux-gnu-gcc not installed (Debian: gcc-aarch64-linux-gnu; .ci/run installs it)")
def test_cross_architecture_binaries_are_checked_on_the_host(tmp_path):
    src = _tree(tmp_path)
    built = build(src, tmp_path / "out", cc=AARCH64_CC)
    assert read_record(str(built["res_a"])).machine == "EM_AARCH64"
    rc, report = check_json("--binaries", tmp_path / "out", src)
    assert rc == 0, report["findings"]
    # The aarch64 libc (libc6-arm64-cross) is read for the symbol check; a stale aarch64 binary is caught.
    (src / "res_b.c").write_text((src / "res_b.c").read_text().replace("<depend>res_a</depend>", ""))
    rc, report = check_json("--binaries", tmp_path / "out", src)
    assert rc == 1 and by_code(report, "binary-stale")[0]["module"] == "res_b"
    assert by_code(report, "undeclared-dependency")[0]["symbol"] == "res_a_api"

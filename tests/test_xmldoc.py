"""buildtool xmldoc: the document, third-party merge, safe parsing, hash verification (warn/refuse)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

from lxml import etree

from buildtool import xmldoc
from buildtool.elfinfo import read_record
from helpers.check import build, by_code, check_json, module_source, needs_cc, run_cli, write_sources

DOC = """
/*** DOCUMENTATION
	<application name="Foo" language="en_US">
		<synopsis>Foo &amp; bar, caf\u00e9</synopsis>
		<see-also><xi:include xpointer="xpointer(/docs/application[@name='Dial']/synopsis)"/></see-also>
	</application>
 ***/
"""


def _tree(tmp_path):
    return write_sources(tmp_path / "src", {
        "res_a": module_source(body=DOC + "int res_a_api(void) { return 1; }",
                               tags="\t<provide>sorcery</provide>"),
        "res_b": module_source(requires=["res_a"], uses=["res_c"], support="extended",
                               tags='\t<depend type="interface">sorcery</depend>',
                               body="extern int res_a_api(void);\nint b(void) { return res_a_api(); }"),
        "res_c": module_source(),
    })


def test_document_shape_and_determinism(tmp_path):
    src = _tree(tmp_path)
    out = tmp_path / "core-en_US.xml"
    done = run_cli("xmldoc", "-o", out, src)
    assert done.returncode == 0, done.stderr
    root = etree.parse(str(out)).getroot()
    assert root.tag == "docs"
    modules = root.findall("module")
    assert [m.get("name") for m in modules] == ["res_a", "res_b", "res_c"]
    b = modules[1]
    assert b.get("support_level") == "extended" and b.get("description") == "test module"
    assert b.get("source_hash") == "sha256:" + hashlib.sha256((src / "res_b.c").read_bytes()).hexdigest()
    items = [(e.tag, e.get("type"), e.text) for e in b.find("moduleinfo")]
    assert items == [("depend", "module", "res_a"), ("depend", "interface", "sorcery"), ("use", "module", "res_c")]
    app = modules[0].find("application")
    assert app.get("name") == "Foo" and app.findtext("synopsis") == "Foo & bar, caf\u00e9"
    assert modules[0].find(".//{http://www.w3.org/2001/XInclude}include") is not None
    # another process (another hash seed), another copy of the sources at another depth, another
    # working directory: the same bytes
    copy = shutil.copytree(src, tmp_path / "elsewhere" / "deeper" / "src")
    again = tmp_path / "again.xml"
    done = subprocess.run([sys.executable, "-m", "buildtool", "xmldoc", "-o", str(again), "."], cwd=copy,
                          env={**os.environ, "PYTHONHASHSEED": "7"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert again.read_bytes() == out.read_bytes()


def test_documentation_with_dtd_or_entity_is_refused(tmp_path):
    src = write_sources(tmp_path / "src", {
        "res_x": module_source(body='/*** DOCUMENTATION\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                    "<application name='X'>&e;</application>\n ***/\n"),
        "res_y": module_source(body="/*** DOCUMENTATION\n<application name='Y'>&undefined;</application>\n ***/\n"),
    })
    done = run_cli("xmldoc", "-o", tmp_path / "doc.xml", src)
    assert done.returncode == 1
    assert "xmldoc-invalid" in done.stderr and "passwd" not in (tmp_path / "doc.xml").read_text()
    assert done.stderr.count("[xmldoc-invalid]") == 2


def test_thirdparty_documents_are_merged(tmp_path):
    src = _tree(tmp_path)
    third = tmp_path / "thirdparty"
    third.mkdir()
    (third / "res_mine.xml").write_text(
        '<?xml version="1.0"?><docs><module name="res_mine" support_level="external">'
        '<moduleinfo><depend type="module">res_a</depend></moduleinfo></module>'
        '<application name="Mine"/></docs>')
    out = tmp_path / "doc.xml"
    assert run_cli("xmldoc", "--thirdparty-dir", third, "-o", out, src).returncode == 0
    root = etree.parse(str(out)).getroot()
    assert [m.get("name") for m in root.findall("module")] == ["res_a", "res_b", "res_c", "res_mine"]
    assert root.find("application").get("name") == "Mine"
    # A loader merges the directory at start-up the same way.
    plain = tmp_path / "plain.xml"
    run_cli("xmldoc", "-o", plain, src)
    document = xmldoc.load_document(str(plain), str(third))
    assert document.modules["res_mine"].source_hash is None and "res_a" in document.modules


@needs_cc
def test_verify_hashes_warn_and_refuse(tmp_path):
    src = _tree(tmp_path)
    built = build(src, tmp_path / "out")
    doc = tmp_path / "doc.xml"
    run_cli("xmldoc", "-o", doc, src)
    records = [read_record(str(p)) for p in built.values()]
    assert xmldoc.verify_hashes(str(doc), records, "refuse") == []
    # The source changes and the document is regenerated, the binary is not rebuilt.
    with open(src / "res_b.c", "a") as handle:
        handle.write("/* changed */\n")
    run_cli("xmldoc", "-o", doc, src)
    document = xmldoc.load_document(str(doc))
    warned = xmldoc.verify_hashes(document, records, "warn")
    assert [(d.code, d.severity.value, d.module) for d in warned] == [("xmldoc-hash-mismatch", "warning", "res_b")]
    refused = xmldoc.verify_hashes(document, records, "refuse")
    assert xmldoc.refused(refused) == {"res_b"}
    del document.modules["res_c"]
    assert ("xmldoc-missing", "res_c") in {(d.code, d.module) for d in xmldoc.verify_hashes(document, records)}
    # check --xmldoc with --binaries reports the mismatch; the stale binary too.
    rc, report = check_json("--binaries", tmp_path / "out", "--xmldoc", doc, src)
    assert rc == 1
    assert by_code(report, "xmldoc-hash-mismatch")[0]["module"] == "res_b"
    assert by_code(report, "binary-stale")[0]["module"] == "res_b"


def test_check_xmldoc_against_sources(tmp_path):
    src = _tree(tmp_path)
    doc = tmp_path / "doc.xml"
    run_cli("xmldoc", "-o", doc, src)
    rc, report = check_json("--xmldoc", doc, src)
    assert rc == 0, report["findings"]
    (src / "res_c.c").write_text((src / "res_c.c").read_text().replace(
        "<support_level>core</support_level>", "<depend>res_a</depend>\n\t<support_level>core</support_level>"))
    write_sources(src, {"res_new": module_source()})
    rc, report = check_json("--xmldoc", doc, src)
    assert rc == 1
    [stale] = by_code(report, "xmldoc-stale")
    assert stale["module"] == "res_c" and any("res_a" in d for d in stale["differences"])
    assert by_code(report, "xmldoc-missing")[0]["module"] == "res_new"
    bad = tmp_path / "bad.xml"
    bad.write_text("<docs><module name='x'></docs>")
    _, report = check_json("--xmldoc", bad, src)
    assert by_code(report, "xmldoc-invalid")

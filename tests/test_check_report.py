"""Report formats: JSON schema 1, text, JUnit (validated against junit.xsd), SARIF 2.1.0 (official schema)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import jsonschema
from lxml import etree

from buildtool.diagnostics import Severity, error, note, warning
from buildtool.check.report import render_json, render_junit, render_sarif, render_text
from helpers.check import FIXTURES, run_cli

SCHEMAS = FIXTURES / "schemas"
HW = FIXTURES / "handwritten"

FINDINGS = [
    error("modules/res_b.c", 3, 2, "hand-written-drift", "drifted", module="res_b",
          data={"field": "requires", "only_in_moduleinfo": ["res_a"], "only_in_hand_written": []}),
    warning("modules/res_b.c", 2, 1, "support-level-policy", "core requires extended", module="res_b"),
    note("out/res_z.so", 0, 0, "binary-unknown", "a stray binary"),
    error("dir with space/res_c.c", 1, 1, "dependency-cycle", "cycle", module="res_c", data={"cycle": ["res_c"]}),
]
MODULES = ["res_a", "res_b", "res_c"]


def test_json_shape():
    out = json.loads(render_json(FINDINGS, MODULES, Severity.ERROR))
    assert out["schema"] == 1 and len(out["findings"]) == 4
    first = out["findings"][0]
    assert set(first) >= {"path", "line", "column", "severity", "code", "message"}
    drift = next(f for f in out["findings"] if f["code"] == "hand-written-drift")
    assert drift["module"] == "res_b" and drift["field"] == "requires"
    assert out["summary"]["errors"] == 2 and out["summary"]["warnings"] == 1 and out["summary"]["notes"] == 1
    assert out["summary"]["modules"] == 3 and out["summary"]["failed"] is True


def test_text_is_compiler_style():
    text = render_text(FINDINGS, MODULES, Severity.ERROR)
    assert "modules/res_b.c:3:2: error: drifted [hand-written-drift]" in text.splitlines()


def _junit_schema():
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "junit.xsd")))


def test_junit_valid_one_testcase_per_module():
    doc = etree.fromstring(render_junit(FINDINGS, MODULES, Severity.ERROR).encode())
    _junit_schema().assertValid(doc)
    cases = {c.get("name"): c for c in doc.iter("testcase")}
    assert set(cases) == {"res_a", "res_b", "res_c", "(tree)"}
    assert cases["res_a"].find("failure") is None
    assert cases["res_b"].find("failure").get("type") == "hand-written-drift"
    assert "support-level-policy" in cases["res_b"].find("system-out").text
    assert doc.find("testsuite").get("failures") == "2"
    # --fail-on warning turns the warning into a failure too.
    doc = etree.fromstring(render_junit(FINDINGS, MODULES, Severity.WARNING).encode())
    assert len(doc.find("testsuite").findall("testcase[@name='res_b']/failure")) == 2


def _sarif_validator():
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def test_sarif_valid_against_the_official_schema():
    log = json.loads(render_sarif(FINDINGS, MODULES, Severity.ERROR))
    _sarif_validator().validate(log)
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert {r["level"] for r in results} == {"error", "warning", "note"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    stray = next(r for r in results if r["ruleId"] == "binary-unknown")
    assert "region" not in stray["locations"][0]["physicalLocation"]  # line 0: no region
    spaced = next(r for r in results if r["ruleId"] == "dependency-cycle")
    assert spaced["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dir%20with%20space/res_c.c"


def test_cli_formats_on_a_real_tree_validate(tmp_path):
    for fmt in ("junit", "sarif", "json", "text"):
        out = tmp_path / f"report.{fmt}"
        done = run_cli("check", "--hand-written", "--catalog", HW / "catalog.toml", "--format", fmt, "-o", out, HW)
        assert done.returncode == 1, done.stderr
        data = out.read_bytes()
        if fmt == "junit":
            doc = etree.fromstring(data)
            _junit_schema().assertValid(doc)
            assert len(list(doc.iter("testcase"))) == 8
        elif fmt == "sarif":
            _sarif_validator().validate(json.loads(data))
        elif fmt == "json":
            assert json.loads(data)["summary"]["errors"] == 5
        else:
            lines = data.decode().splitlines()
            found = [re.fullmatch(r"(.+):(\d+):(\d+): error: .+ \[([a-z-]+)\]", line) for line in lines[:-1]]
            assert all(found), lines
            assert [(m[1], int(m[2]), int(m[3]), m[4]) for m in found] == [
                (str(HW / "res_after_fields.c"), 19, 2, "hand-written-drift"),
                (str(HW / "res_builtins.c"), 14, 2, "hand-written-builtin"),
                (str(HW / "res_enhancer.c"), 10, 114, "hand-written-drift"),
                (str(HW / "res_multiline.c"), 14, 2, "hand-written-drift"),
                (str(HW / "res_no_list.c"), 1, 1, "hand-written-drift")]
            assert lines[-1] == "8 modules checked: 5 errors, 0 warnings, 0 notes"


def test_reports_are_the_same_bytes_from_another_process_and_directory(tmp_path):
    # Two copies of the fixture at different depths, each checked from its own directory by a child process
    # with its own hash seed: every format gives the same bytes.
    outputs = []
    for i, where in enumerate((tmp_path / "a", tmp_path / "b" / "c" / "d")):
        copy = shutil.copytree(HW, where / "hw")
        env = {**os.environ, "PYTHONHASHSEED": str(i + 1)}
        got = {}
        for fmt in ("junit", "sarif", "json", "text"):
            done = subprocess.run([sys.executable, "-m", "buildtool", "check", "--hand-written", "--catalog",
                                   "catalog.toml", "--format", fmt, "."], cwd=copy, env=env, capture_output=True)
            assert done.returncode == 1, done.stderr
            got[fmt] = done.stdout
        outputs.append(got)
    assert outputs[0] == outputs[1]
    assert all(str(tmp_path).encode() not in data for data in outputs[0].values())

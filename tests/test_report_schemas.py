"""The JSON reports a pipeline consumes validate against the schemas shipped in buildtool/schemas/."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import jsonschema

from helpers.build import REPO


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("buildtool").joinpath(f"schemas/{name}").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def buildtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "buildtool", *args], capture_output=True, text=True, cwd=REPO)


def test_check_report_validates(built_modules):
    done = buildtool("check", "--format", "json", "--hand-written", "--catalog", str(built_modules.catalog),
                     "--binaries", str(built_modules.modules_dir), str(REPO / "modules"))
    report = json.loads(done.stdout)
    validator("check.schema.json").validate(report)
    assert report["summary"]["failed"] == (done.returncode == 1)
    assert report["findings"], "a real tree with hand-written mode gives findings to validate"


def test_check_schema_rejects_a_malformed_report():
    bad = {"schema": 1, "findings": [{"path": "x.c", "line": 1, "column": 1, "severity": "fatal", "code": "x",
                                      "message": "m"}], "summary": {}}
    assert len(list(validator("check.schema.json").iter_errors(bad))) >= 2


def test_load_reports_validate(built_modules):
    common = ["load", "--format", "json", "--modules-dir", str(built_modules.modules_dir),
              "--config", str(REPO / "modules" / "modules.conf"), "--preload-library", str(built_modules.core_library)]
    for extra in ([], ["--dry-run"], ["--then", "unload res_pjsip", "--then", "unload -r res_pjsip",
                                      "--then", "load chan_pjsip", "--then", "reload res_fax"]):
        done = buildtool(*common, *extra)
        report = json.loads(done.stdout)
        validator("load.schema.json").validate(report)
        assert report["errors"] == [], report["errors"]
    assert [c["ok"] for c in report["commands"]] == [False, True, True, True]


def test_load_report_of_a_bad_config_validates(tmp_path, built_modules):
    conf = tmp_path / "modules.conf"
    conf.write_text("[modules]\nload => ../etc/passwd\n")
    done = buildtool("load", "--format", "json", "--modules-dir", str(built_modules.modules_dir), "--config", str(conf))
    assert done.returncode == 2
    report = json.loads(done.stdout)
    validator("load.schema.json").validate(report)

"""`buildtool scan --format json` output against buildtool/schemas/tree.schema.json."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import buildtool
from buildtool import catalog
from buildtool.model import Tree
from buildtool.scan import scan

FIXTURES = Path(__file__).parent / "fixtures" / "scan"
SCHEMA_PATH = Path(buildtool.__file__).parent / "schemas" / "tree.schema.json"
CATALOGS = ["catalog.toml", "menuselect-deps.in", "cflags.xml"]


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def scenario_paths() -> list[list[str]]:
    out = []
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        subdirs = sorted(str(p.relative_to(FIXTURES)) for p in folder.iterdir() if p.is_dir())
        out.append(subdirs or [folder.name])
    return out


@pytest.mark.parametrize("paths", scenario_paths(), ids=lambda p: p[0].split("/")[0])
def test_fixture_scan_output_is_valid(validator, paths):
    result = subprocess.run([sys.executable, "-m", "buildtool", "scan", "--format", "json",
                             *[a for c in CATALOGS for a in ("--catalog", c)], *paths],
                            cwd=FIXTURES, capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    assert errors == [], [e.message for e in errors]
    assert data["modules"], "every fixture folder holds at least one module"
    # What the schema cannot say: keys match names, and the tree reads back equal.
    for name, module in data["modules"].items():
        assert module["name"] == name
    assert Tree.from_json(data).to_json() == data


def test_io_error_output_is_valid(validator, tmp_path):
    data = scan([str(tmp_path / "nowhere")]).to_json()
    validator.validate(data)
    assert data["diagnostics"][0]["line"] == 0


def test_whole_fixture_tree_is_valid(validator, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    paths = [p for group in scenario_paths() for p in group if not p.startswith("duplicate-module")]
    data = scan(paths, catalog.load_all(CATALOGS)).to_json()
    validator.validate(data)
    assert len(data["modules"]) > 30


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(schema=2),  # the schema before provided names
    lambda d: d.update(schema=5),
    lambda d: d["modules"]["res_self"].pop("displayname"),
    lambda d: d["modules"]["res_self"].pop("names"),
    lambda d: d["modules"]["res_self"].update(names=["application"]),
    lambda d: d["modules"]["res_self"].update(names=["widget:Gosub"]),
    lambda d: d["modules"]["res_self"].update(names=["application:Go,sub"]),
    lambda d: d["modules"]["res_self"].pop("interfaces"),
    lambda d: d["modules"]["res_self"].update(extra=1),
    lambda d: d["modules"]["res_self"].update(requires=["a", "a"]),
    lambda d: d["modules"]["res_self"].update(requires=["bad name"]),
    lambda d: d["modules"]["res_self"].update(support_level="gold"),
    lambda d: d["modules"]["res_self"]["libraries"].pop("optional"),
    lambda d: d["modules"]["res_self"].update(interfaces={"required": ["x"]}),
    lambda d: d["modules"]["res_self"].update(default_enabled="yes"),
    lambda d: d["diagnostics"][0].update(severity="fatal"),
    lambda d: d["diagnostics"][0].pop("line"),
    lambda d: d["diagnostics"][0].update(code="Not A Code"),
], ids=range(18))
def test_schema_rejects_broken_trees(validator, monkeypatch, mutate):
    monkeypatch.chdir(FIXTURES)
    data = scan(["self-dependency"]).to_json()
    validator.validate(data)
    broken = copy.deepcopy(data)
    mutate(broken)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)

"""Renderers for findings: compiler-style text, JSON (schema 1), JUnit XML, SARIF 2.1.0.

Every renderer is deterministic: findings sorted as ``Diagnostic.sort_key``,
no time stamps, no host names, so two runs over the same inputs give the same
bytes and a report can be diffed or cached.
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from pathlib import PurePosixPath, Path
from typing import Iterable, Sequence

from lxml import etree

from buildtool import __version__
from buildtool.diagnostics import Diagnostic, Severity

SCHEMA_VERSION = 1
FORMATS = ("text", "json", "junit", "sarif")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
NO_MODULE = "(tree)"


def ordered(findings: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(findings, key=lambda d: (d.sort_key(), d.module or ""))


def failing(findings: Iterable[Diagnostic], fail_on: Severity) -> list[Diagnostic]:
    return [d for d in findings if d.severity.rank >= fail_on.rank]


def summary(findings: Sequence[Diagnostic], modules: Sequence[str], fail_on: Severity) -> dict:
    counts = Counter(d.severity for d in findings)
    failed_modules = {d.module or NO_MODULE for d in failing(findings, fail_on)}
    return {
        "errors": counts[Severity.ERROR],
        "warnings": counts[Severity.WARNING],
        "notes": counts[Severity.NOTE],
        "modules": len(modules),
        "modules_failed": len(failed_modules),
        "fail_on": fail_on.value,
        "failed": bool(failed_modules),
        "codes": dict(sorted(Counter(d.code for d in findings).items())),
    }


def render_text(findings: Sequence[Diagnostic], modules: Sequence[str], fail_on: Severity) -> str:
    lines = [d.render() for d in ordered(findings)]
    s = summary(findings, modules, fail_on)
    lines.append(f"{s['modules']} modules checked: {s['errors']} errors, {s['warnings']} warnings, "
                 f"{s['notes']} notes")
    return "\n".join(lines) + "\n"


def render_json(findings: Sequence[Diagnostic], modules: Sequence[str], fail_on: Severity) -> str:
    out = {"schema": SCHEMA_VERSION, "findings": [d.to_json() for d in ordered(findings)],
           "summary": summary(findings, modules, fail_on)}
    return json.dumps(out, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_junit(findings: Sequence[Diagnostic], modules: Sequence[str], fail_on: Severity,
                 categories: dict[str, str] | None = None) -> str:
    """One ``<testcase>`` per module (plus ``(tree)`` for findings of no module).

    Findings at or above ``fail_on`` are ``<failure>`` elements (one per
    finding, ``type`` the code); the others are listed in ``<system-out>``.
    Valid against the Jenkins/Ant ``junit.xsd`` (tests/fixtures/schemas/junit.xsd).
    """
    categories = categories or {}
    by_module: dict[str, list[Diagnostic]] = {name: [] for name in modules}
    for d in ordered(findings):
        by_module.setdefault(d.module or NO_MODULE, []).append(d)
    names = sorted(by_module)
    failures = sum(1 for n in names if failing(by_module[n], fail_on))
    root = etree.Element("testsuites", name="buildtool check", tests=str(len(names)), failures=str(failures),
                         errors="0", time="0")
    suite = etree.SubElement(root, "testsuite", name="buildtool.check", tests=str(len(names)),
                             failures=str(failures), errors="0", skipped="0", time="0")
    for name in names:
        category = categories.get(name)
        classname = f"buildtool.check.{category}" if category else "buildtool.check"
        case = etree.SubElement(suite, "testcase", name=name, classname=classname, time="0")
        found = by_module[name]
        for d in failing(found, fail_on):
            failure = etree.SubElement(case, "failure", message=d.message, type=d.code)
            failure.text = d.render()
        others = [d for d in found if d.severity.rank < fail_on.rank]
        if others:
            out = etree.SubElement(case, "system-out")
            out.text = "\n".join(d.render() for d in others) + "\n"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def _uri(path: str) -> str:
    if Path(path).is_absolute():
        return Path(path).as_uri()
    return urllib.parse.quote(PurePosixPath(Path(path).as_posix()).as_posix())


def render_sarif(findings: Sequence[Diagnostic], modules: Sequence[str], fail_on: Severity) -> str:
    from buildtool.check.codes import CODES, describe

    items = ordered(findings)
    codes = sorted({d.code for d in items})
    rules = []
    for code in codes:
        rule = {"id": code, "name": code, "shortDescription": {"text": describe(code)}}
        if code in CODES:
            rule["defaultConfiguration"] = {"level": _SARIF_LEVEL[CODES[code][0]]}
        rules.append(rule)
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for d in items:
        location: dict = {"artifactLocation": {"uri": _uri(d.path)}}
        if d.line >= 1:
            region = {"startLine": d.line}
            if d.column >= 1:
                region["startColumn"] = d.column
            location["region"] = region
        result = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": d.message},
            "locations": [{"physicalLocation": location}],
        }
        properties = {k: v for k, v in d.to_json().items()
                      if k not in ("path", "line", "column", "severity", "code", "message")}
        if properties:
            result["properties"] = properties
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "buildtool", "version": __version__, "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {"summary": summary(findings, modules, fail_on)},
        }],
    }
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "junit": render_junit, "sarif": render_sarif}


def render(fmt: str, findings: Sequence[Diagnostic], modules: Sequence[str], fail_on: Severity,
           categories: dict[str, str] | None = None) -> str:
    if fmt == "junit":
        return render_junit(findings, modules, fail_on, categories)
    return RENDERERS[fmt](findings, modules, fail_on)

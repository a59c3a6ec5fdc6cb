"""A module whose code ends the process still gets a report (buildtool/loader/supervise.py).

Each case is a real module built by gcc and loaded by ``buildtool load`` in a child process; its
``load()`` (or constructor, or ``unload()``) calls exit(), segfaults, aborts or kills itself.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from loader_helpers import ROOT, _bt, built_dir, core_lib, make_modules_dir, run_load


SCHEMA = json.loads((ROOT / "buildtool" / "schemas" / "load.schema.json").read_text())


@pytest.fixture(scope="session", autouse=True)
def _modules():
    return built_dir()


@pytest.mark.parametrize("killer, how", [
    ("kl_exit0", "exited with status 0 (exit() was called)"),
    ("kl_exit3", "exited with status 3 (exit() was called)"),
    ("kl_segv", "was killed by SIGSEGV (exit status 139)"),
    ("kl_abort", "was killed by SIGABRT (exit status 134)"),
    ("kl_kill", "was killed by SIGKILL (exit status 137)"),
    ("kl_ctor", "was killed by SIGSEGV (exit status 139)"),
])
def test_a_module_that_ends_the_process_is_named_in_a_report(tmp_path, killer, how):
    out = tmp_path / "report.json"
    run = run_load(tmp_path, ["kl_base", killer, "kl_zlast"], None, "-o", str(out))
    assert run.rc == 1, run                           # start-up failed, whatever status the module chose
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)               # the parent's report is a report like any other
    where = "while opening it (its constructors run at dlopen)" if killer == "kl_ctor" else "in its load()"
    assert report["failed"] == {killer: f"{where}, the process {how}"}
    assert report["order"] == ["kl_base"]              # what loaded before it
    assert report["use_counts"] == {"kl_base": 0}
    assert report["skipped"] == {"kl_zlast": "start-up stopped before it was attempted"}
    assert report["errors"][-1]["message"] == f"start-up stopped: {killer}: {where}, the process {how}"
    assert f"buildtool load: start-up stopped: {killer}: " in run.stderr
    assert "Traceback" not in run.stderr
    # the C side agrees: kl_base's load() ran, nothing after the killer did
    assert run.log[0] == "load kl_base" and "load kl_zlast" not in run.log


def test_the_text_report_too(tmp_path):
    run = run_load(tmp_path, ["kl_base", "kl_segv"], None, "--format", "text")
    assert run.rc == 1
    assert "kl_segv  failed: in its load(), the process was killed by SIGSEGV" in run.stdout
    assert "loaded order: kl_base" in run.stdout


def test_a_module_that_exits_in_a_runtime_command(tmp_path):
    run = run_load(tmp_path, ["kl_base", "kl_unload"], None, "--then", "unload kl_base",
                   "--then", "unload kl_unload", "--then", "load kl_base")
    assert run.rc == 1, run
    jsonschema.validate(run.report, SCHEMA)
    first, second = run.report["commands"]            # the third never ran
    assert first["ok"] and first["unloaded"] == ["kl_base"]
    assert second == {"command": "unload kl_unload", "ok": False,
                      "message": "kl_unload: in its unload(), the process exited with status 5 (exit() was called)",
                      "use_counts": {}, "mapped": []}
    assert run.report["failed"] == {"kl_unload": "in its unload(), the process exited with status 5 "
                                                 "(exit() was called)"}


def test_supervision_changes_nothing_when_no_module_misbehaves(tmp_path):
    supervised = run_load(tmp_path / "a", ["uc_base", "uc_opt", "uc_a"], None, "--then", "unload uc_a")
    plain = run_load(tmp_path / "b", ["uc_base", "uc_opt", "uc_a"], None, "--then", "unload uc_a",
                     "--no-supervise")
    assert supervised.rc == plain.rc == 0
    strip = lambda r: {k: v for k, v in r.items() if k != "modules_dir"}  # noqa: E731
    assert strip(supervised.report) == strip(plain.report)
    assert supervised.log == plain.log


def test_modules_reports_the_module_that_killed_the_process(tmp_path):
    mdir = make_modules_dir(tmp_path / "modules", ["kl_base", "kl_segv", "kl_zlast"])
    done = _bt("modules", "--modules-dir", str(mdir), "--preload-library", str(core_lib()))
    assert done.returncode == 1, done
    table, _, why = done.stdout.partition("Why not running:\n")
    rows = {line.split()[0]: line for line in table.splitlines()[1:-1]}
    assert rows["kl_base.so"].split()[-2:] == ["Running", "core"]
    assert rows["kl_segv.so"].split()[-2:] == ["Failed", "core"]
    assert "Not Running" in rows["kl_zlast.so"]  # never attempted
    assert table.splitlines()[-1] == "1 modules loaded"
    assert "  kl_zlast.so: start-up stopped before it was attempted" in why.splitlines()
    assert done.stderr == ("buildtool modules: start-up stopped: kl_segv: in its load(), the process was killed "
                           "by SIGSEGV (exit status 139)\n")


def test_the_journal_keeps_its_final_mark_when_full_and_its_records_whole():
    from buildtool.loader.runtime import ModuleState
    from buildtool.loader.supervise import Journal
    journal = Journal(64)
    for _ in range(10):
        journal.opening("mod")
    journal.mark("W")
    records = journal.records()
    assert records[-1] == ["W"] and all(r == ["O", "mod"] for r in records[:-1]) and journal.overflowed()
    journal = Journal()
    journal.state(ModuleState("a\x1eb", "p", status="declined", reason="why\x1fnot", refs=["x", "y"]))
    assert journal.records() == [["S", "a b", "declined", "why not", "", "0", "x,y"]]

"""Runtime load/unload/reload in one child process (buildtool load --then ...)."""

from __future__ import annotations

import pytest

from loader_helpers import built_dir, run_load


@pytest.fixture(scope="session", autouse=True)
def _modules():
    return built_dir()


UC = ["uc_base", "uc_opt", "uc_a", "uc_b", "uc_c"]


def commands(run):
    return run.report["commands"]


def test_unload_in_use_is_refused(tmp_path):
    run = run_load(tmp_path, UC, None, "--then", "unload uc_base")
    [cmd] = commands(run)
    assert not cmd["ok"] and "in use" in cmd["message"] and "uc_a, uc_b" in cmd["message"]
    assert "uc_base" in cmd["mapped"]
    assert run.rc == 1


def test_recursive_unload_reverse_order_and_really_unmapped(tmp_path):
    run = run_load(tmp_path, UC, None, "--then", "unload -r uc_base", "--then", "load uc_c")
    unload, load = commands(run)
    assert unload["ok"], unload
    assert unload["unloaded"] == ["uc_c", "uc_a", "uc_b", "uc_base"]  # dependants first, reverse load order
    assert unload["mapped"] == ["uc_opt"]  # dlclose really unmapped them (/proc/self/maps)
    assert unload["use_counts"] == {"uc_opt": 0}  # uc_a's reference on uc_opt was dropped
    assert [l for l in run.log if l.startswith("unload")] == [
        "unload uc_c", "unload uc_a", "unload uc_b", "unload uc_base"]
    # runtime load brings what it requires first, and use counts come back
    assert load["ok"] and load["loaded"] == ["uc_base", "uc_a", "uc_c"]
    assert load["use_counts"] == {"uc_opt": 1, "uc_base": 1, "uc_a": 1, "uc_c": 0}
    assert run.rc == 0


def test_global_module_whose_symbols_were_used_is_really_unmapped(tmp_path):
    # gl_user calls gl_lib's function through the global scope, and the loader looked that symbol up
    # before gl_user's load(): neither may pin gl_lib in memory once both are unloaded.
    run = run_load(tmp_path, ["gl_lib", "gl_user", "gen_a"], None, "--then", "unload -r gl_lib")
    [unload] = commands(run)
    assert unload["ok"], unload
    assert unload["unloaded"] == ["gl_user", "gl_lib"]
    assert unload["mapped"] == ["gen_a"]
    assert run.report["errors"] == []
    assert run.rc == 0


def test_unload_takes_dependencies_loaded_only_for_it(tmp_path):
    conf = "[modules]\nautoload = no\nload => rt_top\nload => rt_exp\n"
    run = run_load(tmp_path, ["rt_dep", "rt_exp", "rt_top"], conf, "--then", "unload rt_top")
    [cmd] = commands(run)
    assert cmd["ok"], cmd
    assert cmd["unloaded"] == ["rt_top", "rt_dep"]  # rt_exp was named by load =>, it stays
    assert cmd["mapped"] == ["rt_exp"]


def test_runtime_load_marks_dependencies_as_dependencies(tmp_path):
    conf = "[modules]\nautoload = no\n"
    run = run_load(tmp_path, ["rt_dep", "rt_exp", "rt_top"], conf,
                   "--then", "load rt_exp", "--then", "load rt_top", "--then", "unload rt_top")
    load_exp, load_top, unload = commands(run)
    assert load_top["loaded"] == ["rt_dep", "rt_top"]
    assert unload["unloaded"] == ["rt_top", "rt_dep"]
    assert unload["mapped"] == ["rt_exp"]


def test_reload(tmp_path):
    run = run_load(tmp_path, ["uc_base", "rt_noreload"], None, "--then", "reload uc_base",
                   "--then", "reload rt_noreload")
    ok, missing = commands(run)
    assert ok["ok"] and "reload uc_base" in run.log
    assert not missing["ok"] and "no reload" in missing["message"]


def test_command_file(tmp_path):
    cmds = tmp_path / "cmds"
    cmds.write_text("# runtime script\nunload -r uc_base\nload uc_b\n")
    run = run_load(tmp_path / "run", UC, None, "--commands", str(cmds))
    assert [c["ok"] for c in commands(run)] == [True, True]
    assert run.report["order"] == ["uc_opt", "uc_base", "uc_b"]

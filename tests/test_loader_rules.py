"""Start-up rules, with real generated, gcc-built modules loaded in child processes.

Every ordering test loads its modules once for real in a child process (the C-side event log records
what ran), and plans them twice more in-process with the directory listing and the file creation
order shuffled; the plans must be identical and the real load must follow them (run_shuffled).
"""

from __future__ import annotations

import shutil

import pytest

from loader_helpers import built_dir, run_load, run_shuffled


@pytest.fixture(scope="session", autouse=True)
def _modules():
    return built_dir()


def loads(run):
    return [line.split()[1] for line in run.log if line.startswith("load ")]


def test_implied_noload_with_autoload(tmp_path):
    names = ["inl_base", "inl_mid", "inl_top", "inl_opt", "inl_free"]
    run = run_shuffled(tmp_path, names, "[modules]\nautoload = yes\nnoload => inl_base.so\n")
    assert run.rc == 0, run
    r = run.report
    assert r["order"] == ["inl_free", "inl_opt"]  # optional use does not imply noload
    assert loads(run) == ["inl_free", "inl_opt"]
    assert "noload => inl_base" in r["skipped"]["inl_base"]
    assert "inl_top -> inl_mid -> inl_base" in r["why"]["inl_top"]
    assert "modules.conf:3" in r["why"]["inl_top"]


def test_implied_noload_contradicted_by_load_is_an_error(tmp_path):
    conf = "[modules]\nautoload = yes\nnoload => inl_base\n; keep it\nload => inl_top.so\n"
    run = run_load(tmp_path, ["inl_base", "inl_mid", "inl_top"], conf)
    assert run.rc == 2, run
    [err] = run.report["errors"]
    assert err["code"] == "loader-implied-noload"
    assert err["line"] == 5 and err["path"].endswith("modules.conf")
    assert "modules.conf:3" in err["message"] and "modules.conf:5" in err["message"]
    assert err["chain"] == ["inl_top", "inl_mid", "inl_base"]
    assert run.log == []  # nothing was loaded


def test_implied_load_without_autoload(tmp_path):
    names = ["ild_base", "ild_mid", "ild_top", "ild_other", "ild_opt", "ild_user"]
    run = run_shuffled(tmp_path, names, "[modules]\nautoload = no\nload => ild_top\nload => ild_user\n")
    assert run.rc == 0, run
    r = run.report
    assert r["order"] == ["ild_base", "ild_mid", "ild_top", "ild_user"]  # optional ild_opt not pulled in
    assert "ild_top -> ild_mid -> ild_base" in r["why"]["ild_base"]
    assert "load => ild_top' at" in r["why"]["ild_base"]
    assert "autoload=no" in r["why"]["ild_other"]
    assert r["explicit"] == ["ild_top", "ild_user"]


def test_implied_load_contradicted_by_noload_is_an_error(tmp_path):
    conf = "[modules]\nautoload = no\nload => ild_top\nnoload => ild_base\n"
    run = run_load(tmp_path, ["ild_base", "ild_mid", "ild_top"], conf)
    assert run.rc == 2, run
    [err] = run.report["errors"]
    assert err["code"] == "loader-implied-load" and err["line"] == 4
    assert "modules.conf:3" in err["message"] and "ild_top -> ild_mid -> ild_base" in err["message"]


def test_preload_first(tmp_path):
    run = run_shuffled(tmp_path, ["pre_a", "pre_b", "pre_y", "pre_z"], "[modules]\npreload => pre_z\n")
    assert run.rc == 0, run
    assert run.report["order"] == ["pre_y", "pre_z", "pre_a", "pre_b"]
    assert loads(run) == run.report["order"]
    assert run.report["preload"] == ["pre_y", "pre_z"]


def test_decline_propagates_with_chain(tmp_path):
    run = run_shuffled(tmp_path, ["dc_base", "dc_mid", "dc_top", "dc_ok", "dc_optuser"])
    assert run.rc == 0, run
    r = run.report
    assert r["order"] == ["dc_ok", "dc_optuser"]
    assert r["declined"]["dc_base"] == "load() returned DECLINE"
    assert "dc_mid, which declined" in r["declined"]["dc_top"]
    assert "load() returned DECLINE" in r["declined"]["dc_top"]
    assert loads(run) == ["dc_base", "dc_ok", "dc_optuser"]  # dependants' load() never ran


def test_failure_stops_startup(tmp_path):
    run = run_shuffled(tmp_path, ["fl_a", "fl_bad", "fl_z"])
    assert run.rc == 1, run
    r = run.report
    assert r["order"] == ["fl_a"]
    assert r["failed"] == {"fl_bad": "load() returned FAILURE"}
    assert "stopped" in r["skipped"]["fl_z"]
    assert loads(run) == ["fl_a", "fl_bad"]


@pytest.mark.parametrize("kind", ["require", "preload-require"])
def test_required_module_that_declines_stops_startup(tmp_path, kind):
    run = run_load(tmp_path, ["rq_ok", "rq_decl"], f"[modules]\n{kind} => rq_decl.so\n")
    assert run.rc == 1, run
    assert "rq_decl" in run.report["failed"]
    assert f"{kind} => rq_decl" in run.report["failed"]["rq_decl"]


def test_required_module_absent_stops_startup(tmp_path):
    run = run_load(tmp_path, ["rq_ok"], "[modules]\nrequire => rq_ghost\n")
    assert run.rc == 1, run
    assert "no rq_ghost.so" in run.report["failed"]["rq_ghost"]


def test_use_counts(tmp_path):
    run = run_shuffled(tmp_path, ["uc_base", "uc_opt", "uc_a", "uc_b", "uc_c"])
    assert run.rc == 0, run
    assert run.report["use_counts"] == {"uc_base": 2, "uc_b": 0, "uc_opt": 1, "uc_a": 1, "uc_c": 0}
    assert run.report["order"] == ["uc_base", "uc_b", "uc_opt", "uc_a", "uc_c"]


def test_interfaces_providers_first(tmp_path):
    names = ["if_a_user", "if_b_optuser", "if_p1", "if_p2", "if_orphan"]
    run = run_shuffled(tmp_path, names)
    assert run.rc == 0, run
    r = run.report
    assert r["order"] == ["if_p1", "if_p2", "if_a_user", "if_b_optuser"]
    assert r["use_counts"]["if_p1"] == 2 and r["use_counts"]["if_p2"] == 2
    assert "if_nobody" in r["declined"]["if_orphan"]


def test_enhances(tmp_path):
    # enh_spandsp enhances enh_fax: it loads before every module that requires enh_fax,
    # and such a module holds a reference on it (Asterisk's loader.c semantics).
    run = run_shuffled(tmp_path, ["enh_fax", "enh_spandsp", "enh_app"])
    assert run.rc == 0, run
    assert run.report["order"] == ["enh_fax", "enh_spandsp", "enh_app"]
    assert run.report["use_counts"] == {"enh_fax": 2, "enh_spandsp": 1, "enh_app": 0}
    # without the enhancer, the user still loads (enhances is never a requirement)
    alone = run_load(tmp_path / "alone", ["enh_fax", "enh_app"])
    assert alone.report["order"] == ["enh_fax", "enh_app"]


def test_optional_modules_first_when_both_load(tmp_path):
    run = run_shuffled(tmp_path, ["op_a_user", "op_z_dep"])
    assert run.report["order"] == ["op_z_dep", "op_a_user"]
    assert run.report["use_counts"]["op_z_dep"] == 1
    without = run_load(tmp_path / "without", ["op_a_user", "op_z_dep"], "[modules]\nnoload => op_z_dep\n")
    assert without.report["order"] == ["op_a_user"]


def test_cycle_is_an_error_naming_the_whole_cycle(tmp_path):
    run = run_shuffled(tmp_path, ["cy_a", "cy_b", "cy_c", "gen_a"])
    assert run.rc == 2, run
    [err] = run.report["errors"]
    assert err["code"] == "loader-cycle"
    assert err["cycle"] == ["cy_a", "cy_b", "cy_c", "cy_a"]
    assert "cy_a requires cy_b requires cy_c requires cy_a" in err["message"]
    assert run.log == []


def test_conflicting_modules_are_an_error(tmp_path):
    run = run_load(tmp_path, ["cf_a", "cf_b"])
    assert run.rc == 2 and run.report["errors"][0]["code"] == "loader-conflict"
    ok = run_load(tmp_path / "ok", ["cf_a", "cf_b"], "[modules]\nnoload => cf_b\n")
    assert ok.rc == 0 and ok.report["order"] == ["cf_a"]


def test_missing_symbol_is_a_clean_refusal(tmp_path):
    run = run_shuffled(tmp_path, ["sym_missing", "sym_dependant", "gen_a"])
    assert run.rc == 0, run  # the process was not killed
    r = run.report
    assert "ast_no_such_function" in r["declined"]["sym_missing"]
    assert "sym_missing, which declined" in r["declined"]["sym_dependant"]
    assert r["order"] == ["gen_a"]


def test_without_the_core_every_module_is_refused_naming_the_symbol(tmp_path):
    run = run_load(tmp_path, ["gen_a"], core=False)
    assert run.rc == 0
    assert "ast_test_log" in run.report["declined"]["gen_a"]


def test_global_symbols_promotion(tmp_path):
    run = run_shuffled(tmp_path, ["gl_lib", "gl_user", "ngl_lib", "ngl_user"])
    r = run.report
    assert r["order"] == ["gl_lib", "gl_user", "ngl_lib"]
    assert "ngl_lib_fn" in r["declined"]["ngl_user"]  # its dependency is loaded, but not global


@pytest.mark.parametrize("first,second", [("fp_lib", "fp_taker"), ("fp_taker", "fp_lib")])
def test_address_of_function_fails_in_every_order(tmp_path, first, second):
    conf = "[modules]\nautoload = no\n"
    run = run_load(tmp_path, ["fp_lib", "fp_taker"], conf, "--then", f"load {first}", "--then", f"load {second}")
    results = {c["command"].split()[1]: c for c in run.report["commands"]}
    assert results["fp_lib"]["ok"]
    assert not results["fp_taker"]["ok"]
    assert "undefined symbol: fp_lib_fn" in results["fp_taker"]["message"]


def test_address_of_function_of_a_global_module_works(tmp_path):
    run = run_shuffled(tmp_path, ["fpg_lib", "fpg_taker"])
    assert run.report["order"] == ["fpg_lib", "fpg_taker"], run


def test_path_in_config_is_refused(tmp_path):
    for bad in ("../inl_base.so", "/tmp/inl_base.so", "sub/inl_base", ".hidden"):
        run = run_load(tmp_path / bad.replace("/", "_"), ["gen_a"], f"[modules]\nautoload = no\nload => {bad}\n")
        assert run.rc == 2, run
        assert "modules.conf:3:9: error:" in run.stderr and "never paths" in run.stderr


def test_struct_version_and_size_mismatch_are_refused(tmp_path):
    run = run_load(tmp_path, ["abi_version", "abi_size", "gen_a"])
    assert run.rc == 0, run
    assert "ABI version 2" in run.report["declined"]["abi_version"]
    assert "16 bytes" in run.report["declined"]["abi_size"]
    assert run.report["order"] == ["gen_a"]
    assert loads(run) == ["gen_a"]


def test_non_elf_file_and_module_without_info_symbol(tmp_path):
    mdir = tmp_path / "run" / "modules"
    mdir.mkdir(parents=True)
    (mdir / "junk.so").write_text("this is not a shared object\n")
    run = run_load(tmp_path / "run", ["nosym", "gen_a"])
    assert run.rc == 0, run
    assert "not an ELF file" in run.report["skipped"]["junk"]
    assert "__ast_module_info" in run.report["declined"]["nosym"]
    assert run.report["order"] == ["gen_a"]
    named = run_load(tmp_path / "named", ["gen_a"], "[modules]\nrequire => junk\n")
    assert named.rc == 1
    assert named.report["order"] == ["gen_a"] and set(named.report["failed"]) == {"junk"}
    assert "require => junk" in named.report["failed"]["junk"]


def test_dry_run_runs_no_module_code(tmp_path):
    run = run_load(tmp_path, ["ctor_mod", "dc_base", "dc_mid", "gen_a", "gen_b"], None, "--dry-run")
    assert run.rc == 0, run
    assert run.log == []  # not even a constructor
    assert run.report["order"] == ["ctor_mod", "dc_base", "dc_mid", "gen_a", "gen_b"]
    assert set(run.report["why"]) == {"ctor_mod", "dc_base", "dc_mid", "gen_a", "gen_b"}


def test_unselected_module_is_never_opened(tmp_path):
    run = run_load(tmp_path, ["ctor_mod", "gen_a"], "[modules]\nautoload = no\nload => gen_a\n")
    assert run.log == ["load gen_a"]
    real = run_load(tmp_path / "real", ["ctor_mod"])
    assert real.log == ["ctor ctor_mod", "load ctor_mod"]  # constructors run at dlopen, before load()


def test_text_output_and_modules_table(tmp_path):
    import subprocess
    import sys
    from loader_helpers import ROOT, core_lib, make_modules_dir
    mdir = make_modules_dir(tmp_path / "m", ["uc_base", "uc_a", "uc_opt", "dc_base"])
    text = subprocess.run([sys.executable, "-m", "buildtool", "load", "--modules-dir", str(mdir),
                           "--preload-library", str(core_lib())], capture_output=True, text=True, cwd=ROOT)
    assert text.returncode == 0 and "loaded order: uc_base, uc_opt, uc_a" in text.stdout
    table = subprocess.run([sys.executable, "-m", "buildtool", "modules", "--modules-dir", str(mdir),
                            "--preload-library", str(core_lib())], capture_output=True, text=True, cwd=ROOT)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["Module", "Description"]
    row = next(line for line in lines if line.startswith("uc_base.so"))
    assert row.split()[-3:] == ["1", "Running", "core"]
    assert any(line.startswith("dc_base.so") and "Declined" in line for line in lines)


def test_graph_dot_marks_disabled_declined_and_cycles(tmp_path):
    import subprocess
    import sys
    from loader_helpers import ROOT, make_modules_dir
    mdir = make_modules_dir(tmp_path / "m", ["cy_a", "cy_b", "cy_c", "inl_base", "inl_mid", "gen_a", "if_orphan"])
    conf = tmp_path / "modules.conf"
    conf.write_text("[modules]\nnoload => inl_base\n")
    done = subprocess.run([sys.executable, "-m", "buildtool", "graph", "--modules-dir", str(mdir), "--config",
                           str(conf)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1  # the cycle is an error; the graph is still written
    dot = done.stdout
    assert dot.startswith("digraph modules {")
    assert '"cy_a" [fillcolor="#f4a6a6", color=red' in dot
    assert '"inl_mid" [fillcolor="#dddddd", style="filled,dashed"' in dot
    assert '"if_orphan" [fillcolor="#ffd39b"' in dot
    assert '"inl_base" -> "inl_mid";' in dot
    assert "cy_a requires" in done.stderr


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz's dot is not installed (Debian: graphviz; the README's test command installs it)")
def test_graph_renders_svg_and_png_with_graphviz(tmp_path):
    import subprocess
    import sys
    from loader_helpers import ROOT, make_modules_dir
    mdir = make_modules_dir(tmp_path / "m", ["inl_base", "inl_mid"])
    svg, png = tmp_path / "g.svg", tmp_path / "g.png"
    for fmt, out in (("svg", svg), ("png", png)):
        done = subprocess.run([sys.executable, "-m", "buildtool", "graph", "--modules-dir", str(mdir),
                               "--format", fmt, "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
    text = svg.read_text()
    assert "<svg" in text and "inl_base" in text and "inl_mid" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ld_bind_now_is_warned_about_and_turns_the_refusal_into_an_open_failure(tmp_path):
    # PLATFORM-FACTS: LD_BIND_NOW=1 makes every dlopen eager, so a module calling a missing
    # function can no longer even be opened; the loader says so, and still never crashes.
    run = run_load(tmp_path, ["sym_missing", "gen_a"], env={"LD_BIND_NOW": "1"})
    assert run.rc == 0, run
    assert "LD_BIND_NOW is set" in run.stderr
    reason = run.report["declined"]["sym_missing"]
    assert "dlopen failed" in reason and "ast_no_such_function" in reason
    assert run.report["order"] == ["gen_a"]


def test_each_module_sees_its_own_info_after_a_global_module_exported_the_same_name(tmp_path):
    # Every module exports __ast_module_info; once gl_lib is promoted to the global scope, a
    # reference through that name would bind to gl_lib's struct (ELF interposition). module.h
    # makes each module's own ast_module_info pointer bind locally: the C side logs through it,
    # so the uc_* modules loaded after gl_lib must log their own names.
    run = run_shuffled(tmp_path, ["gl_lib", "uc_base", "uc_b"])
    assert run.rc == 0, run
    assert run.report["order"] == ["gl_lib", "uc_base", "uc_b"]
    assert run.log == ["load gl_lib", "load uc_base", "load uc_b"]

"""The runtime's decisions in this process, on real modules (the gcc-built ones of loader_helpers), opened
with the real dlopen: start-up, declines and their chains, FAILURE, required modules, references and use
counts, runtime load/unload/reload and the command parser. Only modules whose code is safe to run here are
used (no missing function called, no GLOBAL_SYMBOLS promotion into this process); the C side's own
evidence (the event log) and the dangerous cases stay in child processes (test_loader_rules.py,
test_loader_runtime.py). Every test unloads what it loaded.
"""

from __future__ import annotations

import os

import pytest

from buildtool.loader.cli_support import run_command
from buildtool.loader.config import parse_config
from buildtool.loader.runtime import DECLINED, FAILED, NOT_LOADED, RUNNING, Loader
from loader_helpers import built_dir, core_lib, make_modules_dir


@pytest.fixture(scope="module", autouse=True)
def _core():
    built_dir()
    os.environ.pop("LOADER_TEST_LOG", None)  # the modules' log calls do nothing


def loader_for(tmp_path, names, conf="[modules]\n", **kw) -> Loader:
    config, diags = parse_config(conf, str(tmp_path / "modules.conf"))
    assert not diags
    loader = Loader(str(make_modules_dir(tmp_path / "m", names)), config, use_cache=False, **kw)
    loader.preload_library(str(core_lib()))
    return loader


@pytest.fixture
def loaders():
    made: list[Loader] = []
    yield made
    for loader in made:
        for name in reversed(list(loader.order)):
            loader._close(loader.states[name])


def states(loader) -> dict:
    return {n: (s.status, s.reason) for n, s in sorted(loader.states.items())}


def test_startup_references_and_use_counts(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["uc_base", "uc_opt", "uc_a", "uc_b", "uc_c"]))
    assert loader.start() is True
    assert loader.order == ["uc_base", "uc_b", "uc_opt", "uc_a", "uc_c"]
    assert loader.use_counts() == {"uc_base": 2, "uc_b": 0, "uc_opt": 1, "uc_a": 1, "uc_c": 0}
    assert {n: s.refs for n, s in loader.states.items()} == {
        "uc_base": [], "uc_b": ["uc_base"], "uc_opt": [], "uc_a": ["uc_base", "uc_opt"], "uc_c": ["uc_a"]}
    assert [loader.states[n].seq for n in loader.order] == [1, 2, 3, 4, 5]
    assert all(s.explicit for s in loader.states.values())  # autoload: each one chosen by the config
    assert loader.dependants("uc_base") == ["uc_c", "uc_a", "uc_b"]  # reverse load order
    assert loader.dependants("uc_c") == []
    assert sorted(loader.mapped()) == sorted(loader.order)
    assert loader.errors == [] and not loader.stopped


def test_runtime_commands(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["uc_base", "uc_opt", "uc_a", "uc_b", "uc_c"]))
    assert loader.start()
    refused = run_command(loader, "unload uc_base")
    assert refused["ok"] is False and refused["message"] == (
        "uc_base is in use (use count 2, by uc_a, uc_b); unload those first or unload recursively")
    assert refused["use_counts"]["uc_base"] == 2 and "uc_base" in refused["mapped"]
    done = run_command(loader, "unload -r uc_base")
    assert done["ok"] and done["unloaded"] == ["uc_c", "uc_a", "uc_b", "uc_base"]
    assert done["message"] == "unloaded uc_c, uc_a, uc_b, uc_base"
    assert done["use_counts"] == {"uc_opt": 0} and done["mapped"] == ["uc_opt"]
    assert loader.states["uc_base"].status == NOT_LOADED
    assert loader.states["uc_base"].reason == "unloaded by a runtime command"
    again = run_command(loader, "load uc_c")
    assert again["ok"] and again["loaded"] == ["uc_base", "uc_a", "uc_c"] and again["message"] == (
        "loaded uc_base, uc_a, uc_c")
    assert again["use_counts"] == {"uc_opt": 1, "uc_base": 1, "uc_a": 1, "uc_c": 0}
    # chosen by the configuration at start-up (autoload), uc_a stays explicit when it comes back as a dependency
    assert loader.states["uc_c"].explicit and loader.states["uc_a"].explicit
    assert run_command(loader, "load uc_c")["message"] == "uc_c is already loaded"
    assert run_command(loader, "load uc_c")["loaded"] == []
    assert run_command(loader, "reload uc_a") == {"command": "reload uc_a", "ok": True, "message": "reloaded uc_a",
                                                 "use_counts": again["use_counts"], "mapped": loader.mapped()}
    gone = run_command(loader, "unload uc_c")
    assert gone["unloaded"] == ["uc_c"] and loader.order == ["uc_opt", "uc_base", "uc_a"]
    assert run_command(loader, "unload --recursive uc_opt")["unloaded"] == ["uc_a", "uc_opt"]


UNKNOWN_COMMAND = ("unknown command (expected: load NAME, unload [-r] NAME, reload NAME, load-provider KIND:NAME, "
                   "refresh [-r] NAME)")


@pytest.mark.parametrize("line, message", [
    ("frobnicate uc_a", UNKNOWN_COMMAND),
    ("", UNKNOWN_COMMAND),
    ("load", UNKNOWN_COMMAND),
    ("load uc_a uc_b", UNKNOWN_COMMAND),
    ("reload", UNKNOWN_COMMAND),
    ("unload", "usage: unload [-r|--recursive] NAME"),
    ("unload -x uc_a", "usage: unload [-r|--recursive] NAME"),
    ("unload uc_a uc_b", "usage: unload [-r|--recursive] NAME"),
    ("unload uc_b", "uc_b is not loaded"),
    ("reload uc_b", "uc_b is not loaded"),
    ("load ../uc_a.so", "'../uc_a.so' is not a module name (names, never paths)"),
    ("load uc_nothere", "no module uc_nothere in <dir>"),
    ("reload rt_noreload", "rt_noreload has no reload function"),
])
def test_command_errors(tmp_path, loaders, line, message):
    conf = "[modules]\nautoload = no\nload => rt_noreload\n"
    loaders.append(loader := loader_for(tmp_path, ["uc_b", "uc_base", "rt_noreload"], conf))
    assert loader.start()
    out = run_command(loader, line)
    assert out["ok"] is False and out["message"] == message.replace("<dir>", loader.modules_dir)
    assert out["command"] == line and out["use_counts"] == {"rt_noreload": 0}


def test_decline_propagates_with_its_chain(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["dc_base", "dc_mid", "dc_top", "dc_ok", "dc_optuser"]))
    assert loader.start() is True
    assert loader.order == ["dc_ok", "dc_optuser"]
    assert states(loader) == {
        "dc_base": (DECLINED, "load() returned DECLINE"),
        "dc_mid": (DECLINED, "requires dc_base, which declined: load() returned DECLINE"),
        "dc_ok": (RUNNING, ""),
        "dc_optuser": (RUNNING, ""),
        "dc_top": (DECLINED, "requires dc_mid, which declined: requires dc_base, which declined: "
                             "load() returned DECLINE")}
    assert loader.states["dc_top"].chain == ["dc_top", "dc_mid", "dc_base"]
    assert loader.states["dc_base"].chain == ["dc_base"]
    assert loader.states["dc_base"].handle is None and "dc_base" not in loader.mapped()
    assert loader.use_counts() == {"dc_ok": 0, "dc_optuser": 0}


def test_failure_stops_startup(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["fl_a", "fl_bad", "fl_z"]))
    assert loader.start() is False and loader.stopped
    assert loader.order == ["fl_a"]
    assert states(loader) == {"fl_a": (RUNNING, ""), "fl_bad": (FAILED, "load() returned FAILURE"),
                              "fl_z": (NOT_LOADED, "start-up stopped before it was attempted")}
    assert [e.message for e in loader.errors] == ["start-up stopped: fl_bad: load() returned FAILURE"]


@pytest.mark.parametrize("kind", ["require", "preload-require"])
def test_required_module_that_declines_stops_startup(tmp_path, loaders, kind):
    loaders.append(loader := loader_for(tmp_path, ["rq_ok", "rq_decl"], f"[modules]\n{kind} => rq_decl.so\n"))
    assert loader.start() is False
    where = f"'{kind} => rq_decl' at {tmp_path / 'modules.conf'}:2"
    assert loader.states["rq_decl"].status == FAILED
    assert [e.message for e in loader.errors] == [f"start-up stopped: rq_decl: required by {where}, but declined: "
                             "load() returned DECLINE"]


def test_required_module_that_is_absent_stops_startup(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["rq_ok"], "[modules]\nrequire => rq_ghost\n"))
    assert loader.start() is False
    assert loader.order == ["rq_ok"]
    [error] = [e.message for e in loader.errors]
    assert error.startswith("start-up stopped: rq_ghost: required by 'require => rq_ghost' at ")
    assert error.endswith(f"modules.conf:2, but there is no rq_ghost.so in {loader.modules_dir}")


def test_refusals_before_load(tmp_path, loaders):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "junk.so").write_text("not a shared object\n")
    loaders.append(loader := loader_for(tmp_path, ["abi_version", "abi_size", "nosym", "sym_missing",
                                                   "sym_dependant", "gen_a"]))
    assert loader.start() is True
    assert loader.order == ["gen_a"]
    got = states(loader)
    assert got["abi_version"][1].startswith("refused: ") and "ABI version 2" in got["abi_version"][1]
    assert got["abi_size"][1].startswith("refused: ") and "16 bytes" in got["abi_size"][1]
    assert got["nosym"] == (DECLINED, "no __ast_module_info symbol: not a module built with buildtool's module.h")
    assert got["sym_missing"] == (DECLINED, "refused before its load(): undefined symbol ast_no_such_function "
                                            "not found in the global scope (nor in its own libraries)")
    assert got["sym_dependant"][1].startswith("requires sym_missing, which declined: refused before its load()")
    assert loader.load_plan().invalid["junk"].startswith("not an ELF file") or "junk" not in loader.states
    assert all(loader.states[n].handle is None for n in loader.states if n != "gen_a")


def test_interfaces_and_enhancers(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["if_a_user", "if_b_optuser", "if_p1", "if_p2", "if_orphan",
                                                   "enh_fax", "enh_spandsp", "enh_app"]))
    assert loader.start()
    assert loader.order == ["enh_fax", "enh_spandsp", "enh_app", "if_p1", "if_p2", "if_a_user", "if_b_optuser"]
    assert loader.use_counts() == {"enh_fax": 2, "enh_spandsp": 1, "enh_app": 0, "if_p1": 2, "if_p2": 2,
                                   "if_a_user": 0, "if_b_optuser": 0}
    assert loader.states["enh_app"].refs == ["enh_fax", "enh_spandsp"]
    assert loader.states["if_a_user"].refs == ["if_p1", "if_p2"]
    assert "if_nobody" in loader.states["if_orphan"].reason
    assert loader._providers == {"if_codec": ["if_p1", "if_p2"]} and loader._enhancers == {"enh_fax": ["enh_spandsp"]}
    # unloading a provider and an enhancer takes them off those lists
    out = run_command(loader, "unload -r if_p1")
    assert out["unloaded"] == ["if_b_optuser", "if_a_user", "if_p1"]
    assert loader._providers == {"if_codec": ["if_p2"]}
    out = run_command(loader, "unload -r enh_spandsp")
    assert out["unloaded"] == ["enh_app", "enh_spandsp"] and loader._enhancers == {"enh_fax": []}


def test_runtime_load_retries_what_declined(tmp_path, loaders):
    conf = "[modules]\nautoload = no\nload => uc_c\n"
    loaders.append(loader := loader_for(tmp_path, ["uc_base", "uc_a", "uc_c", "uc_opt", "dc_base"], conf))
    assert loader.start()
    assert loader.order == ["uc_base", "uc_a", "uc_c"]
    assert not loader.states["uc_a"].explicit and loader.states["uc_c"].explicit
    out = run_command(loader, "load dc_base")
    assert out["ok"] is False and out["message"] == "dc_base declined: load() returned DECLINE"
    assert out["loaded"] == []
    assert run_command(loader, "load dc_base")["message"] == "dc_base declined: load() returned DECLINE"


def test_runtime_declines_with_their_reasons(tmp_path, loaders):
    conf = "[modules]\nautoload = no\n"
    names = ["cy_a", "cy_b", "cy_c", "dc_top", "gen_b", "fl_bad", "fl_a"]
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "gen_a.so").write_text("not a module\n")   # what gen_b requires: unreadable
    loaders.append(loader := loader_for(tmp_path, names, conf))
    assert loader.start() is True and loader.order == [] and loader.stopped is False
    cycle = run_command(loader, "load cy_a")
    assert cycle["ok"] is False and cycle["message"] == (
        "cy_a declined: requires cy_b, which declined: requires cy_c, which declined: requires cy_a, which declined: "
        "required dependencies form a cycle: cy_a requires cy_b requires cy_c requires cy_a")
    assert loader.states["cy_a"].chain == ["cy_a", "cy_b", "cy_c", "cy_a"]
    absent = run_command(loader, "load dc_top")
    assert absent["message"] == (f"dc_top declined: requires dc_mid, which declined: there is no dc_mid.so in "
                                 f"{loader.modules_dir}")
    assert loader.states["dc_mid"].path == ""
    unreadable = run_command(loader, "load gen_b")
    assert unreadable["message"].startswith("gen_b declined: requires gen_a, which declined: not a loadable module: ")
    # FAILURE at run time fails that command only; start-up is over, nothing stops
    failed = run_command(loader, "load fl_bad")
    assert failed["message"] == "fl_bad failed: load() returned FAILURE" and loader.stopped is False
    assert run_command(loader, "load fl_a")["loaded"] == ["fl_a"]
    assert loader.states["fl_a"].explicit is True
    assert loader.errors == []


def test_refusal_decided_before_loading(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["gen_a", "gen_b"]))
    loader.refusals["gen_a"] = "its source hash is not the documented one"
    assert loader.start()
    assert loader.states["gen_a"].reason == "its source hash is not the documented one"
    assert loader.states["gen_b"].reason == ("requires gen_a, which declined: its source hash is not the documented one")
    assert loader.order == []


def test_plan_error_stops_before_anything_loads(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["cy_a", "cy_b", "cy_c", "gen_a"]))
    assert loader.start() is False and loader.stopped is True
    assert loader.order == [] and loader.mapped() == []


def test_unloading_takes_dependencies_loaded_only_for_it_in_reverse_order(tmp_path, loaders):
    conf = "[modules]\nautoload = no\nload => rt_top\n"
    loaders.append(loader := loader_for(tmp_path, ["rt_dep", "rt_exp", "rt_top", "gen_a", "gen_b"], conf))
    assert loader.start() and loader.order == ["rt_dep", "rt_exp", "rt_top"]
    assert not loader.states["rt_dep"].explicit and not loader.states["rt_exp"].explicit
    with pytest.raises(Exception, match="rt_dep is in use"):
        loader.unload("rt_dep")  # not recursive unless asked
    assert run_command(loader, "unload rt_top")["unloaded"] == ["rt_top", "rt_exp", "rt_dep"]
    # a module named at run time is explicit: unloading what loaded it as a dependency keeps it
    assert run_command(loader, "load gen_b")["loaded"] == ["gen_a", "gen_b"]
    assert run_command(loader, "load gen_a")["message"] == "gen_a is already loaded"
    assert loader.states["gen_a"].explicit
    assert run_command(loader, "unload gen_b")["unloaded"] == ["gen_b"] and loader.order == ["gen_a"]


def test_global_symbols_and_the_global_scope(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["gl_lib", "gl_user", "ngl_lib", "ngl_user"]))
    assert loader.start()
    assert loader.order == ["gl_lib", "gl_user", "ngl_lib"]
    # promoted: gl_lib's function is in the global scope; ngl_lib's (not GLOBAL_SYMBOLS) is not
    assert loader.dl.sym(loader._global_scope, "gl_lib_fn")
    assert not loader.dl.sym(loader._global_scope, "ngl_lib_fn")
    assert loader.states["ngl_user"].reason == ("refused before its load(): undefined symbol ngl_lib_fn not found in "
                                                "the global scope (nor in its own libraries): ngl_lib_fn is defined "
                                                "by ngl_lib, which ngl_user does not require: add "
                                                "<depend>ngl_lib</depend> to its MODULEINFO")
    assert loader.errors == []


def test_loader_defaults_listing_and_preload(tmp_path, loaders):
    mdir = make_modules_dir(tmp_path / "m", ["gen_a", "gen_b"])
    loader = Loader(str(mdir), listing=lambda directory: ["gen_a.so"])
    loaders.append(loader)
    assert list(loader.paths) == ["gen_a"] and loader.stopped is False
    loader.preload_library("libm.so.6")           # a name, found by the dynamic linker
    loader.preload_library(str(core_lib()))       # a path
    assert loader.preloaded == ["libm.so.6", str(core_lib())]
    assert loader.start() and loader.order == ["gen_a"]
    assert (mdir / ".buildtool-modules.cache.json").exists()  # the cache is on by default
    assert gc_enabled()


def test_a_preload_library_that_cannot_be_opened_is_named_by_its_absolute_path(tmp_path, monkeypatch):
    from buildtool.loader.dl import DlError
    monkeypatch.chdir(tmp_path)
    loader = Loader(str(make_modules_dir(tmp_path / "m", ["gen_a"])), use_cache=False)
    with pytest.raises(DlError) as refused:
        loader.preload_library(os.path.join("lib", "libnothere.so"))  # relative, with a slash: a path
    assert str(refused.value) == (f"{tmp_path}/lib/libnothere.so: cannot open shared object file: "
                                  "No such file or directory")
    assert loader.preloaded == []


def test_a_symbol_found_only_in_the_modules_own_library(tmp_path, loaders):
    # own_user calls own_lib_fn from libownlib.so, its own DT_NEEDED library (opened with it, RTLD_LOCAL):
    # not in the global scope, found through the module's own handle.
    loaders.append(loader := loader_for(tmp_path, ["own_user"]))
    assert loader.start() and loader.order == ["own_user"]
    assert loader.states["own_user"].status == RUNNING and loader.errors == []
    assert not loader.dl.sym(loader._global_scope, "own_lib_fn")
    assert "own_lib_fn" not in loader._global_syms  # never taken for a global one


def gc_enabled() -> bool:
    import gc
    return gc.isenabled()


def test_each_load_function_runs_once(tmp_path, loaders, monkeypatch):
    # The C side's own log (ast_test_log reads LOADER_TEST_LOG at each call): a module that declined is not
    # tried again for each of its dependants.
    log = tmp_path / "events.log"
    monkeypatch.setenv("LOADER_TEST_LOG", str(log))
    loaders.append(loader := loader_for(tmp_path, ["dc_base", "dc_mid", "dc_top", "dc_ok", "dc_optuser"]))
    assert loader.start()
    assert log.read_text().splitlines() == ["load dc_base", "load dc_ok", "load dc_optuser"]


def test_runtime_load_brings_each_missing_requirement(tmp_path, loaders):
    conf = "[modules]\nautoload = no\nload => rt_dep\n"
    loaders.append(loader := loader_for(tmp_path, ["rt_dep", "rt_exp", "rt_top"], conf))
    assert loader.start() and loader.order == ["rt_dep"]
    out = run_command(loader, "load rt_top")  # rt_dep is running already, rt_exp is not
    assert out["loaded"] == ["rt_exp", "rt_top"]
    assert loader.use_counts() == {"rt_dep": 1, "rt_exp": 1, "rt_top": 0}
    # rt_exp came only as a dependency (not explicit), rt_dep was named by the configuration
    assert run_command(loader, "unload rt_top")["unloaded"] == ["rt_top", "rt_exp"]
    assert loader.order == ["rt_dep"]


def test_startup_problem_as_json():
    from buildtool.loader.runtime import StartupProblem
    assert StartupProblem("start-up stopped: x").to_json() == {"severity": "error", "code": "loader-startup",
                                                             "message": "start-up stopped: x"}


def test_the_other_answers_of_a_module(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["rt_noload", "rt_odd", "rt_dep", "rt_stuck", "sym_two"]))
    assert loader.start() is True
    assert loader.order == ["rt_dep", "rt_stuck"]
    assert states(loader) == {
        "rt_dep": (RUNNING, ""),
        "rt_noload": (DECLINED, "its info struct has no load function"),
        "rt_odd": (DECLINED, "load() returned 7"),
        "rt_stuck": (RUNNING, ""),
        "sym_two": (DECLINED, "refused before its load(): undefined symbols ast_no_such_a, ast_no_such_b not found "
                              "in the global scope (nor in its own libraries)")}
    assert loader.states["rt_noload"].handle is None and loader.mapped() == ["rt_dep", "rt_stuck"]
    assert run_command(loader, "reload rt_stuck")["message"] == "rt_stuck: reload() returned 3"
    refused = run_command(loader, "unload -r rt_dep")
    assert (refused["ok"], refused["message"], refused["unloaded"]) == (
        False, "rt_stuck: unload() returned 3; it stays loaded", [])
    assert loader.order == ["rt_dep", "rt_stuck"] and loader.use_counts() == {"rt_dep": 1, "rt_stuck": 0}


def test_references_with_enhancers_and_an_optional_interface_nobody_provides(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["enh_fax", "enh_spandsp", "uc_base", "uc_b", "if_b_optuser"]))
    assert loader.start()
    assert loader.order == ["enh_fax", "enh_spandsp", "if_b_optuser", "uc_base", "uc_b"]
    assert {n: s.refs for n, s in loader.states.items()} == {
        "enh_fax": [], "enh_spandsp": ["enh_fax"], "if_b_optuser": [], "uc_base": [], "uc_b": ["uc_base"]}
    # the symbols found in the global scope stay known when a module without GLOBAL_SYMBOLS goes
    known = set(loader._global_syms)
    assert "ast_test_log" in known
    assert run_command(loader, "unload uc_b")["unloaded"] == ["uc_b"]
    assert loader._global_syms == known
    assert not (tmp_path / "m" / ".buildtool-modules.cache.json").exists()  # use_cache=False: none written


def test_a_missing_interface_is_explained(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["if_orphan", "if_lonely"], "[modules]\nautoload = no\n"))
    assert loader.start()
    assert run_command(loader, "load if_orphan")["message"] == (
        "if_orphan declined: uses interface if_nobody, but no loaded module provides it: its providers here are "
        "if_lonely, none of them loaded (see their own reasons): with autoload=no only the preferred provider is "
        "pulled in, unless noload keeps it out; name the one to use with 'prefer => if_lonely.so' or "
        "'load => if_lonely.so' in modules.conf")


def test_provided_names_with_and_without_the_source_tree(tmp_path, loaders):
    from buildtool.model import Module, Tree
    conf = "[modules]\nautoload = no\nload-provider => function:CURL\n"
    loaders.append(alone := loader_for(tmp_path / "alone", ["gen_a"], conf))
    assert [e.message for e in alone.load_plan().errors] == [
        f"'load-provider => function:CURL': no module in {alone.modules_dir} provides function CURL"]
    # the sources' tree says which module would provide it
    loaders.append(loader := loader_for(tmp_path / "tree", ["gen_a"], conf))
    loader.source_tree = Tree(modules={"pn_curl": Module(name="pn_curl", source="pn_curl.c", line=1,
                                                         names=("function:CURL",))})
    plan = loader.load_plan()
    assert plan.errors == [] and plan.why["pn_curl"] == (
        f"not loaded: named by 'load-provider => function:CURL' at {tmp_path / 'tree' / 'modules.conf'}:3 (function "
        f"CURL is provided by pn_curl, which was not built: there is no pn_curl.so in {loader.modules_dir}), but "
        f"there is no pn_curl.so in {loader.modules_dir}")


def test_the_journal_records_what_runs(tmp_path, loaders):
    # The supervised child's journal (buildtool.loader.supervise), here in this process: each module opened,
    # each of its functions called, each state, each command and its result, each error.
    from buildtool.loader.supervise import Journal
    conf = "[modules]\nautoload = no\nload => dc_base\nload => uc_base\nload => ghost\n"
    loaders.append(loader := loader_for(tmp_path / "a", ["dc_base", "uc_base", "uc_b"], conf))
    loader.journal = journal = Journal()
    assert loader.start()
    for line in ("load uc_b", "load uc_b", "unload uc_b"):
        run_command(loader, line)
    conf_path, mdir = tmp_path / "a" / "modules.conf", loader.modules_dir
    assert journal.records() == [
        ["S", "ghost", "declined", f"named by 'load => ghost' at {conf_path}:5, but there is no ghost.so in {mdir}",
         "ghost", "0", ""],
        ["O", "dc_base"], ["C", "dc_base", "load"], ["C", "dc_base", "dlclose"],
        ["S", "dc_base", "declined", "load() returned DECLINE", "dc_base", "1", ""],
        ["O", "uc_base"], ["C", "uc_base", "load"], ["S", "uc_base", "running", "", "", "1", ""],
        # a runtime load: what declined is due again, reason cleared
        ["B", "load uc_b"],
        ["S", "ghost", "not loaded", "", "", "0", ""], ["S", "dc_base", "not loaded", "", "", "1", ""],
        ["O", "uc_b"], ["C", "uc_b", "load"], ["S", "uc_b", "running", "", "", "1", "uc_base"],
        ["R", '{"command": "load uc_b", "ok": true, "loaded": ["uc_b"], "message": "loaded uc_b", "use_counts": '
              '{"uc_base": 1, "uc_b": 0}, "mapped": ["uc_b", "uc_base"]}'],
        ["B", "load uc_b"], ["S", "uc_b", "running", "", "", "1", "uc_base"],
        ["R", '{"command": "load uc_b", "ok": true, "loaded": [], "message": "uc_b is already loaded", "use_counts": '
              '{"uc_base": 1, "uc_b": 0}, "mapped": ["uc_b", "uc_base"]}'],
        ["B", "unload uc_b"], ["C", "uc_b", "unload"], ["C", "uc_b", "dlclose"],
        ["S", "uc_b", "not loaded", "unloaded by a runtime command", "", "1", ""],
        ["R", '{"command": "unload uc_b", "ok": true, "unloaded": ["uc_b"], "message": "unloaded uc_b", '
              '"use_counts": {"uc_base": 0}, "mapped": ["uc_base"]}']]
    # a required module that declines: declined, then failed, and the error that stops start-up
    loaders.append(loader := loader_for(tmp_path / "b", ["rq_decl"], "[modules]\nrequire => rq_decl\n"))
    loader.journal = journal = Journal()
    assert loader.start() is False
    stopped = f"required by 'require => rq_decl' at {tmp_path / 'b' / 'modules.conf'}:2, but declined: load() returned DECLINE"
    assert journal.records() == [
        ["O", "rq_decl"], ["C", "rq_decl", "load"], ["C", "rq_decl", "dlclose"],
        ["S", "rq_decl", "declined", "load() returned DECLINE", "rq_decl", "1", ""],
        ["S", "rq_decl", "failed", stopped, "rq_decl", "1", ""],
        ["E", f"start-up stopped: rq_decl: {stopped}"]]
    # FAILURE
    loaders.append(loader := loader_for(tmp_path / "c", ["fl_bad"]))
    loader.journal = journal = Journal()
    assert loader.start() is False
    assert journal.records() == [
        ["O", "fl_bad"], ["C", "fl_bad", "load"], ["C", "fl_bad", "dlclose"],
        ["S", "fl_bad", "failed", "load() returned FAILURE", "", "1", ""],
        ["E", "start-up stopped: fl_bad: load() returned FAILURE"]]


def test_a_module_holds_one_reference_on_a_provider_it_also_requires(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["if_p1", "if_both"]))
    assert loader.start() and loader.order == ["if_p1", "if_both"]
    assert loader.states["if_both"].refs == ["if_p1"] and loader.use_counts() == {"if_p1": 1, "if_both": 0}
    assert run_command(loader, "unload if_both")["unloaded"] == ["if_both"]
    assert loader.use_counts() == {"if_p1": 0}


def test_a_missing_interface_is_explained_with_autoload(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["if_orphan", "if_lonely"], "[modules]\nnoload => if_lonely\n"))
    assert loader.start() and loader.order == []
    assert loader.states["if_orphan"].reason == ("uses interface if_nobody, but no loaded module provides it: its "
                                                 "providers here (if_lonely) were not loaded; see their own reasons")


def test_a_module_refused_after_planning_is_declined_and_the_rest_still_load(tmp_path, loaders):
    # Files replaced between planning and loading: gen_a by bytes dlopen rejects, inl_free by a copy of
    # gen_b (whose struct names gen_b). Each is refused with what dlopen and the struct say, its handle
    # closed, and start-up goes on with the next module in the order.
    loaders.append(loader := loader_for(tmp_path, ["gen_a", "gen_b", "inl_free", "uc_base"]))
    assert loader.load_plan().order == ["gen_a", "gen_b", "inl_free", "uc_base"]
    mdir = tmp_path / "m"
    (mdir / "gen_a.so").write_bytes(b"\x7fELF not really")
    (mdir / "inl_free.so").write_bytes((mdir / "gen_b.so").read_bytes())
    assert loader.start() is True
    assert loader.order == ["uc_base"]
    got = states(loader)
    status, reason = got["gen_a"]
    assert status == DECLINED and reason.startswith(f"dlopen failed: {mdir / 'gen_a.so'}: ")
    assert got["gen_b"] == (DECLINED, "requires gen_a, which declined: " + reason)
    assert got["inl_free"] == (DECLINED, "refused: its info struct names module 'gen_b', the file is inl_free.so")
    assert all(loader.states[n].handle is None and loader.states[n].info is None for n in ("gen_a", "inl_free"))
    assert not loader.errors


def test_a_refused_module_does_not_stop_the_modules_after_it(tmp_path, loaders):
    loaders.append(loader := loader_for(tmp_path, ["gen_a", "inl_free"]))
    loader.refusals["gen_a"] = "refused by the test"
    assert loader.start() is True
    assert states(loader) == {"gen_a": (DECLINED, "refused by the test"), "inl_free": (RUNNING, "")}


def test_each_name_given_to_the_loop_is_answered_in_turn(tmp_path, loaders):
    # The start loop's own answers for names a plan read from a crafted cache could hold (absent, not a
    # module, already running): each is answered and the next one is still loaded; the last one's status
    # is returned.
    make_modules_dir(tmp_path / "m", ["gen_a", "inl_free"])
    (tmp_path / "m" / "junk.so").write_text("not a shared object\n")
    loaders.append(loader := loader_for(tmp_path, []))
    assert loader._ensure_each(["gen_a", "ghost", "junk", "gen_a", "inl_free"], {"inl_free"}, ()) is RUNNING
    assert loader.order == ["gen_a", "inl_free"]
    got = states(loader)
    assert got["ghost"][0] == DECLINED and got["ghost"][1].startswith("there is no ghost.so in ")
    assert got["junk"][0] == DECLINED and got["junk"][1].startswith("not a loadable module: ")
    assert [n for n, s in loader.states.items() if s.explicit] == ["inl_free"]


def test_modules_in_a_directory_whose_name_is_not_utf8(tmp_path, loaders):
    mdir = make_modules_dir(tmp_path / os.fsdecode(b"m\xff"), ["gen_a", "gen_b"])
    loaders.append(loader := Loader(str(mdir), use_cache=False))
    loader.preload_library(str(core_lib()))
    assert loader.start() is True and loader.order == ["gen_a", "gen_b"]
    assert os.fsdecode(b"m\xff") in loader.states["gen_a"].path

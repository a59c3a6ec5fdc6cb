"""Load on demand by a provided name, preferred providers, refresh with rollback (docs/loader.md).

Real modules: C sources whose DOCUMENTATION blocks name what they provide, headers from the real
generator, built with gcc once for this file, loaded by ``buildtool load`` in child processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from loader_helpers import CORE_C, Run, _bt, _gcc, compile_module, source, spec

ROOT = Path(__file__).resolve().parent.parent


def valid(report: dict) -> dict:
    """The report against buildtool/schemas/load.schema.json."""
    import jsonschema

    schema = json.loads((ROOT / "buildtool" / "schemas" / "load.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)
    return report

COUNTER_C = r"""
#include <stdio.h>
#include <stdlib.h>
/* Counts this module's loads in a file ($RF_COUNTER): the count must outlive the module,
   which is unmapped at every unload. */
static int bump(void)
{
	const char *path = getenv("RF_COUNTER");
	int n = 0;
	FILE *f;
	if (!path)
		return 0;
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	n++;
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%d", n);
		fclose(f);
	}
	return n;
}
"""


def doc(*items: str) -> str:
    return "/*** DOCUMENTATION\n" + "\n".join(f"\t{i}" for i in items) + "\n ***/\n"


# name -> (DOCUMENTATION block, spec)
MODULES = {
    "pn_base": ("", spec()),
    "pn_stack": (doc('<application name="Gosub" language="en_US"><synopsis>x</synopsis></application>',
                     '<application name="Return"/>', '<function name="LOCAL"/>', '<agi name="gosub"/>'),
                 spec(requires=["pn_base"])),
    "pn_strings": (doc('<function name="LEN"/>', '<function name="STRFTIME"/>'), spec()),
    # preferred providers: two providers of pp_wizard, pp_memory core, pp_config extended
    "pp_config": ("", spec(provides=["pp_wizard"], support="extended")),
    "pp_memory": ("", spec(provides=["pp_wizard"], support="core")),
    "pp_user": (doc('<application name="Wizardry"/>'), spec(uses=["pp_wizard"])),
    # refresh: rf_mid declines its second load when RF_COUNTER names a file, rf_stuck every load after
    # the first
    "rf_base": ("", spec()),
    "rf_mid": ("", spec(requires=["rf_base"], extra=COUNTER_C,
                        load_extra='if (bump() == 2) { ast_test_log("decline", "rf_mid"); '
                                   "return AST_MODULE_LOAD_DECLINE; }")),
    "rf_top": ("", spec(requires=["rf_mid"])),
    "rf_opt": ("", spec(optional=["rf_base"])),
    "rf_stuck": ("", spec(requires=["rf_base"], extra=COUNTER_C,
                          load_extra="if (bump() >= 2) return AST_MODULE_LOAD_DECLINE;")),
}
# Scanned (so --tree knows it) but never built: func_curl's role.
NOT_BUILT = {"pn_curl": (doc('<function name="CURL"/>'), spec())}


def write_source(directory: Path, name: str, entry) -> Path:
    documentation, s = entry
    text = source(name, s)
    # after the MODULEINFO block, as in Asterisk's sources
    head, sep, rest = text.partition(" ***/\n")
    path = directory / f"{name}.c"
    path.write_text(head + sep + documentation + rest)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("provided")
    src, gen, out = root / "src", root / "gen", root / "built"
    for d in (src, gen, out):
        d.mkdir()
    for name, entry in MODULES.items():
        write_source(src, name, entry)
    done = _bt("generate", "--out-dir", str(gen), str(src))
    assert done.returncode == 0, done.stderr
    for name in MODULES:
        compile_module(src / f"{name}.c", name, gen, out)
    (root / "core.c").write_text(CORE_C)
    _gcc(["-shared", "-fPIC", "-o", str(root / "libtestcore.so"), str(root / "core.c")])
    # The sources' tree, with the module that was not built.
    every = root / "every"
    shutil.copytree(src, every)
    for name, entry in NOT_BUILT.items():
        write_source(every, name, entry)
    done = _bt("scan", "--format", "json", "-o", str(root / "tree.json"), str(every))
    assert done.returncode == 0, done.stderr
    return out


def load(built: Path, work: Path, names, config: str | None, *args: str, env: dict | None = None) -> Run:
    mdir = work / "modules"
    mdir.mkdir(parents=True)
    for name in names:
        shutil.copy2(built / f"{name}.so", mdir / f"{name}.so")
    cmd = ["load", "--modules-dir", str(mdir), "--format", "json",
           "--preload-library", str(built.parent / "libtestcore.so")]
    if config is not None:
        (work / "modules.conf").write_text(config)
        cmd += ["--config", str(work / "modules.conf")]
    log = work / "events.log"
    full_env = {k: v for k, v in os.environ.items() if k != "LD_BIND_NOW"}
    full_env.update(LOADER_TEST_LOG=str(log), **(env or {}))
    return Run(_bt(*cmd, *args, env=full_env), log)


NAMES = ["pn_base", "pn_stack", "pn_strings"]


# -- provided names: scan, record, modules ---------------------------------------------------------

def test_the_record_carries_what_the_documentation_says(built):
    done = _bt("inspect", "--format", "json", str(built / "pn_stack.so"))
    [record] = json.loads(done.stdout)["modules"]
    assert record["names"] == ["agi:gosub", "application:Gosub", "application:Return", "function:LOCAL"]
    tree = json.loads((built.parent / "tree.json").read_text())
    assert tree["schema"] == 4
    assert tree["modules"]["pn_stack"]["names"] == record["names"]
    assert tree["modules"]["pn_curl"]["names"] == ["function:CURL"]


def test_modules_shows_what_each_module_provides(built, tmp_path):
    mdir = tmp_path / "m"
    mdir.mkdir()
    for name in NAMES + ["pp_memory"]:
        shutil.copy2(built / f"{name}.so", mdir / f"{name}.so")
    done = _bt("modules", "--modules-dir", str(mdir), "--dry-run", "--format", "json")
    rows = {r["module"]: r["provides"] for r in json.loads(done.stdout)}
    assert rows["pn_stack.so"] == ["agi:gosub", "application:Gosub", "application:Return", "function:LOCAL"]
    assert rows["pp_memory.so"] == ["interface:pp_wizard"]
    assert rows["pn_base.so"] == []
    text = _bt("modules", "--modules-dir", str(mdir), "--dry-run").stdout
    assert "Provides" in text.splitlines()[0]
    assert any(line.startswith("pn_strings.so") and line.endswith("function:LEN, function:STRFTIME")
               for line in text.splitlines())


def test_two_modules_claiming_one_application_is_a_positioned_error(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app_one.c").write_text("/*** DOCUMENTATION\n\t<application name=\"Dial\"/>\n ***/\n")
    (src / "app_two.c").write_text("/* two */\n/*** DOCUMENTATION\n  <manager name=\"X\"/>\n"
                                   "    <application name=\"Dial\"/>\n ***/\n")
    done = _bt("scan", str(src))
    assert done.returncode == 1
    assert (f"{src / 'app_two.c'}:4:5: error: application Dial is also provided by app_one" in done.stderr
            and "[provided-name-duplicate]" in done.stderr), done.stderr
    assert "app_one (app_one.c:2)" in done.stderr
    check = _bt("check", str(src))
    assert check.returncode == 1 and "provided-name-duplicate" in check.stdout + check.stderr
    # At build time: the header of the later claimant holds the #error at the element's line.
    gen = tmp_path / "gen"
    assert _bt("generate", "--errors-in-headers", "--out-dir", str(gen), str(src)).returncode == 0
    header = (gen / "app_two.modinfo.h").read_text()
    assert '#line 4 "app_two.c"\n#error "application Dial is also provided by app_one (app_one.c:2)' in header
    assert str(tmp_path) not in header
    (src / "app_two.c").write_text((src / "app_two.c").read_text() + '#include "asterisk/module.h"\n')
    compiled = subprocess.run(["gcc", "-fsyntax-only", f"-I{ROOT / 'include'}", f"-I{gen}", '-DAST_MODULE="app_two"',
                               '-DAST_MODULEINFO_HEADER="app_two.modinfo.h"', str(src / "app_two.c")],
                              capture_output=True, text=True)
    assert compiled.returncode != 0 and re.search(r"app_two\.c:4:\d+: error: #error", compiled.stderr), compiled.stderr
    # Variants built from one source (Asterisk's app_voicemail_imap.c -> app_voicemail.c) and modules
    # that declare a conflict are alternatives, never loaded together: no error.
    (src / "app_two.c").unlink()
    os.symlink("app_one.c", src / "app_one_imap.c")
    (src / "app_three.c").write_text("/*** MODULEINFO\n\t<conflict>app_one</conflict>\n ***/\n"
                                     "/*** DOCUMENTATION\n\t<application name=\"Dial\"/>\n ***/\n")
    done = _bt("scan", "--format", "json", str(src))
    assert "provided-name-duplicate" not in done.stdout + done.stderr
    tree = json.loads(done.stdout)
    assert [tree["modules"][m]["names"] for m in ("app_one", "app_one_imap", "app_three")] == [["application:Dial"]] * 3


# -- load on demand ----------------------------------------------------------------------------------

def test_modules_conf_loads_the_module_that_provides_a_name(built, tmp_path):
    run = load(built, tmp_path, NAMES, "[modules]\nautoload = no\nload-provider => application:Gosub\n")
    assert run.rc == 0, run
    assert run.report["order"] == ["pn_base", "pn_stack"]
    assert run.log == ["load pn_base", "load pn_stack"]
    assert ("named by 'load-provider => application:Gosub' at" in run.report["why"]["pn_stack"]
            and "(application Gosub is provided by pn_stack)" in run.report["why"]["pn_stack"])
    [item] = valid(run.report)["provided"]
    assert item["module"] == "pn_stack" and item["needs"] == ["pn_base"]
    assert item["text"] == ("application Gosub is provided by pn_stack, which needs pn_base "
                            "(loaded first, in that order)")


def test_dry_run_explains_a_name_without_loading(built, tmp_path):
    run = load(built, tmp_path, NAMES, None, "--dry-run", "--explain", "application:gosub",
               "--explain", "function:LEN")
    assert run.rc == 0, run
    assert run.log == []
    texts = [p["text"] for p in valid(run.report)["provided"]]
    assert texts == ["application Gosub is provided by pn_stack, which needs pn_base (loaded first, in that order)",
                     "function LEN is provided by pn_strings, which needs no other module"]
    text = _bt("load", "--modules-dir", str(tmp_path / "modules"), "--dry-run", "--explain",
               "application:Gosub").stdout
    assert "provided: application Gosub is provided by pn_stack, which needs pn_base" in text


def test_unknown_name_gets_a_did_you_mean(built, tmp_path):
    run = load(built, tmp_path / "conf", NAMES, "[modules]\nautoload = no\nload-provider => application:Gosubb\n")
    assert run.rc == 2, run
    [err] = run.report["errors"]
    assert err["code"] == "loader-provider-unknown" and (err["line"], err["column"]) == (3, 18)
    assert "no module in" in err["message"] and "did you mean 'Gosub'?" in err["message"]
    assert run.log == []
    rt = load(built, tmp_path / "rt", NAMES, "[modules]\nautoload = no\n", "--then", "load-provider function:LNE",
              "--then", "load-provider application:LEN", "--then", "load-provider widget:LEN")
    assert rt.rc == 1, rt
    assert [c["ok"] for c in rt.report["commands"]] == [False, False, False]
    assert "did you mean 'LEN'?" in rt.command(0)["message"]
    assert "did you mean 'function:LEN'?" in rt.command(1)["message"]
    assert "'widget' is not a kind of provided name" in rt.command(2)["message"]
    assert rt.report["order"] == []


def test_kinds_and_names_match_without_regard_to_case_and_a_misspelt_kind_is_suggested(built, tmp_path):
    run = load(built, tmp_path, NAMES, None, "--dry-run", "--explain", "Application:GOSUB", "--explain",
               "aplication:Gosub", "--explain", "configinfo:x")
    exact, misspelt, configinfo = run.report["provided"]
    assert exact["module"] == "pn_stack" and exact["text"].startswith("application Gosub is provided by pn_stack")
    assert not misspelt["ok"] and "did you mean 'application'?" in misspelt["text"]
    assert configinfo["text"].startswith("no module in") and "provides configInfo x" in configinfo["text"]


def test_runtime_command_loads_by_name_with_dependencies(built, tmp_path):
    run = load(built, tmp_path, NAMES, "[modules]\nautoload = no\n",
               "--then", "load-provider function:LEN", "--then", "load-provider application:Gosub",
               "--then", "load-provider application:Gosub")
    assert run.rc == 0, run
    first, second, third = valid(run.report)["commands"]
    assert first["loaded"] == ["pn_strings"] and first["module"] == "pn_strings"
    assert second["loaded"] == ["pn_base", "pn_stack"]
    assert second["message"] == "application Gosub is provided by pn_stack: loaded pn_base, pn_stack"
    assert third["loaded"] == [] and "already loaded" in third["message"]
    assert run.log == ["load pn_strings", "load pn_base", "load pn_stack"]
    assert run.report["use_counts"] == {"pn_strings": 0, "pn_base": 1, "pn_stack": 0}


def test_a_name_whose_module_was_not_built_says_so(built, tmp_path):
    tree = str(built.parent / "tree.json")
    run = load(built, tmp_path / "explain", NAMES, None, "--dry-run", "--tree", tree, "--explain", "function:CURL")
    [item] = run.report["provided"]
    assert item["ok"] is False and item["module"] == "pn_curl"
    assert item["text"].startswith("function CURL is provided by pn_curl, which was not built: there is no "
                                   "pn_curl.so in ")
    # In modules.conf, like a named module that is absent: it declines (require-provider stops start-up).
    conf = load(built, tmp_path / "conf", NAMES, "[modules]\nautoload = no\nload-provider => function:CURL\n",
                "--tree", tree)
    assert conf.rc == 0, conf
    assert "which was not built" in conf.report["declined"]["pn_curl"]
    req = load(built, tmp_path / "req", NAMES, "[modules]\nautoload = no\nrequire-provider => function:CURL\n",
               "--tree", tree)
    assert req.rc == 1 and "pn_curl" in req.report["failed"], req
    # Without the tree, the binaries alone cannot know it: an unknown name.
    bare = load(built, tmp_path / "bare", NAMES, None, "--dry-run", "--explain", "function:CURL")
    assert bare.report["provided"][0]["text"].startswith("no module in")


# -- preferred providers -----------------------------------------------------------------------------

PP = ["pp_config", "pp_memory", "pp_user"]


def test_requiring_an_interface_pulls_in_the_default_provider(built, tmp_path):
    run = load(built, tmp_path, PP, "[modules]\nautoload = no\nload => pp_user\n")
    assert run.rc == 0, run
    assert run.report["order"] == ["pp_memory", "pp_user"]
    why = run.report["why"]["pp_memory"]
    assert why.startswith("loaded: provides interface pp_wizard, which pp_user requires (pp_memory is the "
                          "default choice for interface pp_wizard among pp_config, pp_memory: support level "
                          "(core first), then name"), why
    assert run.report["why"]["pp_config"].startswith("not loaded: autoload=no")
    assert run.report["use_counts"]["pp_memory"] == 1


def test_prefer_names_the_provider_to_use(built, tmp_path):
    run = load(built, tmp_path / "no", PP, "[modules]\nautoload = no\nprefer => pp_config\nload => pp_user\n")
    assert run.rc == 0, run
    assert run.report["order"] == ["pp_config", "pp_user"]
    assert "preferred for interface pp_wizard by 'prefer => pp_config' at" in run.report["why"]["pp_config"]
    # By a name the module provides, too: the preferred provider comes with it.
    byname = load(built, tmp_path / "byname", PP, "[modules]\nautoload = no\nprefer => pp_config\n"
                  "load-provider => application:Wizardry\n")
    assert byname.report["order"] == ["pp_config", "pp_user"], byname
    # autoload = yes: the others are not loaded unless named.
    yes = load(built, tmp_path / "yes", PP, "[modules]\nautoload = yes\nprefer => pp_config\n")
    assert yes.rc == 0, yes
    assert yes.report["order"] == ["pp_config", "pp_user"]
    assert yes.report["skipped"]["pp_memory"] == (
        "not loaded: provides interface pp_wizard, whose preferred provider is pp_config ('prefer => pp_config' "
        f"at {tmp_path / 'yes' / 'modules.conf'}:3); name it with 'load =>' to load it as well")
    named = load(built, tmp_path / "named", PP, "[modules]\nprefer => pp_config\nload => pp_memory\n")
    assert named.report["order"] == ["pp_config", "pp_memory", "pp_user"], named
    # Without a prefer line, autoload = yes loads every provider (Asterisk's behaviour).
    every = load(built, tmp_path / "every", PP, "[modules]\n")
    assert every.report["order"] == ["pp_config", "pp_memory", "pp_user"]


def test_prefer_errors_name_the_line(built, tmp_path):
    run = load(built, tmp_path / "two", PP, "[modules]\nprefer => pp_config\nprefer => pp_memory\n")
    assert run.rc == 2, run
    [err] = run.report["errors"]
    assert err["code"] == "loader-prefer" and err["line"] == 3
    assert "both prefer a provider of interface pp_wizard" in err["message"]
    typo = load(built, tmp_path / "typo", PP, "[modules]\nprefer => pp_memroy\n")
    assert typo.rc == 2 and "did you mean 'pp_memory'?" in typo.report["errors"][0]["message"], typo
    none = load(built, tmp_path / "none", PP, "[modules]\nprefer => pp_user\n")
    assert none.rc == 2 and "provides no interface" in none.report["errors"][0]["message"], none


# -- refresh with rollback ---------------------------------------------------------------------------

RF = ["rf_base", "rf_mid", "rf_top", "rf_opt"]


def test_refresh_reloads_the_module_and_its_users_in_order(built, tmp_path):
    run = load(built, tmp_path, RF, None, "--then", "refresh -r rf_base")
    assert run.rc == 0, run
    before = {"rf_base": 2, "rf_mid": 1, "rf_opt": 0, "rf_top": 0}
    cmd = run.command()
    assert cmd["refresh"]["result"] == "completed" and cmd["ok"]
    assert cmd["refresh"]["use_counts_before"] == before
    assert cmd["use_counts"] == before
    assert cmd["unloaded"] == ["rf_top", "rf_opt", "rf_mid", "rf_base"]
    assert cmd["refresh"]["reloaded"] == ["rf_base", "rf_mid", "rf_opt", "rf_top"]
    assert run.log[4:] == ["unload rf_top", "unload rf_opt", "unload rf_mid", "unload rf_base",
                           "load rf_base", "load rf_mid", "load rf_opt", "load rf_top"]
    assert cmd["mapped"] == sorted(RF)


def test_refresh_that_fails_midway_rolls_back_to_the_starting_set(built, tmp_path):
    counter = tmp_path / "rf_mid.count"
    run = load(built, tmp_path / "w", RF, None, "--then", "refresh -r rf_base", env={"RF_COUNTER": str(counter)})
    assert run.rc == 1, run  # the refresh did not complete
    cmd = valid(run.report)["commands"][0]
    assert cmd["ok"] is False
    refresh = cmd["refresh"]
    assert refresh["result"] == "rolled back"
    assert "rf_mid" in refresh["failed"] and "load() returned DECLINE" in refresh["failed"]["rf_mid"]
    assert "requires rf_mid, which declined" in refresh["failed"]["rf_top"]
    assert refresh["retried"] == ["rf_mid", "rf_top"] and refresh["missing"] == []
    # The same running set, with the same use counts, as before the refresh.
    assert cmd["use_counts"] == refresh["use_counts_before"] == {"rf_base": 2, "rf_mid": 1, "rf_opt": 0, "rf_top": 0}
    assert sorted(run.report["order"]) == sorted(RF)
    assert "rolled back: the running set is the one it started from, with the same use counts" in cmd["message"]
    # What ran, as the modules themselves logged it: rf_mid declined its second load, loaded on the third.
    assert run.log[4:] == ["unload rf_top", "unload rf_opt", "unload rf_mid", "unload rf_base",
                           "load rf_base", "decline rf_mid", "load rf_opt", "load rf_mid", "load rf_top"]
    assert counter.read_text() == "3"
    assert cmd["mapped"] == sorted(RF)


def test_refresh_that_cannot_be_restored_says_what_is_missing(built, tmp_path):
    run = load(built, tmp_path, ["rf_base", "rf_stuck"], None, "--then", "refresh -r rf_base",
               env={"RF_COUNTER": str(tmp_path / "stuck.count")})
    assert run.rc == 1, run
    refresh = run.command()["refresh"]
    assert refresh["result"] == "incomplete" and refresh["missing"] == ["rf_stuck"]
    assert "could not be restored: not running: rf_stuck" in run.command()["message"]
    assert run.report["order"] == ["rf_base"]


def test_refresh_without_r_refuses_a_module_in_use(built, tmp_path):
    run = load(built, tmp_path, RF, None, "--then", "refresh rf_base", "--then", "refresh rf_top")
    assert run.rc == 1, run
    first, second = run.report["commands"]
    assert not first["ok"] and "in use by rf_mid, rf_opt, rf_top" in first["message"]
    assert second["ok"] and second["refresh"]["reloaded"] == ["rf_top"]
    assert run.log[4:] == ["unload rf_top", "load rf_top"]

"""`buildtool meson-plan`: the configure-time plan meson.build reads (no meson needed here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from buildtool import catalog as catalog_mod
from buildtool import mesonplan
from buildtool.scan import scan

REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "modules"
CATALOG = MODULES / "catalog.toml"


def _buildtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "buildtool", *args], capture_output=True, text=True, cwd=cwd)


def _plan(paths=(MODULES,), catalog=CATALOG) -> mesonplan.MesonPlan:
    cat = catalog_mod.load_all([str(catalog)])
    return mesonplan.make_meson_plan(scan([str(p) for p in paths], cat), cat)


def _module(path: Path, body: str) -> None:
    path.write_text(f"/*** MODULEINFO\n{body}\n ***/\n#include \"asterisk/module.h\"\n", encoding="utf-8")


def test_bundled_modules_scan_clean_and_cover_the_loader_cases():
    plan = _plan()
    assert plan.diagnostics == [], [d.render() for d in plan.diagnostics]
    data = mesonplan.parse_plan(plan.text())
    mods = {m["name"]: m for m in data["module"]}
    assert len(mods) >= 15
    # three-deep required chain
    assert mods["chan_pjsip"]["requires"] == ["res_pjsip", "res_pjsip_session"]
    assert mods["res_pjsip_session"]["requires"] == ["res_pjsip"]
    # present and absent libraries, and the transitive chain through res_curl
    assert mods["func_crc32"]["libraries_required"] == ["zlib"]
    assert mods["res_config_sqlite3"]["libraries_required"] == ["sqlite3"]
    assert mods["res_curl"]["libraries_required"] == ["curl"]
    assert mods["func_curl"]["requires"] == ["res_curl"]
    assert mods["res_pjsip"]["libraries_optional"] == ["crypto"]
    # interface with two providers, required by res_pjsip
    assert {"name": "sorcery_wizard", "catalogued": False,
            "providers": ["res_sorcery_config", "res_sorcery_memory"]} in data["interface"]
    assert mods["res_pjsip"]["interfaces_required"] == ["sorcery_wizard"]
    # build options, default-disabled, conflicts with a module and with a platform
    assert mods["test_sorcery"]["options_required"] == ["TEST_FRAMEWORK"]
    assert mods["app_stack"]["options_optional"] == ["TEST_FRAMEWORK"]
    assert mods["res_config_ldap"]["default_enabled"] == "no"
    assert mods["res_timing_pthread"]["conflicts"] == ["res_timing_timerfd"]
    assert mods["res_timing_timerfd"]["platform_conflicts"] == ["windows"]
    libs = {lib["name"]: lib["dependency"] for lib in data["library"]}
    assert libs == {"crypto": "libcrypto", "curl": "libcurl", "sqlite3": "sqlite3", "zlib": "zlib"}


def test_modules_come_in_dependency_order_ties_by_name():
    data = mesonplan.parse_plan(_plan().text())
    order = [m["name"] for m in data["module"]]
    position = {name: i for i, name in enumerate(order)}
    providers = {i["name"]: i["providers"] for i in data["interface"]}
    for m in data["module"]:
        for req in m["requires"]:
            assert position[req] < position[m["name"]], (req, m["name"])
        for iface in m["interfaces_required"]:
            for provider in providers[iface]:
                assert position[provider] < position[m["name"]], (provider, m["name"])
    # Kahn's algorithm with a name-ordered queue: ties by name, worked out by hand from modules/
    assert order == ["app_macro", "app_stack", "cdr_csv", "func_crc32", "res_config_ldap", "res_config_sqlite3",
                     "res_curl", "func_curl", "res_fax", "res_fax_spandsp", "res_mwi_external",
                     "res_sorcery_config", "res_sorcery_memory", "res_pjsip", "res_pjsip_session", "chan_pjsip",
                     "res_statsd", "app_statsd_hook", "res_timing_dahdi", "app_meetme", "res_timing_pthread",
                     "res_timing_timerfd", "test_sorcery"]


def test_plan_is_the_same_from_another_process_and_directory(tmp_path):
    # Two child processes with different hash seeds, over copies of modules/ at different depths,
    # the sources listed in another order, run from different working directories: the same bytes.
    import os
    import shutil
    outputs = []
    for i, where in enumerate((tmp_path / "a", tmp_path / "b" / "deeper" / "still")):
        copy = shutil.copytree(MODULES, where / "modules")
        sources = sorted(str(p) for p in copy.glob("*.c"))
        if i:
            sources.reverse()
        env = {**os.environ, "PYTHONHASHSEED": str(i + 1)}
        done = subprocess.run([sys.executable, "-m", "buildtool", "meson-plan", "--catalog", str(copy / "catalog.toml"),
                               *sources], capture_output=True, cwd=where, env=env)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert str(tmp_path).encode() not in outputs[0]


def test_plan_command_output_and_list(tmp_path):
    result = _buildtool("meson-plan", "--catalog", str(CATALOG), str(MODULES))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # written out by hand from modules/*.c and modules/catalog.toml (fields: mesonplan.MODULE_FIELDS)
    assert lines[0] == "|".join(("columns",) + mesonplan.MODULE_FIELDS[1:])
    assert lines[1:6] == ["library|crypto|libcrypto", "library|curl|libcurl", "library|sqlite3|sqlite3",
                         "library|zlib|zlib", "interface|sorcery_wizard|no|res_sorcery_config res_sorcery_memory"]
    assert "module|chan_pjsip|chan_pjsip.c|yes|res_pjsip res_pjsip_session|||||||" in lines
    assert "module|res_pjsip|res_pjsip.c|yes||sorcery_wizard||crypto||||" in lines
    assert "module|res_timing_timerfd|res_timing_timerfd.c|yes||||||||windows" in lines
    assert "module|test_sorcery|test_sorcery.c|yes||sorcery_wizard|||TEST_FRAMEWORK|||" in lines
    assert "module|res_config_ldap|res_config_ldap.c|no||||||||" in lines
    for line in result.stdout.splitlines():
        kind = line.split("|")[0]
        assert kind in ("columns", "library", "interface", "module")
        if kind == "module":
            assert len(line.split("|")) == len(mesonplan.MODULE_FIELDS)
    listing = _buildtool("meson-plan", "--list", str(MODULES))
    assert listing.returncode == 0
    assert listing.stdout.splitlines() == sorted(p.name for p in MODULES.glob("*.c"))


def test_scan_error_fails_with_file_line_col(tmp_path):
    _module(tmp_path / "res_a.c", "\t<depend>res_missing</depend>")
    _module(tmp_path / "res_b.c", "\t<support_level>core</support_level>")
    result = _buildtool("meson-plan", str(tmp_path / "res_a.c"), str(tmp_path / "res_b.c"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{tmp_path / 'res_a.c'}:2:" in result.stderr
    assert ": error: " in result.stderr and "res_missing" in result.stderr


def test_required_cycle_fails(tmp_path):
    _module(tmp_path / "res_a.c", "\t<depend>res_b</depend>")
    _module(tmp_path / "res_b.c", "\t<depend>res_a</depend>")
    result = _buildtool("meson-plan", str(tmp_path))
    assert result.returncode == 1
    assert "dependency-cycle" in result.stderr
    assert "res_a -> res_b -> res_a" in result.stderr


def test_cycle_through_interface_providers_fails(tmp_path):
    # res_a provides "store" but requires res_b, which requires the interface "store".
    _module(tmp_path / "res_a.c", "\t<provide>store</provide>\n\t<depend>res_b</depend>")
    _module(tmp_path / "res_b.c", "\t<depend type=\"interface\">store</depend>")
    result = _buildtool("meson-plan", str(tmp_path))
    assert result.returncode == 1
    assert f"{tmp_path / 'res_a.c'}:" in result.stderr
    assert "cannot be ordered: res_a needs res_b needs res_a" in result.stderr


def test_warnings_do_not_fail(tmp_path):
    _module(tmp_path / "res_a.c", "\t<use>not_anything</use>")
    result = _buildtool("meson-plan", str(tmp_path))
    assert result.returncode == 0
    assert "warning" in result.stderr
    assert result.stdout.splitlines()[1].startswith("module|res_a|res_a.c|yes|")


def test_empty_headers_have_no_data(tmp_path):
    out = tmp_path / "out"
    result = _buildtool("meson-plan", "--empty-headers", "--out-dir", str(out), str(MODULES))
    assert result.returncode == 0, result.stderr
    header = (out / "chan_pjsip.modinfo.h").read_text()
    assert '#define AST_MODULE_REQUIRES ""' in header
    assert '#define AST_MODULEINFO_MODULE "chan_pjsip"' in header
    assert len(list(out.glob("*.modinfo.h"))) == len(list(MODULES.glob("*.c")))


def test_select_tree_drops_unbuilt_modules(tmp_path):
    full = tmp_path / "full.json"
    assert _buildtool("scan", "--catalog", str(CATALOG), "--format", "json", "-o", str(full),
                      str(MODULES)).returncode == 0
    out = tmp_path / "tree.json"
    result = _buildtool("meson-plan", "--select-tree", str(full), "--drop", "res_curl,func_curl",
                        "--tree-out", str(out))
    assert result.returncode == 0, result.stderr
    tree = json.loads(out.read_text())
    assert "res_curl" not in tree["modules"] and "func_curl" not in tree["modules"]
    assert "res_pjsip" in tree["modules"]
    mtime = out.stat().st_mtime_ns
    _buildtool("meson-plan", "--select-tree", str(full), "--drop", "func_curl,res_curl", "--tree-out", str(out))
    assert out.stat().st_mtime_ns == mtime  # unchanged content: not rewritten (restat)


def test_decide_says_why_each_module_is_not_built(tmp_path):
    # A hand-written plan (each module line's fields named, in the plan's column order) and what meson
    # found; each reason worked out by hand.
    def module(name, default="yes", requires="", libs="", options="", interfaces="", conflicts="", systems=""):
        given = {"name": name, "source": name + ".c", "default_enabled": default, "requires": requires,
                 "libraries_required": libs, "options_required": options, "interfaces_required": interfaces,
                 "conflicts": conflicts, "platform_conflicts": systems}
        return "|".join(("module",) + tuple(given.get(c, "") for c in mesonplan.MODULE_FIELDS[1:])) + "\n"

    plan = tmp_path / "plan.txt"
    plan.write_text("library|curl|libcurl\n" "interface|wiz|no|res_wiz\n"
                    + module("res_curl", libs="curl") + module("res_wiz", systems="windows")
                    + module("res_a", requires="res_curl") + module("res_b", options="TEST")
                    + module("res_c", interfaces="wiz") + module("res_d", default="no")
                    + module("res_e", conflicts="res_f") + module("res_f"), encoding="utf-8")
    result = _buildtool("meson-plan", "--decide", str(plan), "--default-disabled", "skip", "--system", "windows",
                        "--disable-modules", "res_x")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "disabled|res_curl|requires library curl (not found: dependency libcurl)",
        "disabled|res_wiz|conflicts with the platform windows",
        "disabled|res_a|requires res_curl, which requires library curl (not found: dependency libcurl)",
        "disabled|res_b|requires build option TEST (not in -Dbuild_options)",
        "disabled|res_c|requires interface wiz, whose providers are not built (res_wiz conflicts with the platform "
        "windows)",
        "disabled|res_d|is <defaultenabled>no</defaultenabled> and -Ddefault_disabled=skip",
        "built|res_e",
        "disabled|res_f|conflicts with res_e, which is built (-Ddisable_modules=res_e builds this one instead)",
    ]
    built = _buildtool("meson-plan", "--decide", str(plan), "--found-libraries", "curl", "--build-options", "TEST",
                       "--disable-modules", "res_e", "--system", "linux")
    assert built.stdout.splitlines() == ["built|res_curl", "built|res_wiz", "built|res_a", "built|res_b", "built|res_c",
                                         "built|res_d", "disabled|res_e|is left out by -Ddisable_modules",
                                         "built|res_f"]

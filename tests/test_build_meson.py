"""The meson build of modules/: injected data, disabled modules, options, reproducible bytes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from helpers.build import REPO, build_project, meson_setup

GLOBAL_SYMBOLS = 1 << 0


def _inspect(paths) -> dict[str, dict]:
    result = subprocess.run([sys.executable, "-m", "buildtool", "inspect", "--format", "json", *map(str, paths)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return {m["name"]: m for m in json.loads(result.stdout)["modules"]}


def _scan_tree() -> dict[str, dict]:
    result = subprocess.run([sys.executable, "-m", "buildtool", "scan", "--format", "json", "--catalog",
                             str(REPO / "modules" / "catalog.toml"), str(REPO / "modules")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["modules"]


def _expected_record(module: dict) -> dict:
    """What `buildtool inspect` must show for a module of the scan tree."""
    source = Path(module["source"])
    if not source.is_absolute():
        source = REPO / source
    return {
        "name": module["name"],
        "requires": module["requires"],
        "optional_modules": module["optional_modules"],
        "enhances": module["enhances"],
        "provides": module["provides"],
        "uses": module["interfaces"]["required"],
        "optional_uses": module["interfaces"]["optional"],
        "libraries": module["libraries"]["required"],
        "optional_libraries": module["libraries"]["optional"],
        "options": module["options"]["required"],
        "builtins": module["builtins"],
        "conflicts": module["conflicts"],
        "support_level": module["support_level"],
        "default_enabled": module["default_enabled"],
        "deprecated_in": module["deprecated_in"],
        "removed_in": module["removed_in"],
        "replacement": module["replacement"],
        "source_hash": "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest(),
    }


def _summary_reasons(output: str) -> dict[str, str]:
    """meson's "Disabled modules" summary section as {module: reason}."""
    reasons: dict[str, str] = {}
    section = None
    for line in output.splitlines():
        if line and not line.startswith(" "):
            section = None
        stripped = line.strip()
        if stripped in ("Disabled modules", "Modules", "Conflicts", "Install"):
            section = stripped
            continue
        if section == "Disabled modules" and ":" in stripped:
            name, _, reason = stripped.partition(":")
            reasons[name.strip()] = reason.strip()
    return reasons


def _libcurl_present() -> bool:
    return subprocess.run(["pkg-config", "--exists", "libcurl"]).returncode == 0


def test_every_built_module_carries_exactly_its_scan_data(built_modules):
    scanned = _scan_tree()
    installed_tree = json.loads(built_modules.tree_json.read_text())["modules"]
    records = _inspect(built_modules.modules.values())
    assert set(records) == set(built_modules.modules)
    assert len(records) >= 15
    for name, record in records.items():
        expected = _expected_record(scanned[name])
        got = {key: record.get(key) for key in expected}
        assert got == expected, name
        # the build's own tree (installed for third parties) says the same
        assert _expected_record(installed_tree[name]) == expected, name
        assert record["abi_version"] == 1
        # the machine as pyelftools reads it from the ELF header, not from our record reader
        with open(built_modules.modules[name], "rb") as stream:
            assert record["machine"] == ELFFile(stream)["e_machine"], name


def test_flags_and_exported_symbol(built_modules):
    records = _inspect(built_modules.modules.values())
    for name in ("res_pjsip", "res_pjsip_session", "res_fax"):
        assert records[name]["flags"] & GLOBAL_SYMBOLS, name
    for name in ("res_statsd", "chan_pjsip", "app_statsd_hook"):
        assert not records[name]["flags"] & GLOBAL_SYMBOLS, name
    for path in built_modules.modules.values():
        with open(path, "rb") as stream:
            elf = ELFFile(stream)
            dynsym = elf.get_section_by_name(".dynsym")
            [symbol] = dynsym.get_symbol_by_name("__ast_module_info")
            # the struct itself lives in its documented section, the record in its own
            assert elf.get_section(symbol["st_shndx"]).name == ".ast_module_info", path
            assert elf.get_section_by_name(".ast_modinfo") is not None


def test_libraries_are_linked(built_modules):
    def needed(path):
        with open(path, "rb") as stream:
            dynamic = ELFFile(stream).get_section_by_name(".dynamic")
            return {t.needed for t in dynamic.iter_tags() if t.entry.d_tag == "DT_NEEDED"}

    assert any(n.startswith("libz.") for n in needed(built_modules.modules["func_crc32"]))
    assert any(n.startswith("libsqlite3.") for n in needed(built_modules.modules["res_config_sqlite3"]))
    # optional library found on this machine: linked, and the module was built with -DHAVE_CRYPTO
    assert any(n.startswith("libcrypto.") for n in needed(built_modules.modules["res_pjsip"]))
    # modules never link the core: it is dlopened RTLD_GLOBAL by the loader
    assert not any("astcore" in n for p in built_modules.modules.values() for n in needed(p))


def test_address_of_other_modules_function_is_a_data_relocation(built_modules):
    with open(built_modules.modules["app_statsd_hook"], "rb") as stream:
        elf = ELFFile(stream)
        names = set()
        for section in elf.iter_sections():
            if section.header.sh_type in ("SHT_RELA", "SHT_REL") and not section.name.endswith(".plt"):
                symtab = elf.get_section(section.header.sh_link)
                names |= {symtab.get_symbol(r["r_info_sym"]).name for r in section.iter_relocations()}
    assert "ast_statsd_log" in names  # resolved at dlopen even under RTLD_LAZY: fails consistently


def test_disabled_modules_and_reasons_in_summary(built_modules):
    reasons = _summary_reasons(built_modules.setup_output)
    assert reasons["test_sorcery"] == "requires build option TEST_FRAMEWORK (not in -Dbuild_options)"
    assert "test_sorcery" not in built_modules.modules
    assert reasons["res_timing_timerfd"] == ("conflicts with res_timing_pthread, which is built "
                                             "(-Ddisable_modules=res_timing_pthread builds this one instead)")
    curl = {"res_curl", "func_curl"} if not _libcurl_present() else set()
    assert set(reasons) == {"test_sorcery", "res_timing_timerfd"} | curl
    assert not set(reasons) & set(built_modules.modules)
    # the installed tree holds exactly the built modules
    tree = json.loads(built_modules.tree_json.read_text())["modules"]
    assert set(tree) == set(built_modules.modules)


def test_missing_library_disables_its_users_transitively(built_modules):
    if _libcurl_present():
        pytest.skip("libcurl is installed here: res_curl is built (the case needs a library that is absent)")
    reasons = _summary_reasons(built_modules.setup_output)
    assert reasons["res_curl"] == "requires library curl (not found: dependency libcurl)"
    assert reasons["func_curl"] == "requires res_curl, which requires library curl (not found: dependency libcurl)"
    assert "res_curl" not in built_modules.modules and "func_curl" not in built_modules.modules
    assert not (built_modules.modules_dir / "res_curl.so").exists()


def test_core_library_exports_the_trace(built_modules):
    import ctypes

    core = ctypes.CDLL(str(built_modules.core_library))
    core.ast_module_trace_log.restype = ctypes.c_char_p
    core.ast_module_trace.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    core.ast_module_trace_reset()
    core.ast_module_trace(b"res_a", b"load")
    core.ast_module_trace(b"res_b", b"reload")
    assert core.ast_module_trace_log() == b"res_a:load\nres_b:reload\n"
    assert core.ast_module_trace_count() == 2
    core.ast_module_trace_reset()
    assert core.ast_module_trace_log() == b""


def test_two_build_directories_give_identical_bytes(built_modules, installed_build):
    # The installed build: another depth and name, so relative and absolute paths both differ, and
    # another prefix, which must not leak into the binaries either.
    _, other = installed_build
    assert len(other.build_dir.parts) != len(built_modules.build_dir.parts)
    assert other.build_dir.name != built_modules.build_dir.name
    assert set(other.modules) == set(built_modules.modules)
    for name, path in built_modules.modules.items():
        assert path.read_bytes() == other.modules[name].read_bytes(), name
    assert built_modules.core_library.read_bytes() == other.core_library.read_bytes()
    for path in built_modules.modules.values():
        data = path.read_bytes()
        assert str(built_modules.build_dir).encode() not in data
        assert str(REPO).encode() not in data


def test_options_select_modules(tmp_path):
    build = build_project(REPO, tmp_path / "build", "-Dbuild_options=TEST_FRAMEWORK",
                          "-Ddisable_modules=res_fax", "-Ddefault_disabled=skip")
    reasons = _summary_reasons(build.setup_output)
    assert reasons["res_fax"] == "is left out by -Ddisable_modules"
    assert reasons["res_fax_spandsp"] == "requires res_fax, which is left out by -Ddisable_modules"
    assert reasons["res_config_ldap"] == "is <defaultenabled>no</defaultenabled> and -Ddefault_disabled=skip"
    assert "test_sorcery" not in reasons
    for name in ("res_fax", "res_fax_spandsp", "res_config_ldap"):
        assert name not in build.modules
    assert "test_sorcery" in build.modules
    records = _inspect([build.modules["test_sorcery"]])
    assert records["test_sorcery"]["options"] == ["TEST_FRAMEWORK"]
    assert records["test_sorcery"]["uses"] == ["sorcery_wizard"]
    # <use>TEST_FRAMEWORK</use>: compiled with -DTEST_FRAMEWORK, the extra trace is in the binary
    assert b"test_framework" in build.modules["app_stack"].read_bytes()
    tree = json.loads(build.tree_json.read_text())["modules"]
    assert set(tree) == set(build.modules)


def test_interface_without_built_providers_disables_its_users(tmp_path):
    result = meson_setup(REPO, tmp_path / "build",
                         "-Ddisable_modules=res_sorcery_memory,res_sorcery_config,res_nope")
    reasons = _summary_reasons(result.stdout)
    assert reasons["res_pjsip"] == (
        "requires interface sorcery_wizard, whose providers are not built "
        "(res_sorcery_config is left out by -Ddisable_modules; res_sorcery_memory is left out by -Ddisable_modules)")
    assert reasons["res_pjsip_session"].startswith("requires res_pjsip, which requires interface sorcery_wizard")
    assert reasons["chan_pjsip"].startswith("requires res_pjsip, which requires interface sorcery_wizard")
    assert "res_mwi_external" not in reasons  # an optional user is still built
    # unknown name in -Ddisable_modules: meson's own warning line, "modules/meson.build:LINE: WARNING: ..."
    # (not its echo of the option value in the summary)
    [warning] = [line for line in (result.stdout + result.stderr).splitlines()
                 if "WARNING:" in line and "res_nope" in line]
    assert warning.endswith(": WARNING: -Ddisable_modules names 'res_nope', which is not a module of modules/")


def test_release_check_of_the_bundled_build(built_modules):
    """The build's disabled.txt lets `check --binaries` judge exactly what this build left out."""
    disabled = (built_modules.modules_dir / "disabled.txt").read_text().splitlines()
    assert [line.split()[0] for line in disabled if not line.startswith("#")] == [
        "func_curl", "res_curl", "res_timing_timerfd", "test_sorcery"]
    result = subprocess.run(
        [sys.executable, "-m", "buildtool", "check", "--format", "json", "--catalog", str(built_modules.catalog),
         "--binaries", str(built_modules.modules_dir), "--core", str(built_modules.core_library),
         "--disabled-file", str(built_modules.modules_dir / "disabled.txt"), str(REPO / "modules")],
        capture_output=True, text=True)
    report = json.loads(result.stdout)
    errors = [(f["code"], f["module"]) for f in report["findings"] if f["severity"] == "error"]
    assert errors == [] and result.returncode == 0, result.stdout
    assert {f["module"] for f in report["findings"] if f["code"] == "binary-disabled"} == {
        "func_curl", "res_curl", "res_timing_timerfd", "test_sorcery"}


def test_quick_start_main_job_loads_the_bundled_build(built_modules):
    """The README's first command: the bundled build, loaded under the bundled modules.conf."""
    result = subprocess.run(
        [sys.executable, "-m", "buildtool", "load", "--format", "json", "--modules-dir", str(built_modules.modules_dir),
         "--config", str(REPO / "modules" / "modules.conf"), "--preload-library", str(built_modules.core_library)],
        capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    order = report["order"]
    # preload first, then everything else in dependency order (ties by name)
    assert order[:2] == ["res_sorcery_config", "res_sorcery_memory"]
    assert order.index("res_pjsip") < order.index("res_pjsip_session") < order.index("chan_pjsip")
    assert order.index("res_fax") < order.index("res_fax_spandsp")
    assert "cdr_csv" in order  # requires the core built-in cdr, which is always there
    assert report["declined"] == {
        "res_timing_dahdi": "load() returned DECLINE",
        "app_meetme": "requires res_timing_dahdi, which declined: load() returned DECLINE",
    }
    assert set(report["skipped"]) == {"app_statsd_hook", "res_config_ldap"}
    assert report["failed"] == {} and report["errors"] == []
    assert report["use_counts"]["res_pjsip"] == 2 and report["use_counts"]["res_sorcery_memory"] == 2

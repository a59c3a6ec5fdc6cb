"""check: sources and graph soundness (every finding kind), exit codes, --fail-on."""

from __future__ import annotations

from helpers.check import by_code, check_json, module_source, run_cli, write_sources


def test_clean_tree_exits_0(tmp_path):
    src = write_sources(tmp_path / "src", {"res_a": module_source(), "res_b": module_source(requires=["res_a"])})
    rc, report = check_json(src)
    assert rc == 0 and report["findings"] == []
    assert report["schema"] == 1 and report["summary"]["modules"] == 2


def test_scanner_diagnostics_are_findings(tmp_path):
    src = write_sources(tmp_path / "src", {"res_a": module_source(requires=["res_nope"])})
    rc, report = check_json(src)
    assert rc == 1
    found = by_code(report, "unknown-name") + by_code(report, "missing-module")
    assert found and found[0]["module"] == "res_a" and found[0]["line"] == 2


def test_required_cycle(tmp_path):
    src = write_sources(tmp_path / "src", {"res_a": module_source(requires=["res_b"]),
                                           "res_b": module_source(requires=["res_a"])})
    rc, report = check_json(src)
    assert rc == 1 and by_code(report, "dependency-cycle")[0]["cycle"] == ["res_a", "res_b", "res_a"]


def test_conflict_between_built_modules(tmp_path):
    src = write_sources(tmp_path / "src", {
        "res_a": module_source(tags="\t<conflict>res_b</conflict>"),
        "res_b": module_source(tags="\t<conflict>res_a</conflict>")})
    rc, report = check_json(src)
    assert rc == 1
    [finding] = by_code(report, "conflict")
    assert finding["module"] == "res_a" and finding["with"] == "res_b"
    # Disabling one of them removes the conflict.
    rc, report = check_json("--disabled", "res_b=not wanted", src)
    assert rc == 0 and not by_code(report, "conflict")


def test_requires_deprecated_and_removed_name_the_replacement(tmp_path):
    src = write_sources(tmp_path / "src", {
        "res_new": module_source(),
        "res_old": module_source(support="deprecated",
                                 tags="\t<deprecated_in>19</deprecated_in>\n\t<replacement>res_new</replacement>"),
        "res_gone": module_source(support="deprecated",
                                  tags="\t<removed_in>21</removed_in>\n\t<replacement>res_new</replacement>"),
        "app_user": module_source(requires=["res_old", "res_gone"], support="deprecated"),
    })
    rc, report = check_json(src)
    [dep] = by_code(report, "requires-deprecated")
    assert dep["severity"] == "warning" and dep["replacement"] == "res_new" and "res_new" in dep["message"]
    [gone] = by_code(report, "requires-removed")
    assert gone["severity"] == "error" and gone["requires"] == "res_gone" and "res_new" in gone["message"]
    assert rc == 1


def test_support_level_policy(tmp_path):
    src = write_sources(tmp_path / "src", {
        "res_ext": module_source(support="extended"),
        "res_core": module_source(requires=["res_ext"], support="core"),
        "res_ext2": module_source(requires=["res_ext"], support="extended"),
    })
    rc, report = check_json(src)
    [finding] = by_code(report, "support-level-policy")
    assert finding["module"] == "res_core" and finding["severity"] == "warning"
    assert rc == 0  # warnings do not fail by default...
    rc, _ = check_json("--fail-on", "warning", src)
    assert rc == 1  # ...but do with --fail-on warning


def test_usage_and_io_errors_exit_2(tmp_path):
    missing = run_cli("check", tmp_path / "nowhere")
    assert missing.returncode == 2
    # the report itself (stdout) says what is wrong, and where
    assert missing.stdout.splitlines()[0] == f"{tmp_path / 'nowhere'}:0:0: error: no such file or directory [io-error]"
    binaries = run_cli("check", "--binaries", tmp_path / "nowhere", tmp_path)
    assert binaries.returncode == 2 and binaries.stdout == ""
    assert binaries.stderr == f"{tmp_path / 'nowhere'}:0:0: error: --binaries: no such file or directory\n"
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = [", encoding="utf-8")
    catalog = run_cli("check", "--catalog", bad, tmp_path)
    assert catalog.returncode == 2 and catalog.stdout == ""
    assert catalog.stderr.startswith(f"{bad}:1:13: error: invalid TOML")
    usage = run_cli("check", "--format", "yaml", tmp_path)
    assert usage.returncode == 2 and usage.stdout == ""
    assert "argument --format: invalid choice: 'yaml'" in usage.stderr
    for done in (missing, binaries, catalog, usage):
        assert "Traceback" not in done.stderr


def test_text_format_is_compiler_style(tmp_path):
    src = write_sources(tmp_path / "src", {"res_a": module_source(requires=["res_b"]),
                                           "res_b": module_source(requires=["res_a"])})
    done = run_cli("check", src)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{src / 'res_a.c'}:2:10: error: required dependency cycle: res_a -> res_b -> res_a [dependency-cycle]",
        "2 modules checked: 1 errors, 0 warnings, 0 notes"]

"""The real Asterisk snapshot, end to end: Asterisk's own make with injected data, and the real binary on it.

One stock build and one injected copy per session (about 10 minutes on 2
cores); every test reads them. Skipped, with the reason, only where the
snapshot is absent (a fresh clone without ../shared/asterisk/).
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import asterisk_tree as at

pytestmark = pytest.mark.skipif(at.skip_reason() is not None, reason=at.skip_reason() or "")

BUILDTOOL = [sys.executable, "-m", "buildtool"]
WARNING = re.compile(r"\bwarning:", re.I)


def buildtool(*args, cwd=None, check=True):
    proc = subprocess.run([*BUILDTOOL, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"buildtool {args} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def tarball_files() -> dict[str, str]:
    """sha256 of every regular file the snapshot ships (what Asterisk's git tracks)."""
    out = {}
    with tarfile.open(at.tarball()) as archive:
        for member in archive:
            if member.isfile():
                data = archive.extractfile(member).read()
                out[member.name.split("/", 1)[1]] = hashlib.sha256(data).hexdigest()
    return out


def digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Builds:
    def __init__(self, base: Path, configured: Path):
        self.base = base
        self.stock = base / "stock" / configured.name
        shutil.copytree(configured, self.stock, symlinks=True)
        at.build(self.stock, base / "stock.log")
        self.injected = base / "injected" / self.stock.name
        shutil.copytree(self.stock, self.injected, symlinks=True)
        shipped = tarball_files()
        before = {name: digest(self.injected / name) for name in shipped}
        self.setup_first = buildtool("asterisk-setup", self.injected)
        after = {name: digest(self.injected / name) for name in shipped}
        self.changed_by_setup = sorted(n for n in shipped if before[n] != after[n])
        self.migrate = buildtool("migrate", "--write", self.injected)
        self.setup = buildtool("asterisk-setup", self.injected)
        at.run(["make", "-j2"], self.injected, base / "injected.log", 1800)
        self.stock_log = (base / "stock.log").read_text(errors="replace")
        self.injected_log = (base / "injected.log").read_text(errors="replace")
        self.modules_dir = base / "modules"
        self.modules_dir.mkdir()
        for module in at.built_modules(self.injected):
            shutil.copy2(module, self.modules_dir / module.name)


@pytest.fixture(scope="module")
def builds(tmp_path_factory, configured_snapshot) -> Builds:
    return Builds(tmp_path_factory.mktemp("asterisk"), configured_snapshot(at.tarball()))


@pytest.fixture(scope="module")
def booted(builds, tmp_path_factory):
    runs = {}
    for name, root in (("stock", builds.stock), ("injected", builds.injected)):
        with at.Booted(root, tmp_path_factory.mktemp(f"run-{name}")) as asterisk:
            runs[name] = (asterisk.running_modules(), asterisk.load_order(), asterisk.log())
    return runs


@pytest.fixture(scope="module")
def records(builds) -> dict[str, dict]:
    modules = sorted(builds.modules_dir.glob("*.so"))
    out = json.loads(buildtool("inspect", "--format", "json", *modules).stdout)
    return {Path(item["path"]).stem: item for item in out["modules"]}


def test_setup_modifies_no_shipped_file(builds):
    assert builds.changed_by_setup == []
    assert (builds.injected / ".buildtool" / "inject.mk").is_file()
    assert "-include $(ASTTOPDIR)/.buildtool/inject.mk" in (builds.injected / "makeopts").read_text()


def test_setup_reports_drift_as_warnings_naming_the_line(builds):
    drift = [line for line in builds.setup_first.stderr.splitlines() if "[hand-written-drift]" in line]
    assert drift, builds.setup_first.stderr[-2000:]
    assert all(re.match(r"^\S+\.c:\d+:\d+: warning: ", line) for line in drift), drift[:3]
    # After migration nothing drifts any more.
    assert "[hand-written-drift]" not in builds.setup.stderr


def test_injected_build_adds_no_warning(builds):
    stock = {line for line in builds.stock_log.splitlines() if WARNING.search(line)}
    injected = {line for line in builds.injected_log.splitlines() if WARNING.search(line)}
    assert injected - stock == set()


def test_every_module_rebuilt_with_injection(builds, records):
    built = {p.stem for p in at.built_modules(builds.stock)}
    assert built == {p.stem for p in at.built_modules(builds.injected)}
    assert set(records) == built
    assert all(item.get("struct") == "asterisk" for item in records.values())


def test_migrate_leaves_no_unconditional_hand_written_list(builds):
    from buildtool import handwritten

    left = []
    for directory in at.MODULE_DIRS:
        for source in (builds.injected / directory).glob("*.c"):
            found = handwritten.find(source.read_text(encoding="latin-1"))
            if found:
                left += [(source.name, f.name) for f in found.fields.values()
                         if f.name in handwritten.LIST_FIELDS and not f.condition]
    assert left == []
    # The conditional ones are kept, and said so.
    assert "res_prometheus.c" in builds.migrate.stderr and "[migrate-conditional]" in builds.migrate.stderr


def test_migration_is_lossless_against_the_shipped_lists(builds, records):
    """Every name a shipped hand-written list held is in the module's injected data."""
    from buildtool import handwritten

    for directory in at.MODULE_DIRS:
        for source in (builds.stock / directory).glob("*.c"):
            if source.stem not in records:
                continue
            found = handwritten.find(source.read_text(encoding="latin-1"))
            if not found:
                continue
            record = records[source.stem]
            for field in handwritten.LIST_FIELDS:
                item = found.fields.get(field)
                if item is None or item.condition or item.value is None:
                    continue
                have = set(record.get(field) or [])
                if field == "requires":
                    have |= set(record.get("builtins") or [])
                assert set(item.names()) <= have, (source.name, field, item.names(), have)


def test_inspect_of_every_module_equals_scan_of_the_migrated_tree(builds, records):
    tree = json.loads(buildtool("scan", "--format", "json", builds.injected, check=False).stdout)
    for name, record in records.items():
        module = tree["modules"][name]
        for key in ("requires", "optional_modules", "enhances", "provides", "builtins", "conflicts"):
            assert sorted(record.get(key) or []) == module[key], (name, key)
        assert (record.get("support_level") or None) == module["support_level"], name


def test_real_struct_holds_the_injected_lists(builds, records):
    """Read __mod_info itself out of the .so (its pointers through the dynamic relocations)."""
    import struct_reader

    offsets = struct_reader.asterisk_offsets(builds.injected)
    checked = 0
    for name in ("res_http_websocket", "app_stack", "res_ari", "chan_pjsip", "func_strings", "res_agi"):
        path = builds.modules_dir / f"{name}.so"
        if not path.exists():
            continue
        fields = struct_reader.read_mod_info(path, offsets)
        record = records[name]
        expected_requires = sorted(set(record.get("requires") or []) | set(record.get("builtins") or []))
        assert sorted(filter(None, fields["requires"].split(","))) == expected_requires, name
        assert sorted(filter(None, fields["optional_modules"].split(","))) == sorted(record.get("optional_modules") or [])
        assert fields["name"] == name
        checked += 1
    assert checked >= 4
    # res_http_websocket's only dependency was the hand-written .requires = "http" (now MODULEINFO's).
    assert struct_reader.read_mod_info(builds.modules_dir / "res_http_websocket.so", offsets)["requires"] == "http"


def test_same_modules_run_and_required_ones_load_first(builds, booted, records):
    stock_running, _, _ = booted["stock"]
    running, order, log = booted["injected"]
    assert len(stock_running) > 200
    assert running == stock_running, (sorted(stock_running - running), sorted(running - stock_running))
    position = {name: i for i, name in enumerate(order)}
    checked = 0
    for name in running:
        for dep in records.get(name, {}).get("requires") or []:
            if dep in position and name in position:
                assert position[dep] < position[name], f"{dep} loaded after {name}"
                checked += 1
    assert checked > 20
    assert "Failed to resolve dependencies" not in log


def test_graph_loader_plans_real_asterisk(builds, records):
    proc = buildtool("load", "--dry-run", "--modules-dir", builds.modules_dir, "--config",
                     builds.injected / "configs" / "samples" / "modules.conf.sample", "--format", "json",
                     check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert not report.get("errors"), report.get("errors")
    order = [m["name"] if isinstance(m, dict) else m for m in report["order"]]
    position = {name: i for i, name in enumerate(order)}
    assert len(order) > 200
    for name in order:
        for dep in records[name].get("requires") or []:
            assert position[dep] < position[name], (dep, name)


def test_provided_names_resolve_to_their_modules_from_the_binaries(builds, records):
    """Application Gosub and function LEN, read from the injected records; CURL's module was not built."""
    assert "application:Gosub" in records["app_stack"]["names"]
    assert "function:LEN" in records["func_strings"]["names"]
    assert not (builds.modules_dir / "func_curl.so").exists()
    proc = buildtool("load", "--dry-run", "--modules-dir", builds.modules_dir, "--format", "json", "--no-cache",
                     "--tree", builds.injected / ".buildtool" / "tree.json", "--explain", "application:Gosub",
                     "--explain", "function:LEN", "--explain", "function:CURL", check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    gosub, length, curl = json.loads(proc.stdout)["provided"]
    assert gosub["module"] == "app_stack" and gosub["ok"], gosub
    assert gosub["text"].startswith("application Gosub is provided by app_stack, which needs"), gosub
    assert length["module"] == "func_strings" and length["ok"], length
    assert length["text"].startswith("function LEN is provided by func_strings"), length
    assert curl["module"] == "func_curl" and not curl["ok"], curl
    assert curl["text"].startswith("function CURL is provided by func_curl, which was not built: there is no "
                                   "func_curl.so in "), curl
    # The directive: only what Gosub needs is planned, in dependency order.
    conf = builds.base / "modules-provider.conf"
    conf.write_text("[modules]\nautoload = no\nload-provider => application:Gosub\n")
    proc = buildtool("load", "--dry-run", "--modules-dir", builds.modules_dir, "--format", "json",
                     "--config", conf, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["order"][-1] == "app_stack"
    assert set(report["order"]) == {"app_stack", *report["provided"][0]["needs"]}
    assert "(application Gosub is provided by app_stack)" in report["why"]["app_stack"]


def test_the_real_tree_has_no_duplicate_application_or_function(builds):
    """Asterisk's voicemail variants share one source (links to app_voicemail.c): not a duplicate claim."""
    tree = json.loads((builds.injected / ".buildtool" / "tree.json").read_text())
    assert tree["schema"] == 4
    assert "application:VoiceMail" in tree["modules"]["app_voicemail"]["names"]
    assert not [d for d in tree["diagnostics"] if d["code"] == "provided-name-duplicate"]
    claims: dict[str, set] = {}
    for name, module in tree["modules"].items():
        for item in module["names"]:
            if item.split(":")[0] in ("application", "function"):
                claims.setdefault(item, set()).add((builds.injected / module["source"]).resolve())
    assert len(claims) > 300
    assert {k: v for k, v in claims.items() if len(v) > 1} == {}


def test_a_moduleinfo_edit_recompiles_exactly_that_module(builds):
    source = builds.injected / "apps" / "app_stack.c"
    text = source.read_text(encoding="latin-1")
    source.write_text(text.replace("/*** MODULEINFO\n", "/*** MODULEINFO\n\t<use type=\"module\">app_dial</use>\n", 1),
                      encoding="latin-1")
    log = builds.base / "edit.log"
    at.run(["make", "-j2"], builds.injected, log, 900)
    compiled = re.findall(r"\[CC\] (\S+) -> ", log.read_text(errors="replace"))
    assert compiled == ["app_stack.c"]
    record = json.loads(buildtool("inspect", "--format", "json", builds.injected / "apps" / "app_stack.so").stdout)
    assert "app_dial" in record["modules"][0]["optional_modules"]


THIRD_PARTY = """\
/*** MODULEINFO
\t<depend type="module">res_agi</depend>
\t<use type="module">app_stack</use>
\t<support_level>extended</support_level>
 ***/
#include "asterisk.h"
#include "asterisk/module.h"

static int load_module(void) { return AST_MODULE_LOAD_SUCCESS; }
static int unload_module(void) { return 0; }

AST_MODULE_INFO_STANDARD_EXTENDED(ASTERISK_GPL_KEY, "A third-party module");
"""


@pytest.fixture(scope="module")
def third_party(builds):
    """res_mine.c built out of tree with one gcc line against installed, unmodified Asterisk headers."""
    prefix = builds.base / "prefix"
    at.run(["make", "install-headers", f"DESTDIR={prefix}"], builds.stock, builds.base / "install.log", 300)
    include = next(p.parent for p in prefix.rglob("asterisk.h") if (p.parent / "asterisk" / "module.h").is_file())
    work = builds.base / "third-party"
    work.mkdir()
    source = work / "res_mine.c"
    source.write_text(THIRD_PARTY)
    flags = buildtool("cflags", source, "--tree", builds.injected / ".buildtool" / "tree.json",
                      "--out-dir", work / "gen", "--asterisk-include", include).stdout
    flags = shlex.split(flags)
    so = work / "res_mine.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wall", "-Werror", "-o", str(so), str(source), *flags], check=True,
                   capture_output=True, text=True)
    return so, include


def test_third_party_module_against_installed_headers_gets_the_injection(builds, third_party):
    import struct_reader

    so, include = third_party
    # Installed headers are used as installed: module.h is Asterisk's own.
    assert (include / "asterisk" / "module.h").read_bytes() == (builds.stock / "include" / "asterisk" / "module.h").read_bytes()
    fields = struct_reader.read_mod_info(so, struct_reader.asterisk_offsets(builds.stock))
    assert fields["requires"] == "res_agi" and fields["optional_modules"] == "app_stack"
    record = json.loads(buildtool("inspect", "--format", "json", so).stdout)
    item = record["modules"][0]
    assert item["struct"] == "asterisk" and item["requires"] == ["res_agi"]


def test_real_asterisk_loads_the_third_party_module_after_its_requirement(builds, third_party, tmp_path_factory):
    so, _ = third_party
    with at.Booted(builds.injected, tmp_path_factory.mktemp("run-third-party")) as asterisk:
        shutil.copy2(so, asterisk.run_dir / "modules" / so.name)
        out = asterisk.cli("module load res_mine.so")
        assert "Loaded res_mine.so" in out
        assert "res_mine" in asterisk.running_modules()
        # res_agi is now required by res_mine (injected .requires): Asterisk's own loader refuses to unload it.
        refused = asterisk.cli("module unload res_agi.so")
        assert "Unable to unload resource res_agi.so" in refused
        assert "res_agi" in asterisk.running_modules()


def test_check_reads_the_real_binaries_against_the_migrated_tree(builds):
    """`check ROOT --binaries ROOT`: every built module's record matches its source (none stale, foreign or
    hand-edited), every module menuselect left out is a note naming why, none is missing."""
    proc = buildtool("check", builds.injected, "--binaries", builds.injected, "--core",
                     builds.injected / "main" / "asterisk", "--format", "json", check=False)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    findings = json.loads(proc.stdout)["findings"]
    binary_errors = [f for f in findings if f["code"] in ("binary-metadata", "binary-stale", "binary-foreign",
                                                          "binary-unreadable", "binary-missing", "struct-size",
                                                          "abi-version")]
    assert binary_errors == [], binary_errors[:3]
    disabled = [f for f in findings if f["code"] == "binary-disabled"]
    assert disabled and all("menuselect" in f["message"] for f in disabled)

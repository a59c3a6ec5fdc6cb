"""Incremental builds are exact, counted from ninja's own output; compile-time diagnostics.

All edits happen in a copy of the project (module scope), never in the repository.
Each test starts from a built, up-to-date copy and puts back what it changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.build import REPO, meson_setup, project_copy, run_ninja

COMPILE = re.compile(r"Compiling C object modules/([A-Za-z0-9_]+)\.so\.p/")
TREE_STEP = "Generating modules/modinfo-tree"  # the tree files from the per-module fragments
REGENERATE = "Regenerating build files"       # ninja re-running meson
PLAN_CHANGED = "the module plan changed"


def compiled(output: str) -> set[str]:
    """The modules ninja compiled, from its own progress lines."""
    return set(COMPILE.findall(output))


class Scratch:
    def __init__(self, root: Path):
        self.source = project_copy(root / "src")
        self.build = root / "build"
        meson_setup(self.source, self.build)
        run_ninja(self.build)
        self.originals: dict[Path, bytes] = {}

    def path(self, module: str) -> Path:
        return self.source / "modules" / f"{module}.c"

    def edit(self, module: str, old: str, new: str) -> None:
        path = self.path(module)
        text = path.read_text(encoding="utf-8")
        assert old in text, (module, old)
        self.originals.setdefault(path, path.read_bytes())
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def restore(self) -> None:
        for path, data in self.originals.items():
            path.write_bytes(data)
        self.originals.clear()

    def ninja(self, *args: str, check: bool = True) -> str:
        result = run_ninja(self.build, *args, check=check)
        return result.stdout + result.stderr

    def up_to_date(self) -> None:
        self.ninja()
        out = self.ninja("-d", "explain")
        assert "no work to do" in out and "ninja explain" not in out, out


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return Scratch(tmp_path_factory.mktemp("incremental"))


@pytest.fixture
def fresh(scratch):
    scratch.up_to_date()
    yield scratch
    scratch.restore()


def whole_tree_scan(scratch) -> str:
    """The scanned tree as `buildtool scan` makes it from the sources, in one process."""
    from buildtool import catalog, treefile
    from buildtool.scan import scan

    modules = scratch.source / "modules"
    return treefile.to_json(scan([str(modules)], catalog.load_all([str(modules / "catalog.toml")])))


def test_noop_does_nothing(fresh):
    out = fresh.ninja("-d", "explain")
    assert "no work to do" in out
    assert "ninja explain" not in out
    assert fresh.ninja("-n").strip().endswith("no work to do.")


def test_body_edit_recompiles_that_module_only(fresh):
    generated = [fresh.build / "modules" / f"res_fax{suffix}" for suffix in (".modinfo.h", ".modinfo.json")]
    before = [p.stat().st_mtime_ns for p in generated]
    fresh.edit("res_fax", 'ast_module_trace(AST_MODULE, "reload");',
               'ast_module_trace(AST_MODULE, "reload"); /* edited */')
    out = fresh.ninja()
    assert [p.stat().st_mtime_ns for p in generated] == before
    assert compiled(out) == {"res_fax"}, out
    assert "Linking target modules/res_fax.so" in out
    assert len(re.findall(r"Linking target", out)) == 1, out
    # Nothing re-configured, and the block did not change: the step wrote the hash header alone, so
    # the module's header and tree fragment kept their bytes and time, and the tree step did not run.
    assert REGENERATE not in out and TREE_STEP not in out, out
    assert "Generating modules/res_fax.modinfo-step" in out, out


def test_moduleinfo_edit_recompiles_only_modules_whose_data_changed(fresh):
    # res_statsd now also uses res_fax: only res_statsd's injected data changes.
    fresh.edit("res_statsd", "<support_level>extended</support_level>",
               '<use type="module">res_fax</use>\n\t<support_level>extended</support_level>')
    out = fresh.ninja()
    assert REGENERATE not in out, out
    assert compiled(out) == {"res_statsd"}, out
    header = (fresh.build / "modules" / "res_statsd.modinfo.h").read_text()
    assert '#define AST_MODULE_OPTIONAL_MODULES "res_fax"' in header
    # The tree files follow, from the per-module fragments: what a whole-tree scan gives.
    assert TREE_STEP in out, out
    assert (fresh.build / "modules" / "scan-tree.json").read_text() == whole_tree_scan(fresh)
    tree = json.loads((fresh.build / "modules" / "tree.json").read_text())
    assert tree["modules"]["res_statsd"]["optional_modules"] == ["res_fax"]
    # tree.json: the same without the modules meson leaves out (disabled.txt, written at configure time).
    left_out = {line.split()[0] for line in (fresh.build / "modules" / "disabled.txt").read_text().splitlines()
                if line and not line.startswith("#")}
    scanned = json.loads(whole_tree_scan(fresh))
    assert left_out and set(tree["modules"]) == set(scanned["modules"]) - left_out
    assert tree["modules"] == {n: m for n, m in scanned["modules"].items() if n not in left_out}
    assert tree["diagnostics"] == [d for d in scanned["diagnostics"] if d.get("module") not in left_out]
    fresh.up_to_date()


def test_moduleinfo_edits_are_answered_by_the_step_server(fresh):
    # The first edit that needs the step's Python part (here, or in an earlier test of this build) runs it
    # itself and starts the step server, detached: ninja, whose output this test captures through a pipe,
    # returns without waiting for it. The next edits are its answers, with the same effect.
    log = fresh.build / "modules" / "modinfo-step-server.log"
    for support in ("core", "deprecated", "extended"):
        fresh.edit("res_statsd", "<support_level>extended</support_level>",
                   f'<use type="module">res_fax</use>\n\t<support_level>{support}</support_level>')
        before = log.read_text() if log.exists() else ""
        out = fresh.ninja()
        assert compiled(out) == {"res_statsd"} and REGENERATE not in out, out
        header = (fresh.build / "modules" / "res_statsd.modinfo.h").read_text()
        assert f"#define AST_MODULE_SUPPORT_LEVEL AST_MODULE_SUPPORT_{support.upper()}\n" in header
        assert (fresh.build / "modules" / "scan-tree.json").read_text() == whole_tree_scan(fresh)
        fresh.restore()
        for _ in range(200):  # the server started by the first edit listens within a second or two
            if (fresh.build / "modules" / "modinfo-step.sock").exists():
                break
            time.sleep(0.05)
    # the last edit was the server's
    assert "served res_statsd: exit 0" in log.read_text()[len(before):], log.read_text()
    fresh.ninja()


def test_moduleinfo_edit_that_changes_another_modules_data(fresh):
    # res_mwi_external <use>s "mwi_store", which nothing provides yet (a warning, not an error).
    fresh.edit("res_mwi_external", '<use type="interface">sorcery_wizard</use>',
               '<use type="interface">sorcery_wizard</use>\n\t<use>mwi_store</use>')
    out = fresh.ninja()
    assert compiled(out) == {"res_mwi_external"} and REGENERATE not in out, out
    # Now res_statsd provides it: what another module's names mean changes, so it is a plan change
    # (each module's step resolves its names with what configuration recorded of the others). The
    # first ninja stops before any compile; the next re-configures, and res_mwi_external's
    # optional_uses change too; nothing else does.
    fresh.edit("res_statsd", "<support_level>extended</support_level>",
               "<provide>mwi_store</provide>\n\t<support_level>extended</support_level>")
    first = fresh.ninja(check=False)
    assert PLAN_CHANGED in first and "changed: res_statsd" in first, first
    assert compiled(first) == set(), first
    out = fresh.ninja()
    assert REGENERATE in out, out
    assert compiled(out) == {"res_statsd", "res_mwi_external"}, out
    header = (fresh.build / "modules" / "res_mwi_external.modinfo.h").read_text()
    assert '#define AST_MODULE_OPTIONAL_USES "mwi_store,sorcery_wizard"' in header
    fresh.restore()
    fresh.ninja(check=False)  # the plan changes back: that ninja stops, the fixture's re-configures


def block_line(text: str) -> int:
    """The 1-based line of a source's MODULEINFO opening, counted by hand."""
    return text.splitlines().index("/*** MODULEINFO") + 1


def res_fax_in_tree(scratch) -> tuple[dict, list[dict]]:
    tree = json.loads((scratch.build / "modules" / "tree.json").read_text())
    return tree["modules"]["res_fax"], [d for d in tree["diagnostics"] if d.get("module") == "res_fax"]


def test_an_edit_that_changes_only_the_fragment_reaches_the_tree(fresh):
    # The fragment is no ninja output; the tree step waits on the headers. A warning, or a line number,
    # changes res_fax's fragment and not its header's bytes: the header must still get a new time.
    header = fresh.build / "modules" / "res_fax.modinfo.h"
    before = header.read_bytes()
    fresh.edit("res_fax", "\t<support_level>core</support_level>\n",
               "\t<support_level>core</support_level>\n\t<colour>blue</colour>\n")
    mtime = header.stat().st_mtime_ns
    out = fresh.ninja()
    assert REGENERATE not in out and compiled(out) == {"res_fax"} and TREE_STEP in out, out
    assert header.read_bytes() == before and header.stat().st_mtime_ns > mtime
    colour = fresh.path("res_fax").read_text().splitlines().index("\t<colour>blue</colour>") + 1
    module, diagnostics = res_fax_in_tree(fresh)
    assert [(d["code"], d["severity"], d["line"]) for d in diagnostics] == [("unknown-tag", "warning", colour)]
    # a line above the block: only the line numbers change
    fresh.edit("res_fax", "/*** MODULEINFO", "/* one more line */\n/*** MODULEINFO")
    out = fresh.ninja()
    assert REGENERATE not in out and compiled(out) == {"res_fax"} and TREE_STEP in out, out
    assert header.read_bytes() == before
    module, diagnostics = res_fax_in_tree(fresh)
    assert module["line"] == block_line(fresh.path("res_fax").read_text()) == 10
    assert [d["line"] for d in diagnostics] == [colour + 1]
    assert (fresh.build / "modules" / "scan-tree.json").read_text() == whole_tree_scan(fresh)
    fresh.up_to_date()


def test_a_reconfigure_that_changes_only_a_fragment_updates_the_tree(fresh):
    # Configuration writes the fragments (and the step's block record) too: after it, the step finds its
    # block unchanged and writes the hash header alone, so only the header's new time brings the tree step.
    fresh.edit("res_fax", "/*** MODULEINFO", "/* one more line */\n/*** MODULEINFO")
    fresh.ninja("reconfigure")
    out = fresh.ninja()
    assert compiled(out) == {"res_fax"} and TREE_STEP in out, out
    assert res_fax_in_tree(fresh)[0]["line"] == 10
    fresh.restore()
    fresh.ninja("reconfigure")
    fresh.ninja()
    assert res_fax_in_tree(fresh)[0]["line"] == 9


def test_deleted_generated_files(fresh):
    modules = fresh.build / "modules"
    # The header and the hash header are the step's outputs: the next ninja makes them again.
    made = {p: p.read_bytes() for p in (modules / "res_fax.modinfo.h", modules / "res_fax.modinfo.hash.h")}
    for path in made:
        path.unlink()
    out = fresh.ninja()
    assert REGENERATE not in out and compiled(out) == {"res_fax"}, out
    assert {p: p.read_bytes() for p in made} == made
    fresh.up_to_date()
    # The fragment is not (each output costs every ninja run): the tree step, when it next runs, says what to do.
    fragment = modules / "res_fax.modinfo.json"
    kept = fragment.read_bytes()
    fragment.unlink()
    fresh.edit("res_statsd", "<support_level>extended</support_level>",
               '<use type="module">res_fax</use>\n\t<support_level>extended</support_level>')
    out = fresh.ninja(check=False)
    assert ("modules/res_fax.modinfo.json: error: missing (module res_fax's part of the tree, which configuration "
            "and the module's build step write): run `ninja reconfigure` to write it again") in out, out
    assert "Traceback" not in out and out.count("FAILED:") == 1 and TREE_STEP in out, out
    fresh.ninja("reconfigure")
    assert fragment.read_bytes() == kept
    fresh.ninja()
    assert json.loads((modules / "tree.json").read_text())["modules"]["res_statsd"]["optional_modules"] == ["res_fax"]
    assert (modules / "scan-tree.json").read_text() == whole_tree_scan(fresh)
    fresh.up_to_date()


def test_touching_a_source_without_change_recompiles_it_alone(fresh):
    fresh.path("chan_pjsip").touch()
    out = fresh.ninja()
    assert compiled(out) == {"chan_pjsip"}, out


def test_added_module_is_picked_up_by_the_next_ninja_runs(fresh):
    new = fresh.source / "modules" / "res_added.c"
    fresh.originals.setdefault(new, b"")
    new.write_text(
        "/*** MODULEINFO\n\t<depend>res_fax</depend>\n\t<support_level>extended</support_level>\n ***/\n"
        '#include "asterisk/module.h"\n'
        "static int load_module(void) { return AST_MODULE_LOAD_SUCCESS; }\n"
        "static int unload_module(void) { return 0; }\n"
        'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Added later");\n', encoding="utf-8")
    try:
        # The directory listing step sees the new source: the plan changed, so the
        # first ninja stops (building nothing) and the next one re-configures.
        first = fresh.ninja(check=False)
        assert PLAN_CHANGED in first and "new sources: res_added.c" in first, first
        assert compiled(first) == set(), first
        out = fresh.ninja()
        assert REGENERATE in out, out
        assert compiled(out) == {"res_added"}, out
        assert (fresh.build / "modules" / "res_added.so").exists()
        inspect = subprocess.run([sys.executable, "-m", "buildtool", "inspect", "--format", "json",
                                  str(fresh.build / "modules" / "res_added.so")], capture_output=True, text=True)
        assert '"res_fax"' in inspect.stdout
        # Removing a source: ninja refuses a missing source before running any step,
        # so the documented step is a reconfigure (docs/build.md, "The edit loop").
        new.unlink()
        out = fresh.ninja(check=False)
        assert "res_added.c" in out and "missing and no known rule" in out, out
        out = fresh.ninja("reconfigure")
        assert compiled(out) == set(), out
        fresh.ninja()
        assert not (fresh.build / "modules" / "res_added.so").exists()
    finally:
        if new.exists():
            new.unlink()
            fresh.ninja("reconfigure")
        fresh.originals.pop(new)


def test_python_build_step_gives_the_same_build(tmp_path, fresh):
    # -Dbuild_step=python: what a machine without libcrypto's headers gets.
    source = project_copy(tmp_path / "src")
    build = tmp_path / "build"
    meson_setup(source, build, "-Dbuild_step=python")
    out = run_ninja(build).stdout
    assert "tools/modinfo-step" not in out
    assert "buildstep.py" in (build / "build.ninja").read_text()
    ours = {p.name: p.read_bytes() for p in (build / "modules").glob("*.so")}
    native = {p.name: p.read_bytes() for p in (fresh.build / "modules").glob("*.so")}
    assert ours.keys() == native.keys() and all(ours[n] == native[n] for n in ours)
    path = source / "modules" / "res_fax.c"
    path.write_text(path.read_text().replace("static int unload_module(void)\n{",
                                             "static int unload_module(void)\n{\n\t/* edited */", 1))
    out = run_ninja(build).stdout
    assert compiled(out) == {"res_fax"} and REGENERATE not in out and TREE_STEP not in out, out


def configure_steps(modules: Path, out: Path) -> None:
    """What configuration writes for the per-module steps (modules/meson.build runs the same)."""
    subprocess.run([sys.executable, "-m", "buildtool", "meson-plan", "--catalog", str(modules / "catalog.toml"),
                    "--record", str(out / "plan.txt"), "--steps-dir", str(out),
                    "--reconfigure-trigger", str(out.parent / "trigger"), str(modules)],
                   check=True, capture_output=True)


def test_native_and_python_build_steps_write_the_same_bytes(tmp_path):
    from buildtool import buildstep, stepserver

    step = REPO / "tools" / "modinfo_step.c"
    exe = tmp_path / "modinfo-step"
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libcrypto"], capture_output=True, text=True)
    assert flags.returncode == 0, "libcrypto is needed for the native step"
    subprocess.run(["cc", "-O2", "-o", str(exe), str(step), *flags.stdout.split()], check=True)
    modules = project_copy(tmp_path / "src") / "modules"
    handwritten = modules / "res_hand.c"
    handwritten.write_text("/*** MODULEINFO\n\t<support_level>core</support_level>\n ***/\n"
                           "AST_MODULE_INFO(ASTERISK_GPL_KEY, 0, \"x\", .requires = \"res_a\");\n")
    native, python = tmp_path / "native", tmp_path / "python"
    configure_steps(modules, native)
    configure_steps(modules, python)
    configured = {p.name: p.read_bytes() for p in native.iterdir()}
    sources = sorted(modules.glob("*.c"))
    for out in (native, python):  # as before a first build: every module's step runs its Python part
        for generated in out.glob("*.modinfo.*"):
            generated.unlink()
    for source in sources:
        subprocess.run([str(exe), str(source), str(native), source.stem], check=True)
        subprocess.run([sys.executable, "-I", "-S", buildstep.__file__, "step", str(source), str(python),
                        source.stem], check=True)
        for _ in range(300):  # the first ran its Python part itself and started the step server: let it listen
            if (native / stepserver.SOCKET_NAME).exists():
                break
            time.sleep(0.05)
    # (the native step's Python part: the first run itself, the others the step server it started)
    server_files = {stepserver.SOCKET_NAME, stepserver.LOCK_NAME, stepserver.LOG_NAME}
    ours = {p.name: p.read_bytes() for p in native.iterdir() if p.name not in server_files}
    assert ours == {p.name: p.read_bytes() for p in python.iterdir()}
    assert len(re.findall(r"served \w+: exit 0", (native / stepserver.LOG_NAME).read_text())) == len(sources) - 1
    # What configuration wrote, the build steps write again, plus the hash headers.
    assert {name: data for name, data in ours.items() if not name.endswith(".hash.h")} == configured
    for source in sources:
        data = source.read_bytes()
        assert ours[source.stem + ".modinfo.block"] == buildstep.block_payload(data)
        assert f'"sha256:{hashlib.sha256(data).hexdigest()}"' in ours[source.stem + ".modinfo.hash.h"].decode()
    assert b"#error" in ours["res_hand.modinfo.h"]  # its hand-written .requires disagrees
    # A hand-written field after the block: the generator needs the whole source to check it.
    assert buildstep.block_payload(handwritten.read_bytes()) == handwritten.read_bytes()
    # None: only the block's prefix, so a body edit leaves it unchanged.
    statsd = (REPO / "modules" / "res_statsd.c").read_bytes()
    assert buildstep.block_payload(statsd) == buildstep.block_region(statsd) != statsd


def test_handwritten_requires_that_disagrees_fails_the_compile(fresh):
    fresh.edit("chan_pjsip", "\t.load_pri = AST_MODPRI_CHANNEL_DRIVER,\n",
               '\t.load_pri = AST_MODPRI_CHANNEL_DRIVER,\n\t.requires = "res_pjsip",\n')
    line = fresh.path("chan_pjsip").read_text().splitlines().index('\t.requires = "res_pjsip",') + 1
    out = fresh.ninja("-k", "0", check=False)
    assert out.count("FAILED:") == 1, out
    assert f"chan_pjsip.c:{line}:" in out
    assert ('hand-written .requires = \\"res_pjsip\\" disagrees with MODULEINFO '
            '(only in MODULEINFO: res_pjsip_session)') in out
    assert compiled(out) == {"chan_pjsip"}


def test_scan_error_fails_the_build_with_position(fresh):
    fresh.edit("chan_pjsip", "<depend>res_pjsip</depend>", "<depend>res_pjsipp</depend>")
    out = fresh.ninja(check=False)
    # The generator reports it and the module's header carries it as #error at
    # that line: the build stops on it, with no reconfigure in between.
    assert REGENERATE not in out and "FAILED" in out, out
    path = fresh.path("chan_pjsip")
    assert re.search(re.escape(str(path)) + r":\d+:\d+: error: <depend>res_pjsipp</depend>", out), out
    assert "did you mean 'res_pjsip'" in out
    fresh.restore()
    fresh.up_to_date()


# Last of the tests on the shared copy: putting its edit back changes the plan again, and the reconfigure that
# needs is then paid by no later test.
def test_plan_changing_edit_reconfigures_and_equals_a_fresh_build(fresh, tmp_path):
    # res_statsd now requires res_fax: a new required edge, so the plan (what meson configured) changes.
    fresh.edit("res_statsd", "<support_level>extended</support_level>",
               "<depend>res_fax</depend>\n\t<support_level>extended</support_level>")
    try:
        first = fresh.ninja(check=False)
        assert PLAN_CHANGED in first and "changed: res_statsd" in first, first
        assert compiled(first) == set() and "Linking target" not in first, first
        out = fresh.ninja()
        assert REGENERATE in out, out
        assert compiled(out) == {"res_statsd"}, out
        fresh.up_to_date()
        # Byte for byte what a fresh configure and build of the edited tree gives.
        other = tmp_path / "fresh-build"
        meson_setup(fresh.source, other)
        run_ninja(other)
        built = {p.name: p.read_bytes() for p in (fresh.build / "modules").glob("*.so")}
        clean = {p.name: p.read_bytes() for p in (other / "modules").glob("*.so")}
        assert built.keys() == clean.keys() and len(built) > 10
        assert [name for name in built if built[name] != clean[name]] == []
        for name in ("tree.json", "scan-tree.json", "plan.txt"):
            assert (fresh.build / "modules" / name).read_bytes() == (other / "modules" / name).read_bytes(), name
    finally:
        fresh.restore()
        fresh.ninja(check=False)   # stops: the plan changed back


def test_compiling_without_generated_data_is_a_clear_error(tmp_path):
    source = REPO / "modules" / "res_statsd.c"
    plain = subprocess.run(["cc", "-c", "-I", str(REPO / "include"), str(source), "-o", str(tmp_path / "x.o")],
                           capture_output=True, text=True)
    assert plain.returncode != 0
    assert "AST_MODULE is not defined" in plain.stderr
    named = subprocess.run(["cc", "-c", "-I", str(REPO / "include"), '-DAST_MODULE="res_statsd"', str(source),
                            "-o", str(tmp_path / "x.o")], capture_output=True, text=True)
    assert named.returncode != 0
    first_error = next(line for line in named.stderr.splitlines() if "error:" in line)
    assert "no generated MODULEINFO data for this module" in first_error
    assert "buildtool cflags" in first_error

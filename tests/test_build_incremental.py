"""Incremental builds are exact, counted from ninja's own output; compile-time diagnostics.

All edits happen in a copy of the project, configured and built once for the whole file (module
scope), never in the repository. Each test starts from a built, up-to-date copy. Edits that leave the
tree buildable stay (each test edits its own modules, and expects only what its edits imply), so
putting them back costs no rebuild per test; a test whose edit breaks the build puts back its own
change before it ends.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, meson_setup, project_copy, run_ninja

COMPILE = re.compile(r"Compiling C object modules/([A-Za-z0-9_]+)\.so\.p/")
GENERATE = "Generating modules/modinfo"


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

    def restore(self, module: str) -> None:
        """Put back ``module``'s source as it was before this file's first edit of it."""
        path = self.path(module)
        path.write_bytes(self.originals.pop(path))

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
    return scratch


def test_noop_does_nothing(fresh):
    out = fresh.ninja("-d", "explain")
    assert "no work to do" in out
    assert "ninja explain" not in out
    assert fresh.ninja("-n").strip().endswith("no work to do.")


def test_body_edit_recompiles_that_module_only(fresh):
    fresh.edit("res_fax", 'ast_module_trace(AST_MODULE, "reload");',
               'ast_module_trace(AST_MODULE, "reload"); /* edited */')
    out = fresh.ninja()
    assert compiled(out) == {"res_fax"}, out
    assert "Linking target modules/res_fax.so" in out
    assert len(re.findall(r"Linking target", out)) == 1, out


def test_moduleinfo_edit_recompiles_only_modules_whose_data_changed(fresh):
    # res_statsd now also uses res_fax: only res_statsd's injected data changes.
    fresh.edit("res_statsd", "<support_level>extended</support_level>",
               '<use type="module">res_fax</use>\n\t<support_level>extended</support_level>')
    out = fresh.ninja()
    assert GENERATE in out
    assert compiled(out) == {"res_statsd"}, out
    fresh.up_to_date()


def test_moduleinfo_edit_that_changes_another_modules_data(fresh):
    # res_mwi_external <use>s "mwi_store", which nothing provides yet (a warning, not an error).
    fresh.edit("res_mwi_external", '<use type="interface">sorcery_wizard</use>',
               '<use type="interface">sorcery_wizard</use>\n\t<use>mwi_store</use>')
    out = fresh.ninja()
    assert compiled(out) == {"res_mwi_external"}, out
    # Now res_statsd provides it: res_mwi_external's optional_uses change too; nothing else does.
    fresh.edit("res_statsd", "<support_level>extended</support_level>",
               "<provide>mwi_store</provide>\n\t<support_level>extended</support_level>")
    out = fresh.ninja()
    assert compiled(out) == {"res_statsd", "res_mwi_external"}, out
    header = (fresh.build / "modules" / "res_mwi_external.modinfo.h").read_text()
    assert '#define AST_MODULE_OPTIONAL_USES "mwi_store,sorcery_wizard"' in header


def test_touching_a_source_without_change_recompiles_it_alone(fresh):
    fresh.path("chan_pjsip").touch()
    out = fresh.ninja()
    assert compiled(out) == {"chan_pjsip"}, out


def test_added_module_is_picked_up_by_reconfigure_and_removed_by_itself(fresh):
    new = fresh.source / "modules" / "res_added.c"
    fresh.originals.setdefault(new, b"")
    new.write_text(
        "/*** MODULEINFO\n\t<depend>res_fax</depend>\n\t<support_level>extended</support_level>\n ***/\n"
        '#include "asterisk/module.h"\n'
        "static int load_module(void) { return AST_MODULE_LOAD_SUCCESS; }\n"
        "static int unload_module(void) { return 0; }\n"
        'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Added later");\n', encoding="utf-8")
    try:
        # A directory is not a dependency meson can track: the documented step is a reconfigure.
        fresh.ninja("reconfigure")
        out = fresh.ninja()
        assert compiled(out) == {"res_added"}, out
        assert (fresh.build / "modules" / "res_added.so").exists()
        inspect = subprocess.run([sys.executable, "-m", "buildtool", "inspect", "--format", "json",
                                  str(fresh.build / "modules" / "res_added.so")], capture_output=True, text=True)
        assert '"res_fax"' in inspect.stdout
        # Removing it needs nothing: the source was a configure input, so ninja reconfigures by itself.
        new.unlink()
        out = fresh.ninja()
        assert "Regenerating build files" in out or "Cleaning" in out, out
        assert not (fresh.build / "modules" / "res_added.so").exists()
        assert compiled(out) == set(), out
    finally:
        if new.exists():
            new.unlink()
            fresh.ninja("reconfigure")
        fresh.originals.pop(new)


def test_handwritten_requires_that_disagrees_fails_the_compile(fresh):
    fresh.edit("chan_pjsip", "\t.load_pri = AST_MODPRI_CHANNEL_DRIVER,\n",
               '\t.load_pri = AST_MODPRI_CHANNEL_DRIVER,\n\t.requires = "res_pjsip",\n')
    line = fresh.path("chan_pjsip").read_text().splitlines().index('\t.requires = "res_pjsip",') + 1
    try:
        out = fresh.ninja("-k", "0", check=False)
        assert out.count("FAILED:") == 1, out
        assert f"chan_pjsip.c:{line}:" in out
        assert ('hand-written .requires = \\"res_pjsip\\" disagrees with MODULEINFO '
                '(only in MODULEINFO: res_pjsip_session)') in out
        assert compiled(out) == {"chan_pjsip"}
    finally:
        fresh.restore("chan_pjsip")


def test_scan_error_stops_configuration_with_position(fresh):
    fresh.edit("chan_pjsip", "<depend>res_pjsip</depend>", "<depend>res_pjsipp</depend>")
    try:
        out = fresh.ninja(check=False)
        path = fresh.path("chan_pjsip")
        assert re.search(re.escape(str(path)) + r":\d+:\d+: error: <depend>res_pjsipp</depend>", out), out
        assert "did you mean 'res_pjsip'" in out
    finally:
        fresh.restore("chan_pjsip")
    fresh.up_to_date()


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

"""What each command imports: start-up cost is measured in bench/bench_startup.py, this guards its causes.

``python -X importtime`` lists every module a process imports; the lists are
exact, so these checks cannot be flaky the way a timed test would be.
"""

from __future__ import annotations

import os
import subprocess
import sys

from helpers.build import REPO


def imported(*args: str, env: dict | None = None) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "buildtool", *args],
                            capture_output=True, text=True, cwd=REPO, env=env)
    names = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    return names - {"package"}


def test_version_imports_no_command_and_no_argparse():
    names = imported("--version")
    assert "argparse" not in names
    assert not {n for n in names if n.startswith("buildtool.") and n != "buildtool.cli"}, names


def test_help_lists_every_command_without_importing_one():
    result = subprocess.run([sys.executable, "-m", "buildtool", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "meson-plan" in result.stdout and "xmldoc" in result.stdout
    assert not {n for n in imported("--help") if n.startswith("buildtool.commands.")}


def test_scan_imports_neither_the_generator_nor_the_elf_reader(tmp_path):
    names = imported("scan", "--format", "json", "--catalog", str(REPO / "modules" / "catalog.toml"),
                     str(REPO / "modules"))
    assert "buildtool.scan" in names and "lxml.etree" in names
    # difflib too: only a name that is wrong pays for did-you-mean, and this tree has none.
    unwanted = {"jinja2", "elftools", "buildtool.generate", "buildtool.loader", "buildtool.commands.check",
                "tempfile", "difflib"}
    assert not names & unwanted, names & unwanted


def test_build_step_imports_only_the_standard_library_and_fsutil(tmp_path):
    # A body edit: the module's block, header and fragment are as configuration wrote them.
    subprocess.run([sys.executable, "-m", "buildtool", "meson-plan", "--catalog", str(REPO / "modules" / "catalog.toml"),
                    "--record", str(tmp_path / "plan.txt"), "--steps-dir", str(tmp_path),
                    "--reconfigure-trigger", str(tmp_path / "trigger"), str(REPO / "modules")],
                   check=True, capture_output=True)
    source = REPO / "modules" / "res_fax.c"
    result = subprocess.run([sys.executable, "-X", "importtime", "-I", "-S", str(REPO / "buildtool" / "buildstep.py"),
                             "step", str(source), str(tmp_path), "res_fax"],
                            capture_output=True, text=True)
    assert (tmp_path / "res_fax.modinfo.hash.h").exists()
    assert result.returncode == 0, result.stderr
    names = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert {n for n in names if n.startswith("buildtool")} == {"buildtool", "buildtool.fsutil"}, names
    assert not names & {"pathlib", "tempfile", "hashlib", "dataclasses", "re"}, names


def test_cached_root_scan_imports_neither_the_reader_nor_lxml(tmp_path):
    from helpers.asterisk import write_root
    from helpers.asterisk import settle

    root = write_root(tmp_path / "ast")
    settle()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}  # the default place: found before parsing
    assert "buildtool.asterisk.root" in imported("scan", str(root), env=env)  # the first run reads and stores
    names = imported("scan", str(root), env=env)
    assert "buildtool.asterisk.scancache" in names
    unwanted = {"lxml.etree", "buildtool.asterisk.root", "buildtool.scan", "buildtool.diagnostics", "dataclasses",
                "typing", "argparse", "json"}
    assert not names & unwanted, names & unwanted

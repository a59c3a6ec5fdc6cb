"""The loader verifies embedded source hashes against the xmldoc document (warn or refuse)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def buildtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "buildtool", *args], capture_output=True, text=True, cwd=REPO)


def build(src: Path, out: Path) -> None:
    for source in sorted(src.glob("*.c")):
        flags = buildtool("cflags", str(source), "--out-dir", str(out / "gen"), "--include-dir", str(REPO / "include"),
                          "--tree", str(out / "tree.json"))
        assert flags.returncode == 0, flags.stderr
        subprocess.run(["gcc", "-shared", "-fPIC", *shlex.split(flags.stdout), str(source),
                        "-o", str(out / "modules" / f"{source.stem}.so")], check=True)


def module(name: str, depend: str = "") -> str:
    return (f"/*** MODULEINFO\n{depend}<support_level>core</support_level>\n ***/\n"
            '#include "asterisk/module.h"\n'
            "static int load_module(void) { return AST_MODULE_LOAD_SUCCESS; }\n"
            "static int unload_module(void) { return 0; }\n"
            f'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "{name}");\n')


def test_hash_mismatch_warns_or_refuses(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "modules").mkdir()
    (src / "res_base.c").write_text(module("res_base"))
    (src / "res_user.c").write_text(module("res_user", "<depend>res_base</depend>"))
    assert buildtool("scan", "--format", "json", "-o", str(tmp_path / "tree.json"), str(src)).returncode == 0
    build(src, tmp_path)
    doc = tmp_path / "core-en_US.xml"
    assert buildtool("xmldoc", "-o", str(doc), str(src)).returncode == 0

    def load(mode: str) -> tuple[subprocess.CompletedProcess, dict]:
        result = buildtool("load", "--modules-dir", str(tmp_path / "modules"), "--format", "json",
                           "--xmldoc", str(doc), "--xmldoc-mode", mode, "--no-cache")
        return result, json.loads(result.stdout)

    result, report = load("refuse")
    assert result.returncode == 0 and report["order"] == ["res_base", "res_user"], result.stderr

    # The source changes after the build: the binary no longer matches the documented source.
    (src / "res_base.c").write_text(module("res_base") + "/* edited */\n")
    assert buildtool("xmldoc", "-o", str(doc), str(src)).returncode == 0

    result, report = load("warn")
    assert report["order"] == ["res_base", "res_user"]
    assert "res_base" in result.stderr and "warning" in result.stderr

    result, report = load("refuse")
    assert report["order"] == []
    assert "refused by --xmldoc-mode=refuse" in report["declined"]["res_base"]
    assert "requires res_base" in report["declined"]["res_user"]

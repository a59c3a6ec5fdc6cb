"""Helpers the check/migrate/xmldoc tests share: write sources, build real modules with gcc.

Modules are built the way a third-party author does without meson: the
generated header and flags of ``buildtool cflags`` (here its Python API, and
the command itself in test_migrate.py), then ``gcc -shared -fPIC``. No mocks:
every binary the checks read is a real ELF shared object.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from buildtool import catalog as catalog_mod
from buildtool.elfinfo import read_binary, read_record
from buildtool.generate import HeaderGenerator, cflags
from buildtool.scan import scan

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = ROOT / "include"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CC = shutil.which("gcc") or shutil.which("cc")
AARCH64_CC = shutil.which("aarch64-linux-gnu-gcc")

needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (gcc) installed")


def module_source(requires=(), uses=(), extra_info="", body="", support="core", fields="", tags="") -> str:
    lines = [f"\t<depend>{r}</depend>" for r in requires] + [f'\t<use type="module">{u}</use>' for u in uses]
    if tags:
        lines.append(tags)
    lines.append(f"\t<support_level>{support}</support_level>")
    info = "\n".join(lines)
    struct = (f'AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "test module",\n'
              f"\t.load = load_module,\n\t.unload = unload_module,\n{fields});\n") if fields else \
        'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "test module");\n'
    return (f"/*** MODULEINFO\n{info}\n ***/\n#include \"asterisk/module.h\"\n{textwrap.dedent(body)}\n"
            "static int load_module(void) { return AST_MODULE_LOAD_SUCCESS; }\n"
            "static int unload_module(void) { return 0; }\n" + struct)


def write_sources(directory: Path, sources: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (directory / f"{name}.c").write_text(text, encoding="latin-1")
    return directory


def build(src: Path, out: Path, catalogs=(), only=None, cc: str | None = None, extra=(),
          check_errors: bool = True) -> dict[str, Path]:
    """Build every module of ``src`` (or those in ``only``) into ``out/<name>.so``."""
    cc = cc or CC
    out.mkdir(parents=True, exist_ok=True)
    gen = out / "gen"
    tree = scan([str(src)], catalog_mod.load_all([str(c) for c in catalogs]))
    if check_errors:
        errors = [d.render() for d in tree.diagnostics if d.severity.value == "error"]
        assert not errors, errors
    generator = HeaderGenerator()
    jobs = []
    for name, module in sorted(tree.modules.items()):
        if only is not None and name not in only:
            continue
        generator.write(module, Path(module.source).read_bytes(), gen)
        flags = cflags(module, gen, [str(INCLUDE)])
        target = out / f"{name}.so"
        jobs.append((name, [cc, "-shared", "-fPIC", "-O1", *flags, "-o", str(target), module.source, *extra]))

    def run(job):
        name, command = job
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stderr)
        return name, out / f"{name}.so"

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(pool.map(run, jobs))


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "buildtool", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def check_json(*args: str) -> tuple[int, dict]:
    done = run_cli("check", "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def codes(report: dict) -> list[str]:
    return sorted(f["code"] for f in report["findings"])


def by_code(report: dict, code: str) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == code]


@needs_cc
def test_fast_reader_agrees_with_elfinfo(tmp_path):
    src = write_sources(tmp_path / "src", {
        "res_a": module_source(body="int res_a_api(void) { return 1; }"),
        "res_b": module_source(requires=["res_a"], body="extern int res_a_api(void);\n"
                                                       "int use(void) { return res_a_api(); }"),
    })
    built = build(src, tmp_path / "out")
    for path in built.values():
        fast = read_binary(str(path))
        assert fast.record == read_record(str(path))
    b = read_binary(str(built["res_b"]))
    assert "res_a_api" in b.undefined
    assert "__ast_module_info" in b.defined

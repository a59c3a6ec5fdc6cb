"""Interim reader of an Asterisk root for asterisk-setup (replaced by buildtool.asterisk.root)."""

from __future__ import annotations

import re
from pathlib import Path

from buildtool import catalog as catalogs
from buildtool.catalog import Catalog
from buildtool.model import Tree


def is_root(path: str) -> bool:
    return (Path(path) / "build_tools" / "menuselect-deps.in").is_file()


def module_dirs(root: str) -> list[str]:
    text = (Path(root) / "Makefile").read_text(encoding="latin-1")
    match = re.search(r"^MOD_SUBDIRS\s*:?=(.*)$", text, re.M)
    names = [w for w in match.group(1).split() if not w.startswith("$")] if match else []
    return [str(Path(root) / n) for n in sorted(names) if n not in ("main", "third-party") and (Path(root) / n).is_dir()]


def root_catalog(root: str) -> Catalog:
    top = Path(root)
    cat = catalogs.load(str(top / "build_tools" / "menuselect-deps.in"))
    for xml in ("build_tools/cflags.xml", "build_tools/cflags-devmode.xml", "main/channelstorage_makeopts.xml",
                "utils/utils.xml", "agi/agi.xml"):
        if (top / xml).is_file():
            cat.merge(catalogs.load(str(top / xml)))
    for source in sorted((top / "main").glob("*.c")):
        data = source.read_bytes()
        if re.search(rb"^AST_MODULE_INFO", data, re.M):
            named = re.search(rb'^#define AST_MODULE "(\w+)"', data, re.M)
            cat.builtins.add(named.group(1).decode() if named else source.stem)
    cat.platforms.add("win32")
    return cat


def scan_root(root: str) -> tuple[Tree, Catalog]:
    from buildtool.scan import scan

    cat = root_catalog(root)
    return scan(module_dirs(root), cat), cat


def menuselect_disabled(root: str) -> dict[str, str]:
    """Modules menuselect left out of the build (``menuselect.makeopts``), with why."""
    path = Path(root) / "menuselect.makeopts"
    if not path.is_file():
        return {}
    failed: set[str] = set()
    deselected: set[str] = set()
    for line in path.read_text(encoding="latin-1").splitlines():
        key, _, value = line.partition("=")
        if key == "MENUSELECT_DEPSFAILED":
            failed.add(value.partition("=")[2].strip())
        elif key.startswith("MENUSELECT_") and key not in ("MENUSELECT_CFLAGS", "MENUSELECT_OPTS"):
            deselected.update(value.split())
    return {name: ("its dependencies are not met (menuselect.makeopts: MENUSELECT_DEPSFAILED)" if name in failed
                   else "deselected in menuselect (menuselect.makeopts)") for name in deselected | failed}

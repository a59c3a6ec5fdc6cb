"""An installed asterisk-modules tree (``meson install``), found through its pkg-config file.

``asterisk-modules.pc`` is the one description of the install layout (the
top-level meson.build writes it): its variables name the module directory, the
core library, the installed tree and catalogue. Out-of-tree commands
(``check --installed``/``--pkg-config``, ``cflags --libs``) read them here, so
no command hard-codes ``lib/`` or a multiarch directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from buildtool.errors import InputError

PACKAGE = "asterisk-modules"
_VARIABLES = ("prefix", "moduledir", "corelib", "tree", "catalog", "includedir")


@dataclass(frozen=True)
class Installed:
    pc_file: str          # the .pc file, or the package name when found on PKG_CONFIG_PATH
    prefix: str
    moduledir: str
    corelib: str
    tree: str
    catalog: str
    includedir: str


def _pkg_config(*args: str) -> subprocess.CompletedProcess:
    if not shutil.which("pkg-config"):
        raise InputError(PACKAGE, 0, 0, "pkg-config is not installed (Debian: apt-get install pkg-config)")
    return subprocess.run(["pkg-config", *args], capture_output=True, text=True, check=False)


def _read(package: str, where: str) -> Installed:
    values = {}
    for name in _VARIABLES:
        result = _pkg_config(f"--variable={name}", package)
        if result.returncode != 0:
            raise InputError(where, 0, 0, f"pkg-config cannot read {package}: {result.stderr.strip()}")
        values[name] = result.stdout.strip()
    missing = [name for name in ("moduledir", "tree", "catalog") if not values[name]]
    if missing:
        raise InputError(where, 0, 0, f"{package} defines no {', '.join(missing)} variable: "
                                      "not an asterisk-modules installed by meson install")
    installed = Installed(pc_file=package, **values)
    if not os.path.isfile(installed.tree):
        raise InputError(installed.tree, 0, 0, "the installed tree named by asterisk-modules.pc does not exist "
                                               "(was the tree installed with -Dinjection=false?)")
    return installed


def pc_files(prefix: str) -> list[Path]:
    """``asterisk-modules.pc`` under PREFIX: in <libdir>/pkgconfig, whatever libdir is
    (lib, lib64, lib/<multiarch>) or share/pkgconfig."""
    root = Path(prefix)
    found = sorted(root.glob(f"lib*/pkgconfig/{PACKAGE}.pc")) + sorted(root.glob(f"lib/*/pkgconfig/{PACKAGE}.pc"))
    found += sorted(root.glob(f"share/pkgconfig/{PACKAGE}.pc"))
    return found


def from_prefix(prefix: str) -> Installed:
    if not os.path.isdir(prefix):
        raise InputError(prefix, 0, 0, "--installed: no such directory")
    found = pc_files(prefix)
    if not found:
        raise InputError(prefix, 0, 0, f"--installed: no {PACKAGE}.pc under {prefix}/lib*/pkgconfig or "
                                       f"{prefix}/share/pkgconfig: not a prefix asterisk-modules was installed into")
    # pkg-config takes the path of a .pc file as the package.
    return _read(str(found[0].resolve()), prefix)


def from_pkg_config() -> Installed:
    """The tree pkg-config finds (PKG_CONFIG_PATH), as a Makefile or meson would."""
    found = _pkg_config("--exists", PACKAGE)
    if found.returncode != 0:
        raise InputError(PACKAGE, 0, 0, f"pkg-config finds no {PACKAGE}: set PKG_CONFIG_PATH to "
                                        f"<prefix>/<libdir>/pkgconfig, or give --installed PREFIX")
    return _read(PACKAGE, PACKAGE)

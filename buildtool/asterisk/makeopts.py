"""What configure and menuselect decided for an Asterisk tree, read from the files they write."""

from __future__ import annotations

from pathlib import Path


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

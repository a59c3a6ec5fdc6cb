"""Reading a real Asterisk source tree the way its own build does.

- ``makefile``: a small reader of GNU make syntax, enough for Asterisk's module
  directory Makefiles (assignments, conditionals, ``$(call MOD_ADD_C,...)``,
  explicit rules and their recipes), with make's expansion functions.
- ``recipe``: what one recipe line of an ``echo``/``cat``/``awk`` shape writes,
  evaluated without a shell (and refused when the shape is not one of those).
- ``awk``: Asterisk's ``build_tools/get_moduleinfo``, ``get_makeopts`` and the
  display-name ``grep | head | cut`` pipeline, byte for byte.
- ``moddir``: one module directory as ``make -C DIR moduleinfo|makeopts`` runs
  it: its menu text and its members (source, Makefile-rule and XML members).
- ``root``: recognise a root, follow its top Makefile's ``menuselect-tree``
  recipe (the bytes ``make menuselect-tree`` writes), its catalogues and core
  built-ins. ``buildtool.scan.scan_root`` turns it into the normal ``Tree``.
- ``moduleh``: the shape of the tree's ``include/asterisk/module.h`` that
  injection relies on, checked, never assumed.
- ``setup``: ``buildtool asterisk-setup``: the forced include and the make hook
  that make Asterisk's own build inject MODULEINFO into its real struct.
"""

import os

# A root is recognised by this file; checked before anything else of the reader is imported.
MARKER = os.path.join("build_tools", "menuselect-deps.in")


def is_root(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MARKER))

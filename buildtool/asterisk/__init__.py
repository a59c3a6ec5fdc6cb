"""Reading a real Asterisk source tree the way its own build does.

- ``makefile``: a small reader of GNU make syntax, enough for Asterisk's module
  directory Makefiles (assignments, conditionals, ``$(call MOD_ADD_C,...)``,
  explicit rules and their recipes), with make's expansion functions.
- ``recipe``: what one recipe line of an ``echo``/``cat``/``awk`` shape writes,
  evaluated without a shell (and refused when the shape is not one of those).
- ``awk``: Asterisk's ``build_tools/get_moduleinfo``, ``get_makeopts`` and the
  display-name ``grep | head | cut`` pipeline, byte for byte.
- ``root``: recognise a root, read its top Makefile's ``menuselect-tree`` recipe,
  every module directory's members, its catalogues and core built-ins.
- ``menutree``: write the ``menuselect-tree`` that ``make menuselect-tree`` writes.
"""

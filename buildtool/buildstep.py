"""The per-module build step, small enough to run on every edit (``python -I -S buildstep.py``).

The meson build runs one step per module source (``modules/meson.build``);
``tools/modinfo_step.c`` is the same step as a native program, which the build
prefers (about 1 ms a run instead of ~15 ms for a Python start). Both write,
each only when its content changes (so ninja's ``restat`` stops there):

``NAME.modinfo.block``
    what the generator needs of the source: the prefix that can hold the
    MODULEINFO block (``block_region``), or the whole source when a
    hand-written info-struct field name (``HINTS``) appears after that prefix
    (the generator then checks those fields as before). A body edit leaves it
    unchanged, so the whole-tree generator does not run.
``NAME.modinfo.hash.h``
    ``#define AST_MODULE_SOURCE_HASH "sha256:..."``, the only injected datum
    that every edit changes.

``listing DIR OUT DEPFILE`` writes the sorted module source names of DIR and a
depfile naming DIR itself: ninja re-runs it when the directory's entries change,
and the generator compares the listing with the configured one.

Imports only the standard library (and ``buildtool.fsutil``, which does too), at
module level nothing but ``os`` and ``sys``: this file is on the edit loop's path.
"""

import os
import sys

OPENING = b"/*** MODULEINFO"
# Names of the hand-written info-struct fields (buildtool.handwritten.FIELDS) as bytes.
HINTS = (b"requires", b"optional_modules", b"enhances", b"support_level")
SOURCE_SUFFIXES = (".c", ".cc")
HASH_DEFINE = '#define AST_MODULE_SOURCE_HASH "sha256:{}"\n'


def block_region(data: bytes) -> bytes:
    """The prefix of a source that can hold its blocks, as raw bytes.

    ``extract.find_blocks`` only looks at text up to the comment that the last
    opening marker starts, so the rest of a (typically 25 KB) file need never be
    decoded or lexed. Empty when the marker never appears. Offsets, and so
    lines and columns, are the same in the prefix as in the whole file.
    """
    last = data.rfind(OPENING)
    if last < 0:
        return b""
    end = data.find(b"*/", last + len(OPENING))
    return data if end < 0 else data[:end + 2]


def block_payload(data: bytes) -> bytes:
    """What ``NAME.modinfo.block`` holds for a source (see the module doc)."""
    region = block_region(data)
    if any(data.find(hint, len(region)) >= 0 for hint in HINTS):
        return data
    return region


def _sha256_hex(data: bytes) -> str:
    try:  # the built-in module: importing hashlib loads OpenSSL (~7 ms)
        from _sha256 import sha256
    except ImportError:
        from hashlib import sha256
    return sha256(data).hexdigest()


def module_step(source: str, block_out: str, hash_out: str) -> None:
    from buildtool.fsutil import write_if_changed

    with open(source, "rb") as handle:
        data = handle.read()
    write_if_changed(block_out, block_payload(data))
    write_if_changed(hash_out, HASH_DEFINE.format(_sha256_hex(data)))


def source_names(directory: str) -> list[str]:
    """Module source file names in ``directory``, as ``scan.discover`` finds them, sorted."""
    with os.scandir(directory) as listing:
        return sorted(e.name for e in listing if e.name.endswith(SOURCE_SUFFIXES) and e.is_file())


def listing_step(directory: str, out: str, depfile: str) -> None:
    from buildtool.fsutil import write_if_changed

    write_if_changed(out, "".join(name + "\n" for name in source_names(directory)))
    escaped = directory.replace("\\", "\\\\").replace(" ", "\\ ").replace("$", "$$").replace("#", "\\#")
    write_if_changed(depfile, f"{os.path.basename(out)}: {escaped}\n")


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "block":
        module_step(*argv[1:])
        return 0
    if len(argv) == 4 and argv[0] == "listing":
        listing_step(*argv[1:])
        return 0
    print("usage: buildstep.py block SOURCE BLOCK_OUT HASH_OUT | listing DIR OUT DEPFILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    # Run as a script with -I -S: make the package importable from this file's location.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        raise SystemExit(main(sys.argv[1:]))
    except OSError as exc:
        print(f"{exc.filename or 'buildstep'}: error: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(2)

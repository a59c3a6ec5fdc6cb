"""The meson build's build steps, small enough to run on every edit (``python -I -S buildstep.py``).

``step SOURCE OUT_DIR NAME`` is the per-module step (``tools/modinfo_step.c`` is
the same step as a native program, which the build prefers: about 0.4 ms a run
instead of ~15 ms for a Python start). It writes, each only when its content
changes (so ninja's ``restat`` stops there):

``NAME.modinfo.hash.h``
    ``#define AST_MODULE_SOURCE_HASH "sha256:..."``, the only injected datum
    that every edit changes;
``NAME.modinfo.block``
    the part of the source that can change the module's MODULEINFO data: the
    prefix that can hold the block (``block_region``), through the module's last
    DOCUMENTATION comment when one follows it (what the module claims to provide
    is part of its data), or the whole source when a hand-written info-struct
    field name (``HINTS``) appears after that prefix (the generator checks those
    fields). A body edit leaves it unchanged and the
    step ends there. When it changed (or the header or fragment is missing), the
    step first runs ``module`` (below) and writes the block only once that
    succeeded, so a failed run is repeated by the next ``ninja``.

``module SOURCE OUT_DIR NAME`` writes ``NAME.modinfo.h`` and ``NAME.modinfo.json``
(``buildtool/modstep.py``). ninja knows the hash header and the header as the
step's outputs; the fragment, like the block, is a file kept beside them (each
declared output costs a node and a ``.ninja_log`` line on every ninja run), and
a fragment that changed gives its header a new time. ``tree OUT_DIR SCAN_TREE
TREE DROP`` writes the two tree files from the fragments (its declared inputs
are the headers); ``listing DIR OUT DEPFILE`` the sorted module source
names of DIR and a depfile naming DIR itself (ninja re-runs it when the
directory's entries change), and when they are not the configured ones, marks
the configuration out of date (``plan_changed``) instead.

At module level nothing but ``os`` and ``sys``: this file is on the edit loop's
path. ``module`` imports buildtool and lxml from the directories the steps file
names (``-S`` leaves site-packages out of ``sys.path``: ``site`` costs ~20 ms a
start); the other steps import only the standard library and ``buildtool.fsutil``.
"""

import os
import sys

OPENING = b"/*** MODULEINFO"
DOCUMENTATION_OPENING = b"/*** DOCUMENTATION"  # the opening of Asterisk's documentation comments (buildtool.xmldoc)
# Names of the hand-written info-struct fields (buildtool.handwritten.FIELDS) as bytes.
HINTS = (b"requires", b"optional_modules", b"enhances", b"support_level")
SOURCE_SUFFIXES = (".c", ".cc")
HASH_DEFINE = '#define AST_MODULE_SOURCE_HASH "sha256:{}"\n'
BLOCK_SUFFIX = ".modinfo.block"
HASH_SUFFIX = ".modinfo.hash.h"
HEADER_SUFFIX = ".modinfo.h"
FRAGMENT_SUFFIX = ".modinfo.json"
STEPS_FILE = "modinfo-steps.json"  # what the steps read of the whole tree (buildtool/modstep.py)
ARGS_NAME = "modinfo-step.args"  # ``python -I -S buildstep.py``, one argument a line, for tools/modinfo_step.c


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
    end = len(block_region(data))
    documentation = data.rfind(DOCUMENTATION_OPENING)
    if documentation >= end:  # Asterisk's modules document themselves after the block
        close = data.find(b"*/", documentation + len(DOCUMENTATION_OPENING))
        end = len(data) if close < 0 else close + 2
    if any(data.find(hint, end) >= 0 for hint in HINTS):
        return data
    return data[:end]


def _sha256_hex(data: bytes) -> str:
    try:  # the built-in module: importing hashlib loads OpenSSL (~7 ms)
        from _sha256 import sha256
    except ImportError:
        from hashlib import sha256
    return sha256(data).hexdigest()


def _read(path: str) -> bytes | None:
    """The file's bytes; None when it cannot be read (missing, or unreadable: then it is written again)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def module_outputs_stale(out_dir: str, name: str, payload: bytes) -> bool:
    """Whether the module's header and fragment must be made again (see the module doc)."""
    return (_read(os.path.join(out_dir, name + BLOCK_SUFFIX)) != payload
            or not os.path.exists(os.path.join(out_dir, name + HEADER_SUFFIX))
            or not os.path.exists(os.path.join(out_dir, name + FRAGMENT_SUFFIX)))


def plan_changed(trigger: str, why: str) -> int:
    """Mark meson's configuration out of date (``trigger``: a file build.ninja's regeneration
    depends on) and say so; the build step then fails, before anything compiles with the old plan."""
    try:
        os.utime(trigger)
    except OSError as exc:
        print(f"{trigger}: error: cannot mark the configuration out of date: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"buildtool: the module plan changed ({why}); the build files are regenerated when ninja runs "
          "next: run ninja again (nothing was built with the old plan)", file=sys.stderr)
    return 1


_STEPS_READ: dict[str, tuple[tuple[int, int, int, int], dict]] = {}  # path: (its file's key, its content)


def _steps_file(out_dir: str) -> dict:
    """The steps file's content; read again only when the file is another (the step server keeps it)."""
    import json

    path = os.path.abspath(os.path.join(out_dir, STEPS_FILE))
    with open(path, encoding="utf-8") as handle:
        st = os.fstat(handle.fileno())
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)  # configuration replaces it by a rename
        kept = _STEPS_READ.get(path)
        if kept is not None and kept[0] == key:
            steps = kept[1]
        else:
            steps = json.load(handle)
            _STEPS_READ[path] = (key, steps)
    sys.path[:0] = [p for p in steps["python_path"] if p not in sys.path]
    return steps


def module_step(source: str, out_dir: str, name: str) -> int:
    from buildtool.fsutil import write_if_changed

    with open(source, "rb") as handle:
        data = handle.read()
    write_if_changed(os.path.join(out_dir, name + HASH_SUFFIX), HASH_DEFINE.format(_sha256_hex(data)))
    payload = block_payload(data)
    if module_outputs_stale(out_dir, name, payload):
        steps = _steps_file(out_dir)
        from buildtool import modstep

        status = modstep.module_step(source, out_dir, name, steps, payload)
        if status:
            return status
        write_if_changed(os.path.join(out_dir, name + BLOCK_SUFFIX), payload)
    return 0


def source_names(directory: str) -> list[str]:
    """Module source file names in ``directory``, as ``scan.discover`` finds them, sorted."""
    with os.scandir(directory) as listing:
        return sorted(e.name for e in listing if e.name.endswith(SOURCE_SUFFIXES) and e.is_file())


def listing_step(directory: str, out: str, depfile: str) -> int:
    from buildtool.fsutil import write_if_changed

    names = source_names(directory)
    configured = _steps_file(os.path.dirname(out) or ".")
    if names != configured["sources"]:
        new = sorted(set(names) - set(configured["sources"]))
        gone = sorted(set(configured["sources"]) - set(names))
        why = "; ".join(filter(None, ("new sources: " + ", ".join(new) if new else "",
                                      "removed sources: " + ", ".join(gone) if gone else "")))
        return plan_changed(configured["trigger"], why)
    write_if_changed(out, "".join(name + "\n" for name in names))
    escaped = directory.replace("\\", "\\\\").replace(" ", "\\ ").replace("$", "$$").replace("#", "\\#")
    write_if_changed(depfile, f"{os.path.basename(out)}: {escaped}\n")
    return 0


def tree_step(out_dir: str, scan_tree_out: str, built_tree_out: str, drop: frozenset[str]) -> int:
    """The scanned tree and the tree of the modules built (without ``drop``), from the per-module
    fragments (``modstep._fragment``): their text joined as ``treefile.to_json`` lays out a tree,
    with no import of buildtool's model (this runs beside the compile of every MODULEINFO edit)."""
    import json

    from buildtool.fsutil import write_if_changed

    steps = _steps_file(out_dir)
    names = sorted(steps["modules"])
    modules: list[tuple[str, str]] = []  # (the name as a JSON string, the module's JSON object)
    diagnostics: list[tuple[tuple, str, str | None]] = []
    quoted = json.encoder.encode_basestring  # what json.dumps does to a str with ensure_ascii=False
    for name in names:
        fragment = os.path.join(out_dir, name + FRAGMENT_SUFFIX)
        try:
            with open(fragment, "rb") as handle:
                module, *found = handle.read().decode("utf-8").splitlines()
        except FileNotFoundError:
            # Not an output ninja knows of (it costs every run a node): nothing would make it again.
            print(f"{fragment}: error: missing (module {name}'s part of the tree, which configuration and the "
                  "module's build step write): run `ninja reconfigure` to write it again", file=sys.stderr)
            return 2
        modules.append((quoted(name), module))
        for line in found:
            d = json.loads(line)
            diagnostics.append(((d["path"], d["line"], d["column"], d["code"], d["message"]), line, d.get("module")))
    diagnostics.sort(key=lambda item: item[0])  # Diagnostic.sort_key

    def tree(left_out: frozenset[str]) -> str:
        return ('{"diagnostics":[' + ",".join(line for _, line, module in diagnostics if module not in left_out)
                + '],"modules":{' + ",".join(key + ":" + text for (key, text), name in zip(modules, names)
                                             if name not in left_out)
                + '},"schema":' + json.dumps(steps["schema"]) + "}\n")

    write_if_changed(scan_tree_out, tree(frozenset()))
    write_if_changed(built_tree_out, tree(drop))
    return 0


USAGE = ("usage: buildstep.py step SOURCE OUT_DIR NAME | module SOURCE OUT_DIR NAME | "
         "tree OUT_DIR SCAN_TREE TREE DROP | listing DIR OUT DEPFILE | serve OUT_DIR")


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "step":
        return module_step(*argv[1:])
    if len(argv) == 4 and argv[0] == "listing":
        return listing_step(*argv[1:])
    if len(argv) == 5 and argv[0] == "tree":
        return tree_step(argv[1], argv[2], argv[3], frozenset(n for n in argv[4].split(",") if n))
    if len(argv) == 4 and argv[0] == "module":
        steps = _steps_file(argv[2])
        from buildtool import modstep

        return modstep.module_step(*argv[1:], steps)
    print(USAGE, file=sys.stderr)
    return 2


def run(argv: list[str]) -> int:
    """``main`` with its errors as messages and exit statuses: the script's and the step server's one way."""
    try:
        return main(argv)
    except OSError as exc:
        print(f"{exc.filename or 'buildstep'}: error: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (KeyError, ValueError) as exc:  # a steps file of another version, or damaged
        print(f"{STEPS_FILE}: error: not what this buildtool writes ({exc!r}): run `ninja reconfigure`",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Run as a script with -I -S: make the package importable from this file's location.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        from buildtool.stepserver import serve

        raise SystemExit(serve(sys.argv[2]))
    raise SystemExit(run(sys.argv[1:]))

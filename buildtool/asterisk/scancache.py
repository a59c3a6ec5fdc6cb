"""A cache of ``buildtool scan ROOT``'s whole output, reused only when every input is provably the same.

Reading an Asterisk root evaluates its Makefiles and reads ~500 sources; most
runs see the same tree again. An entry holds what the command printed (its
output, its diagnostics and its exit status) and every fact the run observed
(``inputs.Files``: each file read, each existence check, each directory listing
and ``$(wildcard)``, the environment variables make reads), plus a stat of every
Python module the run had loaded (buildtool's own code, lxml). It is used only
when each fact, observed again, gives the same value, and its key matches: the
tool's version, the Python version, the working directory and the command line
exactly as given (the root, the output format and file, the ``--catalog`` files,
whose contents are facts too). Keyed so, a hit is found before the arguments are
parsed (``commands.scan.answer_unparsed``): the entry holds what a parsing run
made of them.

Why that is enough: a file's fact is (size, mtime_ns, ctime_ns, inode, device)
taken before it is read; every write to a file sets its ctime to the current
time, which no user call can set back. A file whose ctime is within
``RACY_NS`` of the run's start could be written again within the same clock
tick without changing it, so such a run stores nothing (the next one does).

Where: ``--cache-dir DIR``, else ``$XDG_CACHE_HOME/buildtool`` (``~/.cache/buildtool``),
never the source tree. Entries are written atomically (a temporary file and a
rename), at most ``MAX_ENTRIES`` are kept (the least recently used go), and an
entry that cannot be read or parsed or fails its checksum is ignored as a miss,
never an error; a cache that cannot be written is skipped.

Entry layout (``scan-CRC32(repr(key)).cache``): one line ``buildtool-scan-cache 2
MARSHAL_VERSION CRC32(rest)``, then ``marshal`` data: a dict of ``key``, ``facts``
(``[*fact, value]`` lists), ``output``, ``errors`` and ``status``. The checksum is
checked before anything is unmarshalled, so a damaged file never reaches
``marshal`` (the trust is that of Python's own ``__pycache__``: a user's files).

Only ``os``, ``sys``, ``marshal`` and ``zlib`` are imported until a miss: a hit
does not import the reader, the parser or lxml (nor ``json``).
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib

from buildtool import __version__
from buildtool.asterisk.inputs import file_key, observe

MAGIC = b"buildtool-scan-cache 2 %d" % marshal.version
RACY_NS = 2_000_000_000
MAX_ENTRIES = 64
_PREFIX, _SUFFIX = "scan-", ".cache"


def default_directory() -> str | None:
    """``$XDG_CACHE_HOME/buildtool``, else ``~/.cache/buildtool``; None (no cache) when neither is an
    absolute path: a relative one would put the cache in the working directory, perhaps the source tree."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative value is ignored
        home = os.path.expanduser("~")
        base = os.path.join(home, ".cache") if os.path.isabs(home) else ""
    return os.path.join(base, "buildtool") if base else None


def key(argv: list[str]) -> list | None:
    """What, besides the facts, the answer depends on: the command line exactly as given and the working
    directory it is relative to (so a hit needs no argument parsing; the root, format, output file and
    catalogues are all in it). None when the working directory is gone."""
    try:
        cwd = os.getcwd()
    except OSError:
        return None
    return ["scan", __version__, sys.version, cwd, list(argv)]


def _entry_path(directory: str, entry_key: list) -> str:
    digest = zlib.crc32(repr(entry_key).encode("utf-8", "surrogatepass"))
    return os.path.join(directory, f"{_PREFIX}{digest:08x}{_SUFFIX}")


class Result:
    """What the command prints: ``output`` (str, or bytes for the menuselect XML) to ``destination``
    (the ``-o`` file, None: stdout), ``errors`` (the diagnostics' text for stderr) and the exit status."""

    def __init__(self, output: str | bytes, destination: str | None, errors: str, status: int):
        self.output, self.destination, self.errors, self.status = output, destination, errors, status


def lookup(directory: str | None, entry_key: list | None) -> Result | None:
    """The stored result for ``entry_key`` if every fact it was computed from still holds; else None."""
    if entry_key is None or directory is None:
        return None
    path = _entry_path(directory, entry_key)
    try:
        from buildtool.fsutil import read_regular

        data = read_regular(path)
    except OSError:
        return None
    try:
        first, body = data.split(b"\n", 1)
        magic, checksum = first.rsplit(b" ", 1)
        if magic != MAGIC or int(checksum, 16) != zlib.crc32(body):
            return None
        entry = marshal.loads(body)
        if entry["key"] != entry_key:
            return None
        listings: dict[str, list[str]] = {}
        for fact in entry["facts"]:
            if observe(tuple(fact[:-1]), listings) != fact[-1]:
                return None
        result = Result(entry["output"], entry["destination"], entry["errors"], entry["status"])
        if not isinstance(result.output, (str, bytes)) or not isinstance(result.destination, (str, type(None))) \
                or not isinstance(result.errors, str) or not isinstance(result.status, int):
            return None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError):
        return None  # corrupt or of another layout: a miss
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return result


def _facts(recorded: dict[tuple, object], started_ns: int) -> list[list] | None:
    """The facts to store, or None when one is too recent to be trusted (see the module doc)."""
    facts: list[list] = []
    for fact, value in recorded.items():
        if fact[0] == "kind" and value == "file" and ("file", fact[1]) in recorded:
            continue  # the file's own fact (its inode, ctime) says more
        if fact[0] == "file" and value is not None and value[2] >= started_ns - RACY_NS:
            return None
        facts.append([*fact, value])
    stdlib = (os.path.dirname(os.__file__) + os.sep,)  # the standard library: sys.version is in the key
    for name, module in sorted(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if isinstance(where, str) and os.path.isabs(where) and not where.startswith(stdlib):
            try:
                st = os.stat(where)
            except OSError:
                continue
            if st.st_ctime_ns >= started_ns - RACY_NS:
                return None
            facts.append(["file", where, file_key(st)])
    return facts


def store(directory: str | None, entry_key: list | None, recorded: dict[tuple, object], started_ns: int,
          result: Result) -> bool:
    """Write the entry (atomically); False when it was not stored (a racy input, or the cache not writable)."""
    facts = _facts(recorded, started_ns) if entry_key is not None and directory is not None else None
    if facts is None:
        return False
    body = marshal.dumps({"key": entry_key, "facts": facts, "output": result.output,
                          "destination": result.destination, "errors": result.errors, "status": result.status})
    data = MAGIC + b" %08x\n" % zlib.crc32(body) + body
    from buildtool.fsutil import remove_stale_temporaries, write_if_changed

    try:
        os.makedirs(directory, exist_ok=True)
        write_if_changed(_entry_path(directory, entry_key), data)
    except OSError:
        return False
    _prune(directory)
    remove_stale_temporaries(directory, _SUFFIX)
    return True


def _prune(directory: str) -> None:
    try:
        entries = [e for e in os.scandir(directory) if e.name.startswith(_PREFIX) and e.name.endswith(_SUFFIX)]
        if len(entries) <= MAX_ENTRIES:
            return
        dated = sorted((e.stat().st_mtime_ns, e.path) for e in entries)
    except OSError:
        return
    for _, path in dated[:len(dated) - MAX_ENTRIES]:
        try:
            os.unlink(path)
        except OSError:
            pass

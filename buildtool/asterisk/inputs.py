"""Every file-system fact a root scan observes, recorded as it is observed.

``Files`` is the one way the Asterisk reader touches the file system: it reads
each file once (raw bytes and their Latin-1 text) and records what each
observation found, so that a result computed from them can be reused exactly
when every observation would find the same again (``buildtool.asterisk.scancache``):

- ``("file", path)``: a file read: (size, mtime_ns, ctime_ns, inode, device),
  taken from the open file before it is read;
- ``("kind", path)``: an existence or type check: "file", "dir", "other" or None;
- ``("list", path)``: a directory listing (sorted names; None when it cannot be listed);
- ``("glob", dir, pattern)``: the names ``glob`` matched there;
- ``("env", name)``: an environment variable make reads.

``observe`` computes a fact's value now; this module imports only ``os``, so a
cache check does not pay for the reader.
"""

from __future__ import annotations

import os
import stat as _stat


def file_key(st: os.stat_result) -> list[int]:
    """What tells one version of a file from the next: any write changes ctime, a new file the inode."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def kind(path: str) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return "file" if _stat.S_ISREG(mode) else "dir" if _stat.S_ISDIR(mode) else "other"


def listing(path: str) -> list[str] | None:
    try:
        return sorted(os.listdir(path))
    except (OSError, ValueError):
        return None


def glob_names(pattern: str, root_dir: str, listings: dict[str, list[str]] | None = None) -> list[str]:
    """``sorted(glob.glob(pattern, root_dir=root_dir))``; a pattern with no wildcard in its directory
    part is matched against one listing of that directory, kept in ``listings`` (a directory holding
    many modules is matched against several patterns)."""
    import glob

    head, tail = os.path.split(pattern)
    if glob.has_magic(head) or not glob.has_magic(tail):
        return sorted(glob.glob(pattern, root_dir=root_dir))
    directory = os.path.join(root_dir, head)
    names = listings.get(directory) if listings is not None else None
    if names is None:
        try:
            names = os.listdir(directory)
        except (OSError, ValueError):
            names = []
        if listings is not None:
            listings[directory] = names
    if not tail.startswith("."):
        names = [n for n in names if not n.startswith(".")]  # glob: a leading dot is matched only by a dot
    prefix = os.path.join(head, "")  # "" stays "", "dir" becomes "dir/": os.path.join(head, name) for each
    return sorted(prefix + n for n in _match(names, tail))


def _match(names: list[str], pattern: str) -> list[str]:
    """``fnmatch.filter``; the Makefiles' ``PREFIX*SUFFIX`` without compiling a regex for each pattern."""
    before, star, after = pattern.partition("*")
    if star and not any(c in pattern for c in "?[") and "*" not in after:
        least = len(before) + len(after)
        return [n for n in names if len(n) >= least and n.startswith(before) and n.endswith(after)]
    import fnmatch

    return fnmatch.filter(names, pattern)


def observe(fact: tuple, listings: dict[str, list[str]] | None = None) -> object:
    """The value ``fact`` has now (None for a file that cannot be stat'ed); ``listings``: see ``glob_names``."""
    what = fact[0]
    if what == "file":
        try:
            return file_key(os.stat(fact[1]))
        except (OSError, ValueError):
            return None
    if what == "kind":
        return kind(fact[1])
    if what == "list":
        return listing(fact[1])
    if what == "glob":
        return glob_names(fact[2], fact[1], listings)
    if what == "env":
        return os.environ.get(fact[1])
    raise ValueError(f"unknown fact {what!r}")


class Files:
    """Every file read once (raw bytes and their Latin-1 text), and every fact observed (``facts``)."""

    def __init__(self) -> None:
        self.raw: dict[str, bytes] = {}
        self.decoded: dict[str, str] = {}
        self.facts: dict[tuple, object] = {}
        self.listings: dict[str, list[str]] = {}

    def data(self, path: str) -> bytes:
        got = self.raw.get(path)
        if got is None:
            from buildtool.errors import InputError

            try:
                with open(path, "rb", buffering=0) as handle:
                    # Before the read: a write during it changes ctime, so the fact no longer holds.
                    self.facts[("file", path)] = file_key(os.fstat(handle.fileno()))
                    got = handle.readall()
            except OSError as exc:
                self.facts[("kind", path)] = kind(path)
                raise InputError(path, 0, 0, f"cannot read: {exc.strerror}") from None
            self.raw[path] = got
        return got

    def text(self, path: str) -> str:
        got = self.decoded.get(path)
        if got is None:
            got = self.decoded[path] = self.data(path).decode("latin-1")
        return got

    def optional_text(self, path: str) -> str | None:
        """A file's text, or None when it does not exist (that absence is a fact too)."""
        if not self.isfile(path):
            return None
        return self.text(path)

    def kind(self, path: str) -> str | None:
        found = self.facts[("kind", path)] = kind(path)
        return found

    def isfile(self, path: str) -> bool:
        return self.kind(path) == "file"

    def exists(self, path: str) -> bool:
        return self.kind(path) is not None

    def listdir(self, path: str) -> list[str]:
        found = self.facts[("list", path)] = listing(path)
        if found is None:
            raise FileNotFoundError(path)
        return found

    def glob(self, pattern: str, root_dir: str) -> list[str]:
        """``sorted(glob.glob(pattern, root_dir=root_dir))``, as make's ``$(wildcard)`` sorts."""
        found = glob_names(pattern, root_dir, self.listings)
        self.facts[("glob", root_dir, pattern)] = found
        return found

    def environ(self, name: str) -> str:
        value = self.facts[("env", name)] = os.environ.get(name)
        return value or ""

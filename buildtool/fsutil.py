"""Atomic, change-only file writes: nothing half-written, unchanged files keep their mtime."""

from __future__ import annotations

import errno
import os
import stat

# Only os and stat here: the per-module build step (buildstep.py) imports this module on
# every edit, and pathlib alone costs a few milliseconds to import.


def write_if_changed(path: str | os.PathLike[str], data: bytes | str) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Returns False, leaving the file (and its mtime) untouched, when it already
    holds exactly ``data``; ninja's ``restat`` then skips everything downstream.
    A target that exists and is not a regular file (``/dev/stdout``, a FIFO) is
    written to directly: it is never read, nor replaced by a file.
    """
    target = os.fspath(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = os.stat(target)
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        with open(target, "wb") as handle:
            handle.write(payload)
        return True
    if st is not None and stat.S_ISREG(st.st_mode):
        try:
            if read_regular(target) == payload:
                return False
        except OSError:
            pass
        mode = st.st_mode & 0o7777
    else:
        mode = 0o666 & ~_umask()
    _replace(target, payload, mode)
    return True


def replace_if_unchanged(path: str | os.PathLike[str], before: bytes, data: bytes) -> None:
    """Atomically replace ``path`` (holding ``before`` when it was read) with ``data``.

    The file is read again just before the rename; if it no longer holds ``before`` (an editor
    or another tool wrote it meanwhile), nothing is replaced and ``ChangedMeanwhile`` is raised,
    so that edit is never lost. (The window left is the time between that read and the rename.)
    """
    from buildtool.errors import ChangedMeanwhile  # here: the build step imports this module, and only it

    target = os.fspath(path)
    mode = os.stat(target).st_mode & 0o7777

    def unchanged() -> None:
        if read_regular(target) != before:
            raise ChangedMeanwhile(f"{target}: changed while it was being rewritten: left as it is")

    _replace(target, data, mode, unchanged)


def _replace(target: str, payload: bytes, mode: int, last_check=None) -> None:
    if os.path.isdir(target):  # name the file the user asked for, never our temporary one
        raise IsADirectoryError(errno.EISDIR, "is a directory", target)
    # A temporary name of our own (pid + counter, O_EXCL) rather than tempfile:
    # importing tempfile costs more than the rest of a build step.
    parent = os.path.dirname(target) or "."
    base = os.path.basename(target)
    try:
        os.makedirs(parent, exist_ok=True)
        for attempt in range(100):
            tmp = os.path.join(parent, f".{base}.{os.getpid()}.{attempt}.tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(errno.EEXIST, "no free temporary name", tmp)
    except OSError as exc:  # name the file the user asked for, not our temporary one
        raise OSError(exc.errno, exc.strerror, target) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        # The temporary file is 0600; keep the file's own mode, or the usual one for a new file.
        os.chmod(tmp, mode)
        if last_check is not None:
            last_check()
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_stale_temporaries(directory: str | os.PathLike[str], suffix: str, older_than: float = 60.0) -> int:
    """Remove ``.NAME.PID.N.tmp`` files left in ``directory`` by a writer that was killed between
    creating its temporary file and renaming it (NAME ending in ``suffix``). Only files older than
    ``older_than`` seconds go, so a writer running right now keeps its own. Returns how many."""
    import time

    removed = 0
    limit = time.time() - older_than
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if name.startswith(".") and name.endswith(".tmp") and f"{suffix}." in name:
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < limit:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
    return removed


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file; OSError for anything else.

    Opened non-blocking, so a FIFO planted under the name cannot hang the reader, and refused unless
    ``fstat`` says regular file, so a symlink to ``/dev/zero`` cannot fill the memory: what is read is
    bounded by the file's size.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
        chunks, left = [], st.st_size
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break  # truncated while we read: the caller sees fewer bytes, never more
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

"""Atomic, change-only file writes: nothing half-written, unchanged files keep their mtime."""

from __future__ import annotations

import os

# Only ``os`` here: the per-module build step (buildstep.py) imports this module
# on every edit, and pathlib alone costs a few milliseconds to import.


def write_if_changed(path: str | os.PathLike[str], data: bytes | str) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Returns False, leaving the file (and its mtime) untouched, when it already
    holds exactly ``data``; ninja's ``restat`` then skips everything downstream.
    """
    target = os.fspath(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(target, "rb") as handle:
            if handle.read() == payload:
                return False
            mode = os.fstat(handle.fileno()).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
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
            raise FileExistsError(17, "no free temporary name", tmp)
    except OSError as exc:  # name the file the user asked for, not our temporary one
        raise OSError(exc.errno, exc.strerror, target) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        # The temporary file is 0600; keep the file's own mode, or the usual one for a new file.
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

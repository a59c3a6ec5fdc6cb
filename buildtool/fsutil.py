"""Atomic, change-only file writes: nothing half-written, unchanged files keep their mtime."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def write_if_changed(path: str | os.PathLike[str], data: bytes | str) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Returns False, leaving the file (and its mtime) untouched, when it already
    holds exactly ``data``; ninja's ``restat`` then skips everything downstream.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if target.read_bytes() == payload:
            return False
        mode = target.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    import tempfile  # here, not at the top: the build runs the tool per change and start-up counts

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # name the file the user asked for, not our temporary one
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        # mkstemp makes 0600 files; keep the file's own mode, or the usual one for a new file.
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


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

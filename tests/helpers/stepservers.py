"""The step servers (buildtool/stepserver.py) that tests' builds start, found by /proc, so that the tests
stop what they started: a server runs in its build directory, detached from the step that started it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _running(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def step_servers_under(directory: Path) -> list[int]:
    """The pids of the step servers whose build directory is ``directory`` or below it."""
    top = os.path.realpath(directory)
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            args = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(f"/proc/{entry.name}/cwd").removesuffix(" (deleted)")
        except OSError:
            continue
        is_server = b"serve" in args and any(arg.endswith(b"buildstep.py") for arg in args)
        if is_server and (cwd == top or cwd.startswith(top + "/")) and _running(entry.name):
            found.append(int(entry.name))
    return found


def stop_step_servers_under(directory: Path, timeout: float = 10.0) -> None:
    """SIGTERM each step server under ``directory``, then wait until none is left."""
    deadline = time.monotonic() + timeout
    while pids := step_servers_under(directory):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"step servers under {directory} did not end: {pids}")
        time.sleep(0.05)

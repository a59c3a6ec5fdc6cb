"""buildtool in a child process bounded in memory (``RLIMIT_AS``) and time, so a reader that loops
or allocates without bound fails the test instead of the machine; and as a user that file
permissions apply to."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

from helpers.build import REPO as ROOT

MEMORY = 768 << 20   # address space of each child: Python, lxml and pyelftools fit with room to spare
TIMEOUT = 30         # seconds; a clean refusal takes a fraction of one


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def bt(*args: str) -> subprocess.CompletedProcess:
    """buildtool in a child process, bounded in memory and time (TimeoutExpired fails the test)."""
    done = subprocess.run([sys.executable, "-m", "buildtool", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=TIMEOUT, preexec_fn=_limit)
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr
    return done


# The suite runs as root, for whom file permissions stop nothing; without these two capabilities
# root is held to the permission bits like any user (setpriv is util-linux's, always installed).
UNPRIVILEGED = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def bt_unprivileged(*args: str) -> subprocess.CompletedProcess:
    """buildtool as a user that file permissions apply to (what another user on the machine sees)."""
    done = subprocess.run([*UNPRIVILEGED, sys.executable, "-m", "buildtool", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=TIMEOUT, preexec_fn=_limit)
    assert "Traceback" not in done.stderr, done.stderr
    return done

"""ccache and distcc as the tests (and bench/bench_cache.py) run them: the real Debian programs, never a stand-in.

- ``ccache_env(cache_dir)``: an environment whose compiles go through a private ccache
  (the suite otherwise runs with ``CCACHE_DISABLE=1``, see conftest.py);
  ``ccache_counters`` reads ccache's own statistics, ``ccache_outcomes`` its per-compile
  debug logs: hit or miss for each object file.
- ``DistccDaemons``: ``distccd`` daemons on 127.0.0.1 only, one port each, started and
  stopped by the caller within bounded time, each logging to a file the caller reads;
  ``distcc_env`` sends every compile to them and never falls back to a local compile;
  ``daemon_jobs`` lists what each daemon compiled (its log's ``COMPILE_OK`` lines).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
PORT_LOCK = Path(tempfile.gettempdir()) / "buildtool-distccd-ports.lock"

# Debian's masquerade directories: a ``gcc`` there is ccache's or distcc's, which then runs the
# real one further down PATH. For a make that tests ``$(CC)`` by name (Asterisk's does), putting
# them first on PATH leaves ``CC=gcc`` as it was.
CCACHE_MASQUERADE = Path("/usr/lib/ccache")
DISTCC_MASQUERADE = Path("/usr/lib/distcc")


def masquerading(env: dict[str, str], directory: Path) -> dict[str, str]:
    return dict(env, PATH=f"{directory}{os.pathsep}{env.get('PATH', '')}")


# Flags that make a compile of distcc's preprocessed source (.i) give the bytes of a local
# compile of the .c (docs/build.md, "ccache and distcc"): without them debug info differs in
# column numbers and in the lines given to code that macros expand to.
DISTCC_SAME_BYTES_FLAGS = ("-gno-column-info", "-ftrack-macro-expansion=0")


def missing_programs(*names: str) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


# --- ccache ---------------------------------------------------------------------------

def ccache_env(base: dict[str, str], cache_dir: Path, log_dir: Path | None = None, **config: str) -> dict[str, str]:
    """``base`` with ccache on and private: no CCACHE_* setting of the caller survives but ``config``
    (``CCACHE_BASEDIR=...`` and the like); ``log_dir`` gets one log per compile (``ccache_outcomes``)."""
    env = {k: v for k, v in base.items() if not k.startswith("CCACHE_")}
    env["CCACHE_DIR"] = str(cache_dir)
    if log_dir is not None:
        # One log file per compile (ccache's debug mode), not the shared CCACHE_LOGFILE: parallel
        # compiles write that one in chunks that land inside each other's lines (seen with make -j2).
        env["CCACHE_DEBUG"] = "1"
        env["CCACHE_DEBUGDIR"] = str(log_dir)
    env.update(config)
    return env


def ccache(env: dict[str, str], *args: str) -> str:
    return subprocess.run(["ccache", *args], env=env, capture_output=True, text=True, check=True, timeout=60).stdout


def ccache_counters(env: dict[str, str]) -> dict[str, int]:
    """ccache's own statistics (``ccache --print-stats``: one ``name<TAB>value`` a line)."""
    out = {}
    for line in ccache(env, "--print-stats").splitlines():
        name, _, value = line.partition("\t")
        if value.strip().isdigit():
            out[name] = int(value)
    return out


def hits(counters: dict[str, int]) -> int:
    return counters.get("direct_cache_hit", 0) + counters.get("preprocessed_cache_hit", 0)


_LOG_LINE = re.compile(r"^\[\S+ (\d+)\s*\] (Command line|Result): (.*)$")


def ccache_outcomes(log_dir: Path) -> dict[str, str]:
    """Object file (the compile's ``-o``, as written on its command line) -> ``hit`` or ``miss``,
    from the per-compile logs ccache wrote under ``log_dir`` (``ccache_env``); the caller empties
    ``log_dir`` before the build it asks about."""
    outcome: dict[str, str] = {}
    for log in sorted(log_dir.rglob("*.ccache-log")):
        output, result = "", None
        for line in log.read_text(errors="replace").splitlines():
            match = _LOG_LINE.match(line)
            if not match:
                continue
            _, kind, value = match.groups()
            if kind == "Command line":
                words = value.split()
                output = words[words.index("-o") + 1] if "-o" in words[:-1] else ""
            elif value in ("direct_cache_hit", "preprocessed_cache_hit"):
                result = "hit"
            elif value == "cache_miss":
                result = "miss"
        if result is not None:
            outcome[output] = result
    return outcome


# --- distcc ---------------------------------------------------------------------------

def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Daemon:
    port: int
    process: subprocess.Popen
    log: Path
    pid_file: Path


@dataclass
class DistccDaemons:
    """``count`` distccd daemons on 127.0.0.1, each on its own port (standing in for hosts).

    Run as root, distccd gives its privileges away (to ``--user``); it writes its pid file after
    that, so the pid files live in a directory of that user's. Logs go to the daemon's stderr
    (``--log-stderr``), a file this process opened. Debian's distccd runs only compilers that
    have a masquerade link in /usr/lib/distcc (``update-distcc-symlinks``), which is how
    ``gcc`` is allowed here; ``--enable-tcp-insecure`` is not used.
    """

    work: Path
    count: int = 2
    jobs_per_daemon: int = 2
    verbose: bool = True
    daemons: list[Daemon] = field(default_factory=list)
    run_dir: Path | None = None

    def __enter__(self) -> "DistccDaemons":
        self.work.mkdir(parents=True, exist_ok=True)
        # A directory the unprivileged daemon can reach (pytest's temporary directories are not).
        self.run_dir = Path(tempfile.mkdtemp(prefix="buildtool-distccd-"))
        user = None
        if os.geteuid() == 0:
            user = "nobody"
            entry = pwd.getpwnam(user)
            os.chown(self.run_dir, entry.pw_uid, entry.pw_gid)
        os.chmod(self.run_dir, 0o755)
        try:
            # A free port is free only until a daemon binds it: other processes starting daemons at the
            # same time (the suite's other pytest-xdist worker, a benchmark) wait until ours listen.
            with open(PORT_LOCK, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._start_all(user)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start_all(self, user: str | None) -> None:
        for _ in range(self.count):
            self._start(user)
        deadline = time.monotonic() + 20
        for daemon in self.daemons:
            while not _accepts(daemon.port):
                if daemon.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"distccd on port {daemon.port} did not start:\n"
                                         + daemon.log.read_text(errors="replace")[-2000:])
                time.sleep(0.05)
            while not daemon.pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            written = daemon.pid_file.read_text().strip() if daemon.pid_file.exists() else "(none)"
            if written != str(daemon.process.pid):
                raise AssertionError(f"distccd on port {daemon.port}: pid file says {written}, "
                                     f"the daemon is {daemon.process.pid}")

    def _start(self, user: str | None) -> None:
        port = free_loopback_port()
        log = self.work / f"distccd-{port}.log"
        pid_file = self.run_dir / f"distccd-{port}.pid"
        cmd = ["distccd", "--daemon", "--no-detach", "--listen", LOOPBACK, "--allow", LOOPBACK, "--port", str(port),
               "--pid-file", str(pid_file), "--log-stderr", "--log-level", "debug" if self.verbose else "info",
               "--jobs", str(self.jobs_per_daemon), "--job-lifetime", "600"]
        if user:
            cmd += ["--user", user]
        env = dict(os.environ, TMPDIR=str(self.run_dir))
        with open(log, "wb") as out:
            # Its own session: stopping it reaches the pre-forked children through the group id,
            # which is the daemon's own pid.
            process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                       start_new_session=True)
        self.daemons.append(Daemon(port, process, log, pid_file))

    def __exit__(self, *exc) -> None:
        for daemon in self.daemons:
            if daemon.process.poll() is None:
                os.killpg(daemon.process.pid, signal.SIGTERM)
        for daemon in self.daemons:
            try:
                daemon.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.process.pid, signal.SIGKILL)
                daemon.process.wait(15)
            try:  # pre-forked children still running after their parent went
                os.killpg(daemon.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def hosts(self) -> str:
        """``DISTCC_HOSTS``: the loopback address, never the word ``localhost`` (distcc runs
        ``localhost`` jobs itself instead of sending them to a daemon)."""
        return " ".join(f"{LOOPBACK}:{d.port}/{self.jobs_per_daemon}" for d in self.daemons)

    def log_sizes(self) -> list[int]:
        return [d.log.stat().st_size for d in self.daemons]

    def jobs(self, since: list[int] | None = None) -> list[list[str]]:
        """Per daemon, the input file of each job compiled and sent back (``COMPILE_OK``)."""
        return [daemon_jobs(d.log, since[i] if since else 0) for i, d in enumerate(self.daemons)]

    def received_arguments(self, since: list[int] | None = None) -> list[str]:
        """Every compiler argument the daemons received (their debug log, ``dcc_r_argv``)."""
        out = []
        for i, d in enumerate(self.daemons):
            text = d.log.read_bytes()[since[i] if since else 0:].decode(errors="replace")
            out += re.findall(r'\(dcc_r_argv\) argv\[\d+\] = "(.*)"$', text, re.M)
        return out


_JOB = re.compile(r"COMPILE_OK exit:0 .*? time:\d+ms \S+ (\S+)$", re.M)


def daemon_jobs(log: Path, since: int = 0) -> list[str]:
    return _JOB.findall(log.read_bytes()[since:].decode(errors="replace"))


def distcc_env(base: dict[str, str], daemons: DistccDaemons, state_dir: Path) -> dict[str, str]:
    """``base`` with every compile sent to ``daemons``: a compile that cannot be sent fails
    (``DISTCC_FALLBACK=0``) instead of running here, and is not retried here either."""
    state_dir.mkdir(parents=True, exist_ok=True)  # distcc's locks and state; it does not create it
    env = {k: v for k, v in base.items() if not k.startswith("DISTCC_")}
    env.update(DISTCC_HOSTS=daemons.hosts(), DISTCC_FALLBACK="0", DISTCC_SKIP_LOCAL_RETRY="1",
               DISTCC_BACKOFF_PERIOD="0", DISTCC_DIR=str(state_dir), DISTCC_PAUSE_TIME_MSEC="50",
               CCACHE_DISABLE="1")
    return env

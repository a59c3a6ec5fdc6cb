"""The step server: the per-module build step's Python part, kept running between edits.

A MODULEINFO edit runs ``buildstep.py module`` for the edited module, and the
tree step after it. As a new process each costs ~55 ms (~30 ms) of CPU,
almost all of it start-up (the interpreter, lxml's import, buildtool's); the
work is ~1.5 ms (~5 ms at 1,000 modules). The native step
(``tools/modinfo_step.c``) therefore first asks this server, over a Unix socket
in the build directory, and runs the command itself only when no server
answers. The server is a cache of imports, nothing more: it runs the same
function (``buildstep.run``) on the same arguments in the client's working
directory, and sends back its exit status and what it printed, so a build
answered by it writes the same bytes and says the same things as one that is
not (tests/test_step_server.py checks both).

Life cycle (docs/build.md, "The step server"):

- **started** by the native step of a module when it found no server (it runs
  the command itself that time: a MODULEINFO edit; a build nobody edits starts
  none), detached (own session, stdio on ``/dev/null`` and the log);
  one per build directory: it holds ``modinfo-step.lock`` while it lives, and a
  second one started meanwhile waits for it briefly, then leaves;
- **answers** only requests whose configured command (the content of
  ``modinfo-step.args``, which the client sends) is the one it was started for,
  from clients of its own user (``SO_PEERCRED``), and only while every file of
  code it runs (the interpreter, buildtool's modules and templates, lxml's,
  jinja2's, checked by ``stat`` before each request; a file first imported by
  a request and written since the check before it counts as changed) is the
  one it imported;
  otherwise it refuses (the client runs the command itself) and ends: a
  re-configure or an upgrade changed what a new process would run; a request
  whose client has gone (it gave up waiting) is not run;
- **ends** when idle for ``BUILDTOOL_STEP_SERVER_IDLE`` seconds (default 900),
  when its socket is removed or replaced (the build directory deleted, another
  server), when ``modinfo-step.args`` changes, or on an error of its own; a
  client that finds it dead, stuck or answering garbage runs the command itself
  (stuck: no answer within 10 s; it then removes the socket, so that the
  steps after it do not wait too, and the server leaves if it ever resumes).

It runs in the build directory and names its files relatively (a socket
address holds 107 bytes, a deep build directory's path may not); its lock and
log are opened without following links (the client opens the log).

``BUILDTOOL_STEP_SERVER=0`` in the build's environment: no server is asked or started.

The protocol, one request per connection: the client sends ``MAGIC``, its
working directory, the configured command's text and the arguments of one of
buildstep.py's steps (``STEPS``: ``module SOURCE OUT_DIR NAME``, ``tree ...``,
``listing ...``), each followed by a NUL byte, then shuts its side down; the
server replies ``STATUS\\nLENGTH\\n``, then LENGTH bytes for standard output and
the rest for standard error; or ``refused\\n``.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import select
import socket
import struct
import sys
import time

from buildtool import buildstep

MAGIC = b"buildtool-step/2"
SOCKET_NAME = "modinfo-step.sock"
TEMPORARY_SOCKET_NAME = "modinfo-step.new"  # where the socket is bound before its rename to SOCKET_NAME
LOCK_NAME = "modinfo-step.lock"
LOG_NAME = "modinfo-step-server.log"  # the server's standard error: its life and every request
REFUSED = b"refused\n"
SERVER_VARIABLE = "BUILDTOOL_STEP_SERVER"  # "0": no server asked or started (tools/modinfo_step.c reads it)
IDLE_VARIABLE = "BUILDTOOL_STEP_SERVER_IDLE"
DEFAULT_IDLE = 900.0  # seconds: an author's edits come minutes apart; a forgotten server leaves on its own
TICK = 1.0  # seconds between checks that the socket and the configured command are still this server's
MAX_REQUEST = 64 * 1024  # four paths and a command line; anything longer is not a client's
REQUEST_TIMEOUT = 2.0  # seconds a client may take to send its request
LOCK_WAIT = 3.0  # seconds a new server waits for an old one (ending on its next tick) to leave
MTIME_SLACK_NS = 1_000_000_000  # a file's mtime comes from a coarser clock than time.time_ns()
MAX_LOG = 1 << 20  # bytes: the log starts again beyond this


def _log(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # a full disk or a closed log never stops the server
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {message}", file=sys.stderr, flush=True)


def _idle_seconds() -> float:
    text = os.environ.get(IDLE_VARIABLE, "")
    try:
        value = float(text) if text else DEFAULT_IDLE
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        _log(f"{IDLE_VARIABLE}={text!r} is not a number of seconds above 0: {DEFAULT_IDLE:g} used")
        return DEFAULT_IDLE
    return value


def _take_lock(path: str) -> int | None:
    """The build directory's server lock, held until this process ends; None if another server keeps it."""
    try:  # O_NOFOLLOW: a link planted there must not make this process create or lock another file
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        _log(f"{path}: cannot open ({exc.strerror})")
        return None
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)


def _listen(path: str) -> tuple[socket.socket, int]:
    """A listening socket at ``path`` (relative: a socket address holds 107 bytes, a build directory's
    path may not), put there whole: bound and listening under another name first, no longer than
    ``path`` (only the lock's holder binds, so the name needs no process id)."""
    temporary = TEMPORARY_SOCKET_NAME
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o077)  # the socket file: its owner's alone
    try:
        server.bind(temporary)
    finally:
        os.umask(old_mask)
    server.listen(64)
    os.rename(temporary, path)
    return server, os.stat(path).st_ino


def _code_files() -> dict[str, tuple[int, int, int] | None]:
    """The key of every file of code the step runs (the interpreter, the modules it imported from buildtool,
    lxml, jinja2, markupsafe, and buildtool's templates), by path: a server whose code changed under it must
    not answer (an upgrade of Python replaces its executable, with the standard library)."""
    from buildtool.modstep import STEP_PACKAGES

    paths = [sys.executable] + [module.__file__ for name, module in list(sys.modules.items())
                                if name.partition(".")[0] in STEP_PACKAGES and getattr(module, "__file__", None)]
    templates = os.path.join(os.path.dirname(buildstep.__file__), "templates")
    with contextlib.suppress(OSError):
        paths += [os.path.join(templates, name) for name in os.listdir(templates)]
    files = {}
    for path in paths:
        try:
            st = os.stat(path)
            files[path] = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            files[path] = None
    return files


def _code_changed(known: dict[str, tuple[int, int, int] | None], since_ns: int) -> str | None:
    """The first file of code that is no longer what it was when first seen. A file first seen now was
    imported by a request since the previous check (at ``since_ns``): it counts as changed when it was
    written since then too, for that request may have imported what it held before."""
    for path, key in _code_files().items():
        if path not in known:
            known[path] = key
            if key is None or key[2] >= since_ns - MTIME_SLACK_NS:
                return path
        elif known[path] != key:
            return path
    return None


def _peer_is_us(connection: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the socket file's mode (0600) is then the only guard
    _pid, uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                 struct.calcsize("3i")))
    return uid == os.getuid()


# The buildstep.py commands a server answers, with their number of arguments (the command's name included).
STEPS = {"module": 4, "tree": 5, "listing": 4}


def _receive(connection: socket.socket) -> list[bytes] | None:
    """The request's fields (working directory, configured command, the step's arguments), or None for
    anything that is not a whole request of this protocol."""
    deadline = time.monotonic() + REQUEST_TIMEOUT  # for the whole request, not for each piece of it
    chunks, size = [], 0
    while True:
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = connection.recv(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_REQUEST:
            return None
        chunks.append(chunk)
    fields = b"".join(chunks).split(b"\0")
    if len(fields) < 4 or fields[0] != MAGIC or fields[-1] != b"":
        return None
    step = fields[3:-1]
    if not step or STEPS.get(step[0].decode("ascii", "replace")) != len(step):
        return None
    return fields[1:-1]


def _label(fields: list[bytes]) -> str:
    """What the log names a request by: the module, or the step."""
    step = [os.fsdecode(f) for f in fields[2:]]
    return step[3] if step[0] == "module" else step[0]


def _client_gone(connection: socket.socket) -> bool:
    """Whether the client closed its end (it gave up waiting and ran the command itself): its step is
    then not run here, so that no late answer writes over what was written since."""
    poller = select.poll()
    poller.register(connection, select.POLLHUP)
    return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))


def _answer(fields: list[bytes], home: int) -> bytes:
    cwd, step = os.fsdecode(fields[0]), [os.fsdecode(f) for f in fields[2:]]
    out, err = io.StringIO(), io.StringIO()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = buildstep.run(step)
    finally:
        os.fchdir(home)
    printed = out.getvalue().encode("utf-8", "surrogateescape")
    return (f"{status}\n{len(printed)}\n".encode() + printed + err.getvalue().encode("utf-8", "surrogateescape"))


def _truncate_long_log(log_path: str) -> None:
    """Start the log again past MAX_LOG: through the descriptor the client opened (standard error), and
    only when that is the log file itself, so that no path (a link planted there) is followed."""
    with contextlib.suppress(OSError):
        st, there = os.fstat(2), os.lstat(log_path)
        if (st.st_dev, st.st_ino) == (there.st_dev, there.st_ino) and st.st_size > MAX_LOG:
            os.ftruncate(2, 0)


def serve(out_dir: str) -> int:
    """Serve the build directory ``out_dir``'s module steps until a reason to end (module doc)."""
    # Run in the build directory, by its descriptor: its own files are then named relatively (a socket
    # address holds 107 bytes), and a build directory moved while the server runs is still its own.
    try:
        os.chdir(out_dir)
        home = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        out_dir = os.getcwd()  # for the log only
    except OSError as exc:
        _log(f"{out_dir}: cannot enter ({exc.strerror}): leaving")
        return 0
    socket_path, args_path, log_path = SOCKET_NAME, buildstep.ARGS_NAME, LOG_NAME
    _truncate_long_log(log_path)
    lock = _take_lock(LOCK_NAME)
    if lock is None:
        _log("another server keeps this build directory: leaving")
        return 0
    command = buildstep._read(args_path)
    if command is None:
        _log(f"{os.path.join(out_dir, args_path)}: cannot read (configure again): leaving")
        return 0
    try:
        buildstep._steps_file(".")  # puts the directories of lxml and buildtool on sys.path (run with -S)
    except (OSError, ValueError, KeyError) as exc:
        _log(f"{buildstep.STEPS_FILE}: cannot read ({exc}): leaving")
        return 0
    # What a request imports, imported once: the point of the server (modstep.module_step's own imports too).
    from buildtool import catalog, mesonplan, model, modstep, resolve, scan  # noqa: F401
    from buildtool.commands import common  # noqa: F401

    code, checked = _code_files(), time.time_ns()
    idle = _idle_seconds()
    try:
        server, inode = _listen(socket_path)
    except OSError as exc:
        _log(f"{os.path.join(out_dir, socket_path)}: cannot listen ({exc.strerror}): leaving")
        return 0
    server.settimeout(TICK)
    _log(f"serving {out_dir} (idle limit {idle:g} s)")
    served, last = 0, time.monotonic()
    reason = "idle"
    try:
        while True:
            try:
                connection, _ = server.accept()
            except TimeoutError:
                try:
                    if os.stat(socket_path).st_ino != inode:
                        reason = "socket replaced"
                        break
                except FileNotFoundError:
                    reason = "socket removed"
                    break
                if buildstep._read(args_path) != command:
                    reason = "the configured command changed"
                    break
                if time.monotonic() - last > idle:
                    break
                continue
            except OSError as exc:  # out of descriptors, say: the clients waiting run their commands themselves
                reason = f"cannot accept: {exc.strerror}"
                break
            with connection:
                last = time.monotonic()
                if not _peer_is_us(connection):
                    _log("a client of another user: closed")
                    continue
                try:
                    fields = _receive(connection)
                except OSError as exc:
                    _log(f"a request not received: {exc}")
                    continue
                if fields is None:
                    _log("not a request of this protocol: closed")
                    continue
                now = time.time_ns()
                changed = None if fields[1] != command else _code_changed(code, checked)
                checked = now
                if fields[1] != command or changed:
                    with contextlib.suppress(OSError):
                        connection.sendall(REFUSED)
                    reason = (f"{changed} changed (refused a request)" if changed
                              else "a request of another configuration (refused)")
                    break
                if _client_gone(connection):
                    _log(f"{_label(fields)}: its client is gone (it ran the step itself): not run")
                    continue
                start = time.perf_counter()
                try:
                    reply = _answer(fields, home)
                except Exception as exc:  # noqa: BLE001  (the client runs the command itself and shows it)
                    with contextlib.suppress(OSError):
                        connection.sendall(REFUSED)
                    reason = f"an error of its own: {exc!r}"
                    break
                with contextlib.suppress(OSError):  # a client gone meanwhile runs the command itself
                    connection.sendall(reply)
                served += 1
                _truncate_long_log(log_path)  # a server that is never idle long enough to end must not grow it
                status = reply.split(b"\n", 1)[0].decode()
                _log(f"served {_label(fields)}: exit {status} in {(time.perf_counter() - start) * 1000:.1f} ms")
    finally:
        with contextlib.suppress(OSError):
            if os.stat(socket_path).st_ino == inode:
                os.unlink(socket_path)
        server.close()
    _log(f"leaving ({reason}) after {served} request(s)")
    return 0

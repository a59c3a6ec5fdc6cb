"""The step server (buildtool/stepserver.py) with the real native step (tools/modinfo_step.c, built here with gcc)
as its client, in a tree configured as meson-plan does it: real processes, a real Unix socket.

What is checked: an answer of the server is the command's own (exit status, what it printed, every byte written;
a twin tree where no server is ever asked is the reference); a server that must not answer (another configuration,
its code changed, a socket that is not its own) does not, and leaves; a client never trusts garbage, and a
hostile client does not stop the server. A build-level check (ninja does not wait for the server it started) is in
test_build_incremental.py."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import buildtool
from buildtool import modstep
from buildtool.catalog import Catalog
from buildtool.scan import scan
from helpers.stepservers import step_servers_under

REPO = Path(buildtool.__file__).resolve().parent.parent
SOCKET, LOG, ARGS = "modinfo-step.sock", "modinfo-step-server.log", "modinfo-step.args"

BLOCK = ("/*** MODULEINFO\n"
         "{depend}"
         "\t<use>res_nope</use>\n"
         "\t<support_level>core</support_level>\n"
         " ***/\n")
BODY = "int body_{name};\n"
NAMES = ("res_a", "res_b", "res_c", "res_d", "res_e", "res_f")
UNKNOWN_NAME = re.compile(r"^src/(res_\w)\.c:[23]:7: warning: <use>res_nope</use>: 'res_nope' is not a module")


def source(name: str, support: str = "core", depend: str = "") -> str:
    return BLOCK.format(depend=depend).replace("core", support) + BODY.format(name=name)


@pytest.fixture(scope="module")
def native_step(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("native") / "modinfo-step"
    subprocess.run(["gcc", "-O1", "-Wall", "-Werror", "-o", str(exe), str(REPO / "tools" / "modinfo_step.c"),
                    "-lcrypto"], check=True)
    return exe


def configure(root: Path) -> Path:
    """A tree of six modules (res_a requires res_b), configured into ``root/steps`` as meson-plan does it."""
    (root / "src").mkdir(parents=True)
    for name in NAMES:
        depend = "\t<depend>res_b</depend>\n" if name == "res_a" else ""
        (root / "src" / f"{name}.c").write_text(source(name, depend=depend))
    (root / "trigger").write_text("")
    os.utime(root / "trigger", (1_000_000, 1_000_000))
    cwd = os.getcwd()
    os.chdir(root)
    try:
        catalog = Catalog()
        modstep.write_configured(scan(["src"], catalog), catalog, "src", "steps", "trigger")
    finally:
        os.chdir(cwd)
    return root


def server_pids(root: Path) -> list[int]:
    log = root / "steps" / LOG
    text = log.read_text() if log.is_file() else ""  # (not a FIFO planted there)
    return [int(pid) for pid in re.findall(r"\[(\d+)\] serving ", text)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive: the server is not our child, but be exact
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def wait_until(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def trees(tmp_path):
    """Two equal configured trees: ``served`` (its steps ask the server) and ``direct`` (BUILDTOOL_STEP_SERVER=0).
    Every server started in them is stopped at the end."""
    served, direct = configure(tmp_path / "served"), configure(tmp_path / "direct")
    yield served, direct
    for root in (served, direct):
        stop_servers(root)


def servers_in(root: Path) -> list[int]:
    return step_servers_under(root / "steps")


def stop_servers(root: Path) -> None:
    for pid in set(server_pids(root)) | set(servers_in(root)):
        if alive(pid):
            os.kill(pid, signal.SIGTERM)


def run_step(exe: Path, root: Path, name: str, server: bool = True, idle: str = "60") -> subprocess.CompletedProcess:
    env = dict(os.environ, BUILDTOOL_STEP_SERVER="1" if server else "0", BUILDTOOL_STEP_SERVER_IDLE=idle)
    return subprocess.run([str(exe), f"src/{name}.c", "steps", name], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


def outputs(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "steps").iterdir())
            if p.name.endswith((".h", ".json", ".block"))}


def edit(roots, name: str, text: str) -> None:
    for root in roots:
        (root / "src" / f"{name}.c").write_text(text)


def served_lines(root: Path) -> list[str]:
    return re.findall(r"served (\w+): exit (\d+)", (root / "steps" / LOG).read_text())


def assert_left_refusing(root: Path, pid: int, changed) -> None:
    """The server ``pid`` refused a request because the file of code ``changed`` changed, and left."""
    assert wait_until(lambda: not alive(pid))
    assert f"[{pid}] leaving ({changed} changed (refused a request))" in (root / "steps" / LOG).read_text()


def start_server(exe: Path, root: Path, twin: Path | None = None) -> int:
    """The first step that needs the Python part runs it itself and starts the server; wait until it listens.
    (``twin``: the same edit and step there, with no server.)"""
    edit([root], "res_c", source("res_c", "extended"))
    assert run_step(exe, root, "res_c").returncode == 0
    if twin:
        edit([twin], "res_c", source("res_c", "extended"))
        assert run_step(exe, twin, "res_c", server=False).returncode == 0
    assert wait_until(lambda: (root / "steps" / SOCKET).exists() and server_pids(root))
    return server_pids(root)[-1]


def test_answers_of_the_server_are_the_commands_own(native_step, trees):
    served, direct = trees
    pid = start_server(native_step, served, direct)
    assert not (direct / "steps" / SOCKET).exists() and not (direct / "steps" / LOG).exists()
    for round_, support in enumerate(("deprecated", "extended", "core")):
        for name in NAMES[1:]:  # res_a's plan depends on nothing edited here
            edit(trees, name, source(name, support))
            answer, own = run_step(native_step, served, name), run_step(native_step, direct, name, server=False)
            assert (answer.returncode, answer.stdout, answer.stderr) == (own.returncode, own.stdout, own.stderr)
            assert answer.returncode == 0 and UNKNOWN_NAME.match(answer.stderr).group(1) == name
        assert outputs(served) == outputs(direct)
    assert "AST_MODULE_SUPPORT_CORE" in (served / "steps" / "res_f.modinfo.h").read_text()
    # every one of those 15 edits was the server's, and it is the one that started
    assert served_lines(served) == [(name, "0") for _ in range(3) for name in NAMES[1:]]
    assert server_pids(served) == [pid] and alive(pid)


def test_errors_and_plan_changes_through_the_server_are_the_commands_own(native_step, trees):
    served, direct = trees
    start_server(native_step, served, direct)
    statuses, errors = [], []
    for text in ("/*** MODULEINFO\n\t<depend>res_b\n ***/\nint x;\n",  # not well-formed: file:line:col
                 source("res_d").replace("res_nope", "res_d"),  # requires itself
                 source("res_d", depend="\t<depend>res_a</depend>\n")):  # a plan change
        edit(trees, "res_d", text)
        answer, own = run_step(native_step, served, "res_d"), run_step(native_step, direct, "res_d", server=False)
        assert (answer.returncode, answer.stdout, answer.stderr) == (own.returncode, own.stdout, own.stderr)
        assert outputs(served) == outputs(direct)
        statuses.append(str(own.returncode))
        errors.append(own.stderr)
    assert errors[0].startswith("src/res_d.c:3:2: error: MODULEINFO is not well-formed XML: ") and "res_d" in errors[1]
    assert statuses[2] == "1" and "the module plan changed (changed: res_d)" in errors[2]
    assert (served / "trigger").stat().st_mtime > 1_000_000
    assert [status for name, status in served_lines(served) if name == "res_d"] == statuses


def test_a_server_of_another_configuration_refuses_and_leaves(native_step, trees, tmp_path):
    served, _ = trees
    pid = start_server(native_step, served)
    args = served / "steps" / ARGS
    python = Path(args.read_text().splitlines()[0])
    other = tmp_path / "python"
    other.symlink_to(python)  # the same interpreter, another command: what a re-configure can write
    args.write_text(args.read_text().replace(str(python), str(other), 1))
    edit([served], "res_e", source("res_e", "extended"))
    answer = run_step(native_step, served, "res_e")
    assert answer.returncode == 0 and UNKNOWN_NAME.match(answer.stderr)
    assert "AST_MODULE_SUPPORT_EXTENDED" in (served / "steps" / "res_e.modinfo.h").read_text()
    assert wait_until(lambda: not alive(pid))
    log = (served / "steps" / LOG).read_text()
    assert re.search(rf"\[{pid}\] leaving \((the configured command changed|a request of another configuration)", log)
    assert ("res_e", "0") not in served_lines(served)  # the old server answered nothing after the change


def test_a_server_whose_code_changed_refuses_and_leaves(native_step, tmp_path):
    # The step's code from a copy of the package, so that a file of it can change under a running server.
    root = configure(tmp_path / "tree")
    package = tmp_path / "pkg" / "buildtool"
    shutil.copytree(REPO / "buildtool", package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (ARGS,):
        path = root / "steps" / name
        path.write_text(path.read_text().replace(str(REPO / "buildtool"), str(package)))
    pid = start_server(native_step, root)
    try:
        assert f"{package}/buildstep.py" in Path(f"/proc/{pid}/cmdline").read_bytes().decode().replace("\0", " ")
        edit([root], "res_d", source("res_d", "extended"))
        assert run_step(native_step, root, "res_d").returncode == 0
        assert ("res_d", "0") in served_lines(root)
        with open(package / "generate.py", "a") as handle:  # an upgrade, an edit of the generator
            handle.write("\n# changed\n")
        edit([root], "res_d", source("res_d", "deprecated"))
        answer = run_step(native_step, root, "res_d")
        assert answer.returncode == 0 and "AST_MODULE_SUPPORT_DEPRECATED" in (root / "steps" / "res_d.modinfo.h").read_text()
        assert_left_refusing(root, pid, f"{package}/generate.py")
    finally:
        for server in server_pids(root):
            if alive(server):
                os.kill(server, signal.SIGTERM)


def test_a_removed_socket_and_idleness_end_the_server(native_step, trees):
    served, _ = trees
    pid = start_server(native_step, served)
    (served / "steps" / SOCKET).unlink()  # the build directory deleted, say
    assert wait_until(lambda: not alive(pid))
    assert f"[{pid}] leaving (socket removed) after 0 request(s)" in (served / "steps" / LOG).read_text()
    # the next step that needs Python starts another; left alone, it leaves on its own and removes its socket
    edit([served], "res_d", source("res_d", "extended"))
    env_idle = run_step(native_step, served, "res_d", idle="1")
    assert env_idle.returncode == 0
    assert wait_until(lambda: len(server_pids(served)) == 2)
    second = server_pids(served)[-1]
    assert wait_until(lambda: not alive(second))
    assert f"[{second}] leaving (idle) after 0 request(s)" in (served / "steps" / LOG).read_text()
    assert not (served / "steps" / SOCKET).exists()


def test_a_socket_that_is_not_a_servers_is_not_trusted(native_step, trees):
    served, direct = trees
    sock_path = served / "steps" / SOCKET
    # Hold the server lock, so no real server takes the socket over: whatever answers is ours below.
    lock = os.open(served / "steps" / "modinfo-step.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    replies = [b"", b"0\n", b"0\n99999\nshort", b"300\n0\n", b"refused\n", b"0\n0\n" + b"x" * (17 << 20),
               b"0\n5\nbogus-output"]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    listener.listen(8)

    def fake_server():
        for reply in replies:
            connection, _ = listener.accept()
            with connection:
                while connection.recv(65536):
                    pass
                try:
                    connection.sendall(reply)
                except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: too long
                    pass

    thread = threading.Thread(target=fake_server, daemon=True)
    thread.start()
    try:
        for i, reply in enumerate(replies):
            support = ("extended", "deprecated")[i % 2]
            edit(trees, "res_f", source("res_f", support))
            answer, own = run_step(native_step, served, "res_f"), run_step(native_step, direct, "res_f", server=False)
            if reply == b"0\n5\nbogus-output":  # well-formed: a server of ours (same user) is believed
                assert (answer.returncode, answer.stdout, answer.stderr) == (0, "bogus", "-output")
                continue
            assert (answer.returncode, answer.stdout, answer.stderr) == (own.returncode, own.stdout, own.stderr), reply
            assert outputs(served) == outputs(direct), reply
        thread.join(10)
        assert not thread.is_alive()
        # each time it was not answered, the client started a server for the next edit, which found the lock
        # held and left without listening
        assert wait_until(lambda: (served / "steps" / LOG).read_text().count("another server keeps") == 6)
    finally:
        listener.close()
        os.close(lock)
    assert server_pids(served) == []


def test_hostile_clients_do_not_stop_the_server(native_step, trees):
    served, _ = trees
    pid = start_server(native_step, served)
    address = str(served / "steps" / SOCKET)

    def send(data: bytes, stall: bool = False) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(address)
            client.settimeout(10)
            try:
                if not stall:  # (stalling, it sends nothing: the server gives up on it after its request timeout)
                    client.sendall(data)
                    client.shutdown(socket.SHUT_WR)
                return client.recv(100)
            except ConnectionError:  # the server closed it before everything was sent
                return b""

    assert send(b"x" * (2 << 20)) == b""  # over the request limit: closed, nothing read past it
    assert send(b"GET / HTTP/1.0\r\n\r\n") == b""
    assert send(b"buildtool-step/1\0only\0three\0") == b""
    assert send(b"buildtool-step/2\0/\0" + (served / "steps" / ARGS).read_bytes() + b"\0") == b""  # no step
    assert send(b"", stall=True) == b""
    edit([served], "res_b", source("res_b", "extended"))
    answer = run_step(native_step, served, "res_b")
    assert answer.returncode == 0 and ("res_b", "0") in served_lines(served) and alive(pid)
    log = (served / "steps" / LOG).read_text()
    assert log.count("not a request of this protocol: closed") == 4
    assert "a request not received: timed out" in log


def test_steps_at_once_are_each_answered(native_step, trees):
    served, direct = trees
    start_server(native_step, served, direct)
    for support in ("deprecated", "core"):
        edit(trees, "res_a", source("res_a", support, depend="\t<depend>res_b</depend>\n"))
        for name in NAMES[1:]:
            edit(trees, name, source(name, support))
        env = dict(os.environ, BUILDTOOL_STEP_SERVER_IDLE="60")
        running = [subprocess.Popen([str(native_step), f"src/{name}.c", "steps", name], cwd=served, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in NAMES]
        results = {name: process.communicate(timeout=120) + (process.returncode,)
                   for name, process in zip(NAMES, running)}
        for name in NAMES:
            own = run_step(native_step, direct, name, server=False)
            assert results[name] == (own.stdout, own.stderr, own.returncode), name
        assert outputs(served) == outputs(direct)
    assert sorted(served_lines(served)[-6:]) == sorted((name, "0") for name in NAMES)


def test_a_build_directory_too_deep_for_a_socket_address_is_served(native_step, tmp_path):
    # ninja names the build directory relatively (@OUTDIR@): the client's socket address is short; the
    # server's must be too, whatever the build directory's absolute path (a socket address holds 107 bytes).
    root = configure(tmp_path / ("d" * 60) / ("e" * 60))
    assert len(str(root / "steps" / SOCKET)) > 108
    try:
        start_server(native_step, root)
        edit([root], "res_d", source("res_d", "extended"))
        assert run_step(native_step, root, "res_d").returncode == 0
        assert served_lines(root) == [("res_d", "0")]
    finally:
        stop_servers(root)


def test_links_and_fifos_planted_at_the_log_and_lock_are_not_followed(native_step, trees, tmp_path):
    served, direct = trees
    victim = tmp_path / "victim"  # a file of the user's, past the log's limit
    victim.write_bytes(b"precious\n" * 200_000)
    (served / "steps" / LOG).symlink_to(victim)
    (direct / "steps" / "modinfo-step.lock").symlink_to(tmp_path / "created")
    for root in (served, direct):
        edit([root], "res_c", source("res_c", "extended"))
        assert run_step(native_step, root, "res_c").returncode == 0
    # served: a server runs (its log is /dev/null), and neither appends to nor truncates the victim
    assert wait_until(lambda: (served / "steps" / SOCKET).exists())
    assert victim.read_bytes() == b"precious\n" * 200_000
    # direct: the server started there does not create a file through the lock's link, and leaves
    assert wait_until(lambda: "modinfo-step.lock: cannot open" in (direct / "steps" / LOG).read_text())
    assert not (tmp_path / "created").exists() and not (direct / "steps" / SOCKET).exists()
    # a FIFO at the log: the server starts anyway (a blocking open would hang it before it listens)
    fifo_tree = configure(tmp_path / "fifo")
    os.mkfifo(fifo_tree / "steps" / LOG)
    try:
        edit([fifo_tree], "res_c", source("res_c", "extended"))
        assert run_step(native_step, fifo_tree, "res_c").returncode == 0
        assert wait_until(lambda: (fifo_tree / "steps" / SOCKET).exists())
    finally:
        stop_servers(fifo_tree)
    for root in (served, fifo_tree):  # (no log names them) the socket removed, each leaves on its next tick
        (root / "steps" / SOCKET).unlink(missing_ok=True)
        assert wait_until(lambda: not servers_in(root))


def test_a_long_log_starts_again_at_a_start_and_after_a_request(native_step, trees):
    served, _ = trees
    log = served / "steps" / LOG
    log.write_bytes(b"old line\n" * 200_000)
    pid = start_server(native_step, served)
    text = log.read_text()
    assert "old line" not in text and f"[{pid}] serving " in text
    # and while it serves, past the limit again (a server that is never idle long enough to end)
    with open(log, "a") as handle:
        handle.write("old line\n" * 200_000)
    edit([served], "res_d", source("res_d", "extended"))
    assert run_step(native_step, served, "res_d").returncode == 0
    assert wait_until(lambda: "served res_d" in log.read_text() and "old line" not in log.read_text())


def test_a_stopped_server_delays_one_step_and_answers_no_client_that_gave_up(native_step, trees):
    served, direct = trees
    pid = start_server(native_step, served, direct)
    os.kill(pid, signal.SIGSTOP)
    try:
        timings = []
        for support in ("extended", "deprecated"):
            edit(trees, "res_d", source("res_d", support))
            start = time.monotonic()
            answer = run_step(native_step, served, "res_d")
            timings.append(time.monotonic() - start)
            own = run_step(native_step, direct, "res_d", server=False)
            assert (answer.returncode, answer.stdout, answer.stderr) == (own.returncode, own.stdout, own.stderr)
            assert outputs(served) == outputs(direct)
        # the first waited for the client's limit (10 s) and removed the stuck server's socket: the second
        # did not wait (its Python part is a new process; the server it started finds the lock held and leaves)
        assert 9 < timings[0] < 30 and timings[1] < 5, timings
        assert not (served / "steps" / SOCKET).exists()
        header = (served / "steps" / "res_d.modinfo.h").read_bytes()
    finally:
        os.kill(pid, signal.SIGCONT)
    assert wait_until(lambda: not alive(pid))
    log = (served / "steps" / LOG).read_text()
    # resumed, it had the first step's request waiting: its client was gone, so it did not run it (it would
    # have written what the first edit made over the second's), and it left, its socket being gone
    assert f"[{pid}] res_d: its client is gone (it ran the step itself): not run" in log
    assert f"[{pid}] leaving (socket removed) after 0 request(s)" in log
    assert (served / "steps" / "res_d.modinfo.h").read_bytes() == header
    # the server the second step started (waiting for the lock meanwhile) has served or left: nothing unseen
    assert wait_until(lambda: "another server keeps" in (served / "steps" / LOG).read_text()
                      or len(server_pids(served)) == 2)


def test_a_request_that_trickles_in_is_closed_after_the_request_timeout(native_step, trees):
    served, _ = trees
    pid = start_server(native_step, served)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(str(served / "steps" / SOCKET))
        start, closed = time.monotonic(), None
        while time.monotonic() - start < 8:
            try:
                client.sendall(b"b")  # a byte every half second: each within the timeout, the whole not
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - start
                break
            time.sleep(0.5)
    assert closed is not None and closed < 4, closed
    assert "a request not received: timed out" in (served / "steps" / LOG).read_text() and alive(pid)


def test_a_log_that_cannot_be_written_does_not_stop_the_server(native_step, trees):
    served, direct = trees
    args = (served / "steps" / ARGS).read_text().splitlines()
    with open("/dev/full", "w") as full:  # every write: ENOSPC, as on a full disk
        server = subprocess.Popen(args + ["serve", "steps"], cwd=served, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=full, start_new_session=True)
    try:
        assert wait_until(lambda: (served / "steps" / SOCKET).exists() or server.poll() is not None)
        for support in ("extended", "deprecated"):
            edit(trees, "res_d", source("res_d", support))
            answer, own = run_step(native_step, served, "res_d"), run_step(native_step, direct, "res_d", server=False)
            assert (answer.returncode, answer.stdout, answer.stderr) == (own.returncode, own.stdout, own.stderr)
            assert outputs(served) == outputs(direct)
        assert server.poll() is None and (served / "steps" / SOCKET).exists()
    finally:
        server.terminate()
        server.wait(10)


def test_code_first_imported_by_a_request_and_changed_after_it_is_not_run_again(native_step, tmp_path):
    # buildtool.handwritten is imported by the first request whose block region names AST_MODULE_INFO; a file
    # learnt at the check after that request must not be taken as the one that request imported.
    root = configure(tmp_path / "tree")
    package = tmp_path / "pkg" / "buildtool"
    shutil.copytree(REPO / "buildtool", package, ignore=shutil.ignore_patterns("__pycache__"))
    args = root / "steps" / ARGS
    args.write_text(args.read_text().replace(str(REPO / "buildtool"), str(package)))
    try:
        pid = start_server(native_step, root)
        edit([root], "res_d", "/* AST_MODULE_INFO */\n" + source("res_d", "extended"))
        assert run_step(native_step, root, "res_d").returncode == 0
        assert served_lines(root) == [("res_d", "0")]
        handwritten = package / "handwritten.py"
        handwritten.write_text(handwritten.read_text() + "\n# changed after its import\n")
        edit([root], "res_d", "/* AST_MODULE_INFO */\n" + source("res_d", "deprecated"))
        assert run_step(native_step, root, "res_d").returncode == 0
        assert served_lines(root) == [("res_d", "0")]
        assert_left_refusing(root, pid, handwritten)
    finally:
        stop_servers(root)


def test_a_stopped_server_with_a_full_backlog_does_not_hang_the_step(native_step, trees):
    # ninja -j100, or anything else of its user, can fill the listen backlog of a stopped server: connect()
    # then waits for room, and it must wait no longer than the client's limit either.
    served, direct = trees
    pid = start_server(native_step, served, direct)
    os.kill(pid, signal.SIGSTOP)
    fillers = []
    try:
        while True:
            filler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            filler.setblocking(False)
            try:
                filler.connect(str(served / "steps" / SOCKET))
            except BlockingIOError:  # full
                filler.close()
                break
            fillers.append(filler)
        assert len(fillers) > 8
        edit(trees, "res_d", source("res_d", "extended"))
        start = time.monotonic()
        answer = run_step(native_step, served, "res_d")
        elapsed = time.monotonic() - start
        own = run_step(native_step, direct, "res_d", server=False)
        assert (answer.returncode, answer.stdout, answer.stderr) == (own.returncode, own.stdout, own.stderr)
        assert outputs(served) == outputs(direct) and 9 < elapsed < 30, elapsed
        assert not (served / "steps" / SOCKET).exists()
    finally:
        for filler in fillers:
            filler.close()
        os.kill(pid, signal.SIGCONT)
    assert wait_until(lambda: not alive(pid))
    assert f"[{pid}] leaving (socket removed) after 0 request(s)" in (served / "steps" / LOG).read_text()


def test_a_server_out_of_descriptors_leaves_and_the_step_runs_its_command(native_step, trees):
    import resource

    served, direct = trees
    pid = start_server(native_step, served, direct)
    open_now = len(os.listdir(f"/proc/{pid}/fd"))
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (open_now, open_now))  # accept() then fails: EMFILE
    edit(trees, "res_d", source("res_d", "extended"))
    answer, own = run_step(native_step, served, "res_d"), run_step(native_step, direct, "res_d", server=False)
    assert (answer.returncode, answer.stdout, answer.stderr) == (own.returncode, own.stdout, own.stderr)
    assert outputs(served) == outputs(direct)
    assert wait_until(lambda: not alive(pid))
    assert f"[{pid}] leaving (cannot accept: Too many open files) after 0 request(s)" in \
        (served / "steps" / LOG).read_text()


def test_a_server_whose_interpreter_was_replaced_refuses_and_leaves(native_step, tmp_path):
    # An upgrade of Python replaces the executable the configured command names (and its standard library):
    # here a copy of it in a venv of its own, replaced by a rename as a package manager does.
    root = configure(tmp_path / "tree")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--copies", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    args = root / "steps" / ARGS
    args.write_text(str(python) + "\n" + "".join(line + "\n" for line in args.read_text().splitlines()[1:]))
    try:
        pid = start_server(native_step, root)
        edit([root], "res_d", source("res_d", "extended"))
        assert run_step(native_step, root, "res_d").returncode == 0
        assert served_lines(root) == [("res_d", "0")]
        shutil.copy2(python, tmp_path / "python.new")
        os.rename(tmp_path / "python.new", python)
        edit([root], "res_d", source("res_d", "deprecated"))
        answer = run_step(native_step, root, "res_d")
        assert answer.returncode == 0 and "AST_MODULE_SUPPORT_DEPRECATED" in \
            (root / "steps" / "res_d.modinfo.h").read_text()
        assert_left_refusing(root, pid, python)
    finally:
        stop_servers(root)


def test_only_a_module_step_starts_a_server(native_step, trees):
    # The tree and listing steps ask a server but never start one: a build nobody edits needs no Python for a
    # module (configuration wrote every output), so it leaves no process behind.
    served, direct = trees
    steps = served / "steps"
    tree = subprocess.run([str(native_step), "tree", "steps", "steps/scan-tree.json", "steps/tree.json", ""],
                          cwd=served, capture_output=True, text=True, timeout=120)
    listing = subprocess.run([str(native_step), "listing", "src", "steps/module-sources.txt", "steps/sources.d"],
                             cwd=served, capture_output=True, text=True, timeout=120)
    assert (tree.returncode, tree.stderr, listing.returncode, listing.stderr) == (0, "", 0, "")
    assert (steps / "module-sources.txt").read_text() == "".join(f"{name}.c\n" for name in NAMES)
    assert sorted(json.loads((steps / "tree.json").read_text())["modules"]) == list(NAMES)
    time.sleep(0.5)  # (a server started in the background would have written its log by now)
    assert not (steps / LOG).exists() and not (steps / SOCKET).exists()
    # once a module's step started one, they are its requests too
    pid = start_server(native_step, served, direct)
    edit([served], "res_b", source("res_b", "extended"))
    assert subprocess.run([str(native_step), "tree", "steps", "steps/scan-tree.json", "steps/tree.json", ""],
                          cwd=served, capture_output=True, timeout=120).returncode == 0
    assert ("tree", "0") in served_lines(served) and alive(pid)
    assert json.loads((steps / "tree.json").read_text())["modules"]["res_c"]["support_level"] == "extended"


def test_a_build_nobody_edits_starts_no_server(built_modules):
    # the session's meson build of modules/, built once and never edited
    assert (built_modules.modules_dir / "modinfo-step.args").exists()
    assert not (built_modules.modules_dir / LOG).exists() and not (built_modules.modules_dir / SOCKET).exists()

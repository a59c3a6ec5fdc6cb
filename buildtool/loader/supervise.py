"""A start-up that survives the module that kills the process.

Module code (constructors at ``dlopen``, ``load()``, ``unload()``, ``reload()``)
runs inside the loader's process: a module that calls ``exit()``, segfaults,
aborts or is killed takes the loader with it, and its report would be lost.
So ``buildtool load`` plans in its own process (no module code runs to plan),
then forks: the child loads and reports as usual, and writes a *journal* of
what it does into memory shared with the parent (an anonymous ``MAP_SHARED``
mapping, so an event costs a memory copy, not a system call, and survives the
child's death). The parent only waits. When the child ends without saying it
finished, the parent replays the journal into its own copy of the loader
(same plan, states as last journaled), names the module whose code was running
and how the process ended, marks start-up as stopped, writes the report the
child could not and exits 1.

Journal records: fields separated by US (0x1f), records by RS (0x1e), UTF-8;
the first 8 bytes hold the committed length, updated after each record, so
the parent never reads half a record. Records:

- ``O name`` the module is being opened (its constructors run), ``C name fn``
  its ``fn()`` is being called;
- ``S name status reason chain explicit refs`` a module's state after a change
  (``chain`` and ``refs`` comma-joined);
- ``E message`` an entry of ``loader.errors`` (its message);
- ``B line`` a runtime command begins, ``R json`` its result;
- ``X`` the child ended in Python's own error handling (the CLI reports it),
  ``W`` the report is written.

A journal that fills up (``SIZE``; about 100 bytes per module event) stops
recording and says so in the parent's report.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import signal
import struct
import sys

from buildtool.loader.runtime import FAILED, NOT_LOADED, RUNNING, Loader, StartupProblem, Status

SIZE = 8 << 20
_US, _RS = "\x1f", "\x1e"
_WHERE = {"O": "while opening it (its constructors run at dlopen)", "load": "in its load()",
          "unload": "in its unload()", "reload": "in its reload()",
          "dlclose": "while closing it (its destructors run at dlclose)"}


_COMMIT = struct.Struct("<Q")


class Journal:
    def __init__(self, size: int = SIZE) -> None:
        self._mm = mmap.mmap(-1, size)  # anonymous and MAP_SHARED: the parent sees every write
        self._mm.seek(8)
        self._limit = size - 1          # the last byte is the overflow flag
        self.full = False

    def _put(self, fields, spare: int = 16) -> None:
        # A few microseconds a record: it runs several times for every module loaded. ``spare``
        # bytes stay free for the final marks, which must get in even when the journal is full.
        body = _US.join(fields)
        if body.count(_US) != len(fields) - 1 or _RS in body:  # a separator inside a field (a hostile name)
            body = _US.join(f.replace(_US, " ").replace(_RS, " ") for f in fields)
        data = (body + _RS).encode()
        mm = self._mm
        end = mm.tell() + len(data)
        if end > self._limit - spare:
            if not self.full:
                self.full = True
                mm[self._limit] = 1  # read by the parent
            return
        mm.write(data)
        _COMMIT.pack_into(mm, 0, end)  # commit: the record is complete

    def opening(self, name: str) -> None:
        self._put(("O", name))

    def calling(self, name: str, function: str) -> None:
        self._put(("C", name, function))

    def state(self, st) -> None:
        self._put(("S", st.name, st.status, st.reason, ",".join(st.chain), "1" if st.explicit else "0",
                   ",".join(st.refs)))

    def error(self, message: str) -> None:
        self._put(("E", message))

    def command(self, line: str) -> None:
        self._put(("B", line))

    def result(self, result: dict) -> None:
        self._put(("R", json.dumps(result)))

    def mark(self, what: str) -> None:
        self._put((what,), spare=0)

    def records(self) -> list[list[str]]:
        (end,) = struct.unpack_from("<Q", self._mm, 0)
        text = self._mm[8:end].decode("utf-8", "replace")
        return [r.split(_US) for r in text.split(_RS) if r]

    def overflowed(self) -> bool:
        return self._mm[self._limit] == 1


def describe_end(status: int) -> str:
    """How a child ended, for people: 'killed by SIGSEGV (exit status 139)', 'exit(3) was called'."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"the process was killed by {name} (exit status {128 + sig})"
    return f"the process exited with status {os.WEXITSTATUS(status)} (exit() was called)"


def supervise(loader: Loader, child) -> tuple[int, dict | None, str | None]:
    """Run ``child(loader)`` (loads, writes its output, returns an exit code) in a forked child with a
    journal. The child exits when ``child`` returns (or goes back through the CLI's error handling
    when it raises); the parent gets:

    nothing when the child finished (its output is written): the parent exits with the child's status
    at once; ``(code, None, None)`` when the child ended in Python's error handling; ``(1, report, message)``
    when it died: ``loader`` holds the states replayed from the journal, ``report`` is the load report
    rebuilt from them, and ``message`` one line for stderr.
    """
    journal = Journal()
    loader.journal = journal
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            code = child(loader)
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            journal.mark("X")
            raise
        journal.mark("W")
        # Straight to libc's exit(): the modules' destructors and C atexit handlers run as at any exit,
        # but Python's own teardown does not. In a forked child it would touch (so copy) every page
        # shared with the parent: measured, that teardown was most of the supervision's cost.
        ctypes.CDLL(None).exit(code)
    loader.journal = None
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the child, which reports
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGINT, previous)
    records = journal.records()
    marks = {r[0] for r in records if len(r) == 1}
    if "X" in marks:
        return os.waitstatus_to_exitcode(status), None, None
    if "W" in marks:
        if os.WIFEXITED(status):
            # The child did the work and wrote the output; nothing of this process needs tearing down.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(os.WEXITSTATUS(status))
        # The report is out; something (a module's destructor at exit?) killed the process after.
        return 1, None, f"after the report was written, {describe_end(status)}"
    report, message = replay(loader, records, describe_end(status), journal.overflowed())
    return 1, report, message


def replay(loader: Loader, records: list[list[str]], how: str, overflowed: bool) -> tuple[dict, str]:
    """Rebuild the loader's states from the journal and blame the module whose code was running."""
    from buildtool.loader.report import build_report

    running: tuple[str, str] | None = None   # (module, where) of the code that was running
    command: str | None = None
    results: list[dict] = []
    for record in records:
        kind = record[0]
        if kind == "O":
            running = (record[1], _WHERE["O"])
        elif kind == "C":
            running = (record[1], _WHERE.get(record[2], f"in its {record[2]}()"))
        elif kind == "S":
            name, status, reason, chain, explicit, refs = record[1:7]
            st = loader.state(name)
            st.status, st.reason = Status(status), reason
            st.chain = chain.split(",") if chain else []
            st.explicit = explicit == "1"
            st.refs = refs.split(",") if refs else []
            if status == RUNNING and name not in loader.order:
                loader.order.append(name)
            elif status != RUNNING and name in loader.order:
                loader.order.remove(name)
            if running and running[0] == name:
                running = None
        elif kind == "E":
            loader.errors.append(StartupProblem(record[1]))
        elif kind == "B":
            command = record[1]
        elif kind == "R":
            results.append(json.loads(record[1]))
            command = None
    for st in loader.states.values():
        st.use_count = 0
    for name in loader.order:
        for dep in loader.states[name].refs:
            loader.state(dep).use_count += 1
    if running:
        module, where = running
        reason = f"{where}, {how}"
        st = loader.state(module)
        st.status, st.reason, st.chain = FAILED, reason, [module]
        if module in loader.order:
            loader.order.remove(module)
        message = f"start-up stopped: {module}: {reason}" if command is None else f"{module}: {reason}"
    else:
        message = f"start-up stopped: {how}, while no module code was running"
    if overflowed:
        message += " (the journal filled up: the last states are not known)"
    loader.errors.append(StartupProblem(message))
    if command is not None:
        results.append({"command": command, "ok": False, "message": message,
                        "use_counts": loader.use_counts(), "mapped": []})
    elif loader.plan is not None:
        for name in loader.plan.order:
            st = loader.state(name)
            if st.status == NOT_LOADED and not st.reason:
                st.reason = "start-up stopped before it was attempted"
    loader.stopped = True
    return build_report(loader, commands=results), message

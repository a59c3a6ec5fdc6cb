"""The one base class of buildtool's errors, and the exit status each carries.

Like click's ``ClickException``: an error that reaches the command line
(``buildtool.cli``) is printed as ``render()`` says and the process exits with
its ``exit_status``, so no command decides a status by testing a message or a
diagnostic code. The statuses are the CLI's (``buildtool/cli.py``): 1 a
command's findings or a failed start-up, 2 usage, input or I/O error.

Nothing here imports the rest of buildtool: every layer may raise these.
"""

from __future__ import annotations

from typing import Iterable

EXIT_FINDINGS = 1
EXIT_INPUT = 2

# The diagnostic code of a path that cannot be read (``buildtool.check.codes`` describes it).
IO_ERROR = "io-error"


class BuildtoolError(Exception):
    """Any error buildtool raises on purpose; ``exit_status`` is the command's when it stops one."""

    exit_status = EXIT_INPUT

    def render(self) -> str:
        """What the command line prints for it (stderr); empty when it was said already."""
        return str(self)


class InputError(BuildtoolError):
    """Bad input that stops a command (exit 2): a catalogue or config that cannot be read."""

    def __init__(self, path: str, line: int, column: int, message: str):
        super().__init__(f"{path}:{line}:{column}: error: {message}")
        self.path, self.line, self.column, self.message = path, line, column, message


class UnreadableInput(BuildtoolError):
    """A path the command had to read and could not (``io-error`` diagnostics): what the command
    would write would miss it, so it replaces nothing (exit 2). Findings in what was read are exit 1."""

    def __init__(self, shown: Iterable = ()) -> None:
        self.shown = list(shown)  # the diagnostics to print on the way out (none: printed already)
        super().__init__("\n".join(d.render() for d in self.shown))

    @staticmethod
    def among(diagnostics: Iterable) -> list:
        """The diagnostics that name a path that cannot be read."""
        return [d for d in diagnostics if d.code == IO_ERROR]

    @classmethod
    def stop_if_found(cls, diagnostics: Iterable, shown: Iterable = ()) -> None:
        """Raise when ``diagnostics`` name an unreadable path, printing ``shown`` on the way out."""
        if cls.among(diagnostics):
            raise cls(shown)


class RecordError(BuildtoolError):
    """A file that is not a module this buildtool can read: ``path`` and ``reason`` (why not)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


class ChangedMeanwhile(BuildtoolError):
    """The file no longer holds what was read from it: someone else wrote it meanwhile (left as it is)."""

    exit_status = EXIT_FINDINGS


class MetaError(BuildtoolError):
    """The file is not a module the loader can read (not ELF, no record, other ABI); the message says why."""


class AbiError(BuildtoolError):
    """The module's info struct has another layout than the loader's mirror."""


class NotProvided(BuildtoolError):
    """No module provides the name; the message says so, with a did-you-mean or the unbuilt module."""

    def __init__(self, message: str, code: str = "loader-provider-unknown", module: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.module = module  # for a name whose module was not built: that module


class StartupStopped(BuildtoolError):
    """FAILURE from a module, or a non-success from a required one: start-up stops (exit 1)."""

    exit_status = EXIT_FINDINGS


class CommandError(BuildtoolError):
    """A runtime loader command (load, unload, reload, load-provider, refresh) that was refused.

    What it did before it stopped: ``unloaded``, ``loaded`` (None: nothing of that kind to say) and,
    for ``refresh``, its whole outcome (``buildtool.loader.ondemand``)."""

    exit_status = EXIT_FINDINGS

    def __init__(self, message: str, *, unloaded: list[str] | None = None, loaded: list[str] | None = None,
                 refresh: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.unloaded, self.loaded, self.refresh = unloaded, loaded, refresh

    def to_json(self) -> dict:
        """The command's result keys (the load report's ``commands``), in the report's order."""
        out: dict = {"ok": False, "message": self.message}
        for key in ("unloaded", "loaded", "refresh"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

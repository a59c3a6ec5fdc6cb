"""The real Asterisk snapshot for tests: extract, configure, build, boot the real binary.

The snapshot is ``shared/asterisk/asterisk-*.tar.xz`` beside the repository
(never copied into it). Building takes minutes, so a test session builds the
stock tree once, copies it (a configured tree holds no absolute path that
matters: ``ASTTOPDIR`` is the make-time directory) and lets ``make`` rebuild
only what injection changes in the copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "asterisk"
CONFIGURE = ["./configure", "--without-pjproject-bundled", "--without-pjproject"]
MODULE_DIRS = ("addons", "apps", "bridges", "cdr", "cel", "channels", "codecs", "formats", "funcs", "pbx", "res",
               "tests")


def tarballs() -> list[Path]:
    return sorted(SHARED.glob("asterisk-*.tar.*")) if SHARED.is_dir() else []


def tarball() -> Path | None:
    found = tarballs()
    return found[-1] if found else None


def skip_reason() -> str | None:
    if tarball() is None:
        return (f"no Asterisk snapshot: {SHARED}/asterisk-*.tar.* is absent (it sits beside the repository in CI; "
                "a fresh clone alone has none)")
    return None


def extract(into: Path, archive_path: Path | None = None) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive_path or tarball()) as archive:
        archive.extractall(into, filter="tar")
    (root,) = [p for p in into.iterdir() if p.is_dir() and p.name.startswith("asterisk-")]
    return root


def configure(root: Path, log: Path) -> None:
    """./configure and ``make menuselect.makeopts`` (which writes menuselect-tree and builds menuselect)."""
    run(CONFIGURE, root, log, 600)
    run(["make", "menuselect.makeopts"], root, log, 600)


def run(cmd, cwd, log: Path, timeout: int, env=None) -> None:
    with open(log, "ab") as out:
        proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=env)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise AssertionError(f"{cmd} failed in {cwd} (exit {proc.returncode}):\n{tail}")


def build(root: Path, log: Path) -> None:
    run(["make", f"-j{os.cpu_count() or 2}"], root, log, 1800)


def built_modules(root: Path) -> list[Path]:
    return sorted(p for d in MODULE_DIRS for p in (root / d).glob("*.so"))


def _conf(root: Path, run_dir: Path) -> Path:
    dirs = {name: run_dir / name for name in ("etc", "modules", "varlib", "db", "keys", "data", "agi", "spool",
                                              "run", "log")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    for module in built_modules(root):
        shutil.copy2(module, dirs["modules"] / module.name)
    for sample in (root / "configs" / "samples").glob("*.conf.sample"):
        shutil.copy2(sample, dirs["etc"] / sample.name.removesuffix(".sample"))
    (dirs["data"] / "documentation").mkdir(exist_ok=True)
    shutil.copy2(root / "doc" / "core-en_US.xml", dirs["data"] / "documentation" / "core-en_US.xml")
    conf = run_dir / "asterisk.conf"
    conf.write_text(
        "[directories]\n"
        f"astetcdir => {dirs['etc']}\nastmoddir => {dirs['modules']}\nastvarlibdir => {dirs['varlib']}\n"
        f"astdbdir => {dirs['db']}\nastkeydir => {dirs['keys']}\nastdatadir => {dirs['data']}\n"
        f"astagidir => {dirs['agi']}\nastspooldir => {dirs['spool']}\nastrundir => {dirs['run']}\n"
        f"astlogdir => {dirs['log']}\n"
        "[options]\nverbose = 4\n")
    return conf


class Booted:
    """A real asterisk started from a build tree; ``log`` holds its console output."""

    def __init__(self, root: Path, run_dir: Path):
        self.root, self.run_dir = root, run_dir
        self.conf = _conf(root, run_dir)
        self.env = dict(os.environ, LD_LIBRARY_PATH=str(root / "main"))
        self.log_path = run_dir / "console.log"
        self.proc = None

    def cli(self, command: str, timeout: int = 60) -> str:
        proc = subprocess.run([str(self.root / "main" / "asterisk"), "-C", str(self.conf), "-rx", command],
                              env=self.env, capture_output=True, text=True, timeout=timeout)
        return proc.stdout

    def __enter__(self) -> "Booted":
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(self.root / "main" / "asterisk"), "-C", str(self.conf), "-f", "-n",
                                      "-vvvv"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"asterisk exited {self.proc.returncode}:\n{self.log()[-3000:]}")
            if "Asterisk Ready" in self.log() or "fully booted" in self.cli("core waitfullybooted", 30):
                return self
            time.sleep(0.5)
        raise AssertionError(f"asterisk did not finish booting in 180 s:\n{self.log()[-3000:]}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.cli("core stop now", 30)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running_modules(self) -> set[str]:
        """Module names from ``module show``, without the '.so'."""
        out = self.cli("module show")
        return {m.group(1) for m in re.finditer(r"^(\S+)\.so\s", out, re.M)}

    def load_order(self) -> list[str]:
        return re.findall(r"Loading (\S+)\.so\.", self.log())

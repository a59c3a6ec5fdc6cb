"""Mutation testing of the core modules, on demand (never in CI): ``python mutation/run.py [TARGET]...``.

Needs the ``mutation`` extra (``pip install -e '.[mutation]'``: mutmut). For each target (a core module
and the fast, in-process test files that exercise it) a scratch copy of the project is made under
``mutation/.work/TARGET`` with a ``[tool.mutmut]`` section limited to that module and those tests, and
``mutmut run`` mutates it there; the worktree itself is never modified. mutmut runs every mutant
against the tests that called the mutated function in-process (it records that in a first, clean
run), forking from a process that has already imported pytest, so a module takes minutes, not hours.
Tests that reach the module only through a child process (``python -m buildtool ...``) run the
mutated copy too (PYTHONPATH points there), but mutmut cannot see that they call it, so it never
selects them: the score counts what the in-process tests prove.

Prints one line per target (killed / total, score) and writes ``mutation/results/TARGET.json``
(every mutant's status, the survivors' diffs). The judged survivors are in mutation/SURVIVORS.md.
After adding tests, ``--again`` reruns only each target's survivors (and any mutant a stopped run did
not reach) in the previous scratch copy, with the new tests; the run time column then adds up both runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
# the console script: "python -m mutmut" would load mutmut twice (as __main__ and as mutmut.__main__)
MUTMUT = str(Path(sys.executable).with_name("mutmut"))

# target -> (module, the fast test files that exercise it in-process)
TARGETS: dict[str, tuple[str, list[str]]] = {
    # the loader's and the meson plan's orders are graphs.topological_order: their tests exercise it too
    "graphs": ("buildtool/graphs.py", ["tests/test_graphs.py", "tests/test_loader_plan.py", "tests/test_build_plan.py"]),
    "plan": ("buildtool/loader/plan.py",
             ["tests/test_loader_plan.py", "tests/test_loader_units.py", "tests/test_graphs.py",
              "tests/test_loader_inprocess.py"]),
    # the plan cache's tests exercise load_plan's cache branch (test_loader_inprocess plans without a cache)
    "runtime": ("buildtool/loader/runtime.py", ["tests/test_loader_inprocess.py", "tests/test_loader_plancache.py",
                                                "tests/test_loader_plancache_listing.py"]),
    # the plan cache on real modules: every input that changes, damaged and crafted files (the one test that runs
    # the CLI on a crafted file reaches it in a child process only), and the directory's listing skipped
    "plancache": ("buildtool/loader/plancache.py", ["tests/test_loader_plancache.py",
                                                    "tests/test_loader_plancache_listing.py"]),
    "resolve": ("buildtool/resolve.py", ["tests/test_resolve.py", "tests/test_scan.py", "tests/test_catalog_scan.py",
                                         "tests/test_graphs.py"]),
    "drift": ("buildtool/check/handwritten_drift.py", ["tests/test_check_handwritten.py"]),
    # the build's per-module step fills the generator's skeleton (test_modstep calls it in-process)
    "generate": ("buildtool/generate.py", ["tests/test_generate.py", "tests/test_modstep.py"]),
    "modstep": ("buildtool/modstep.py", ["tests/test_modstep.py"]),
    "elfinfo": ("buildtool/elfinfo.py", ["tests/test_records.py"]),
    # the Asterisk integration: synthetic roots checked against real make/awk, no snapshot needed
    "ast_root": ("buildtool/asterisk/root.py", ["tests/test_asterisk_root_reader.py", "tests/test_asterisk_makefiles.py"]),
    "ast_moddir": ("buildtool/asterisk/moddir.py",
                   ["tests/test_asterisk_root_reader.py", "tests/test_asterisk_makefiles.py"]),
    "ast_makefile": ("buildtool/asterisk/makefile.py",
                     ["tests/test_asterisk_make_reader.py", "tests/test_asterisk_root_reader.py",
                      "tests/test_asterisk_makefiles.py"]),
    "ast_recipe": ("buildtool/asterisk/recipe.py", ["tests/test_asterisk_recipe.py", "tests/test_asterisk_makefiles.py"]),
    "ast_awk": ("buildtool/asterisk/awk.py", ["tests/test_asterisk_awk.py", "tests/test_asterisk_makefiles.py"]),
    "ast_moduleh": ("buildtool/asterisk/moduleh.py", ["tests/test_asterisk_moduleh.py", "tests/test_asterisk_setup_units.py"]),
    "ast_setup": ("buildtool/asterisk/setup.py", ["tests/test_asterisk_setup_root.py", "tests/test_asterisk_setup_units.py"]),
    "ast_makeopts": ("buildtool/asterisk/makeopts.py", ["tests/test_asterisk_makeopts.py"]),
}
COPY = ["buildtool", "tests", "include", "modules", "core", "tools", "meson.build", "meson.options"]
# mutmut's exit codes (mutmut.stats.status_by_exit_code) that are not a detection; any other code is: a
# failing test (1), a timeout, a crash of the test process (a mutant that makes a module call a missing
# function kills it, exit 127, as the process-level tests expect)
NOT_KILLED = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not checked"}
KILLED_NAMES = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
                255: "timeout", -11: "segfault", -9: "segfault"}

SHOW = """
import json, sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
out = {}
for key in sys.argv[1:]:
    out[key] = get_diff_for_mutant(key, path=find_mutant(key).path)
print(json.dumps(out))
"""


def prepare(name: str) -> Path:
    module, tests = TARGETS[name]
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for item in COPY:
        src = ROOT / item
        # the package goes under src/: mutmut puts mutants/src first on sys.path, and no unmutated
        # copy sits in the current directory to shadow it
        dest = work / "src" / item if item == "buildtool" else work / item
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        else:
            shutil.copy2(src, dest)
    # Child processes (python -m buildtool) must import the mutated copy too, not the installed package.
    # Set here, for the children only: PYTHONPATH in mutmut's own environment stops its call recording.
    # While mutmut records which tests call what ("stats"), children run the original code: they cannot
    # record anything, and mutmut's recorder would look for its configuration in their working directory.
    (work / "conftest.py").write_text(
        "import os\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "os.environ['PYTHONPATH'] = os.pathsep.join([os.path.join(here, 'childsite'), os.path.join(here, 'src')])\n")
    (work / "childsite").mkdir()
    (work / "childsite" / "sitecustomize.py").write_text(
        "import os\n"
        "if os.environ.get('MUTANT_UNDER_TEST') in ('stats', 'list_all_tests'):\n"
        "    os.environ['MUTANT_UNDER_TEST'] = ''\n")
    quoted = ", ".join(json.dumps(t) for t in tests)
    (work / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["src/buildtool"]\n'
        f"only_mutate = [{json.dumps('src/' + module)}]\n"
        f'also_copy = ["include", "modules", "core", "tools", "meson.build", "meson.options", "conftest.py", "childsite"]\n'
        f"pytest_add_cli_args_test_selection = [{quoted}]\n"
        'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-x"]\n'
        "use_git_change_detection = false\n"
        "timeout_multiplier = 10.0\n"
        "\n[tool.pytest.ini_options]\n"
        'testpaths = ["tests"]\n')
    return work


def resume(name: str) -> Path | None:
    """The previous run's scratch copy, its tests refreshed and its survivors (and unrun mutants) due again;
    None when there is none or the module changed since (then only a whole run is right)."""
    module, _ = TARGETS[name]
    work = WORK / name
    meta = work / "mutants" / "src" / (module + ".meta")
    if not meta.exists() or (work / "src" / module).read_bytes() != (ROOT / module).read_bytes():
        return None
    for tests in (work / "tests", work / "mutants" / "tests"):
        shutil.rmtree(tests, ignore_errors=True)
        shutil.copytree(ROOT / "tests", tests, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    data = json.loads(meta.read_text())
    data["exit_code_by_key"] = {key: (None if code in NOT_KILLED else code)
                                for key, code in data["exit_code_by_key"].items()}
    meta.write_text(json.dumps(data))
    return work


def isolated(command: list[str]) -> list[str]:
    """``command`` in a PID namespace of its own, where the system allows one.

    mutmut stops a mutant that runs too long by sending SIGXCPU to the pid it started; when that child
    has already exited, the pid may belong to an unrelated process by then (seen here: an assembler and a
    ``sleep`` of a concurrent test run were killed). In a fresh PID namespace every pid mutmut can name
    is one of its own, so a mutation run can share the machine with builds and tests.

    mutmut is not the namespace's first process: that one adopts every orphan (a daemon a test's step
    starts, such as the step server), and mutmut, waiting for any child, would take an orphan's end for
    one of its workers' and stop (KeyError in its worker pool). A shell is the first process instead.
    """
    unshare = shutil.which("unshare")
    probe = [unshare, "--pid", "--fork", "--mount-proc", "--kill-child", "true"] if unshare else None
    if probe and subprocess.run(probe, capture_output=True).returncode == 0:
        # (`; exit $?`: a shell given one command may exec it and so stop being the first process)
        return probe[:-1] + ["sh", "-c", '"$@"; exit $?', "sh", *command]
    print("mutation/run.py: no PID namespace here (unshare refused); mutmut's timeout signals may reach "
          "other processes: run nothing else meanwhile", file=sys.stderr)
    return command


def run(name: str, jobs: int, again: bool = False, collect: bool = False) -> dict:
    module, tests = TARGETS[name]
    if collect:
        return results(name, WORK / name, 0.0, 0)
    work = (again and resume(name)) or prepare(name)
    previous = json.loads((RESULTS / f"{name}.json").read_text()).get("seconds", 0) \
        if again and work is not None and (RESULTS / f"{name}.json").exists() and (work / "mutmut-run.log").exists() else 0
    env = dict(os.environ)
    env.pop("MUTANT_UNDER_TEST", None)
    started = time.monotonic()
    done = subprocess.run(isolated([MUTMUT, "run", "--max-children", str(jobs)]), cwd=work, env=env,
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started + previous
    (work / "mutmut-run.log").write_text(done.stdout + done.stderr)
    return results(name, work, elapsed, done, full=True)


def results(name: str, work: Path, elapsed: float, done, full: bool = False) -> dict:
    """The target's results from mutmut's data in ``work``; without ``full`` (``--collect``, a run that was
    stopped) the mutants not run yet are counted apart, not in the score."""
    module, tests = TARGETS[name]
    env = dict(os.environ)
    env.pop("MUTANT_UNDER_TEST", None)
    log = (done.stdout + done.stderr)[-3000:] if full else ""
    meta = work / "mutants" / "src" / (module + ".meta")
    if not meta.exists():
        raise SystemExit(f"{name}: mutmut wrote no results (see {work / 'mutmut-run.log'})\n" + log)
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    not_run = 0 if full else sum(code is None for code in codes.values())
    if not full:
        codes = {key: code for key, code in codes.items() if code is not None}
    if codes and all(code is None for code in codes.values()):
        raise SystemExit(f"{name}: mutmut ran no mutant (see {work / 'mutmut-run.log'})\n" + log)
    statuses = {key: NOT_KILLED.get(code) or KILLED_NAMES.get(code, f"killed (exit {code})")
                for key, code in sorted(codes.items())}
    survivors = [key for key, code in sorted(codes.items()) if code in NOT_KILLED]
    # every survivor's diff, in one process (what `mutmut show KEY` prints)
    shown = subprocess.run([sys.executable, "-c", SHOW, *survivors], cwd=work, env=env, capture_output=True,
                           text=True)
    if shown.returncode:
        raise SystemExit(f"{name}: could not show the survivors:\n{shown.stderr[-3000:]}")
    diffs = json.loads(shown.stdout) if survivors else {}
    killed = len(statuses) - len(survivors)
    result = {"target": name, "module": module, "tests": tests, "total": len(statuses), "killed": killed,
              "score": round(100.0 * killed / len(statuses), 1) if statuses else None,
              "seconds": round(elapsed) if full else None, "survivors": {k: {"status": statuses[k], "diff": diffs[k]}
                                                       for k in survivors}}
    if not_run:
        result["not_run"] = not_run
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", choices=[[], *TARGETS], metavar="TARGET",
                        help=f"one or more of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--again", action="store_true",
                        help="after adding tests: keep each target's previous run, run its survivors and the mutants "
                             "it did not reach; a target whose module changed is run whole")
    parser.add_argument("--collect", action="store_true",
                        help="run nothing: write the results of each target's last (possibly stopped) run")
    args = parser.parse_args()
    total = killed = 0
    for name in args.targets or list(TARGETS):
        result = run(name, args.jobs, args.again, args.collect)
        total += result["total"]
        killed += result["killed"]
        print(f"{name:10s} {result['module']:40s} {result['killed']:4d}/{result['total']:4d} killed "
              f"{result['score']:5.1f}%  ({result['seconds']} s)"
              + (f"  {result['not_run']} not run yet" if result.get("not_run") else ""), flush=True)
    if total:
        print(f"{'all':10s} {'':40s} {killed:4d}/{total:4d} killed {100.0 * killed / total:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())

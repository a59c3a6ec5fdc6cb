"""Real modules for the loader tests: C sources with MODULEINFO blocks, headers from the real
generator (``buildtool generate``; ``buildtool cflags --tree`` for the cycle, which the generator
rightly refuses in one tree), built with gcc once per test session, loaded in child processes.

Every module calls ``ast_test_log()`` from a small core library (``libtestcore.so``, passed with
``--preload-library``), which appends "<event> <module>" lines to $LOADER_TEST_LOG: the C side's own
record of what ran, in which order.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"
PY = sys.executable

CORE_C = r"""
#include <stdio.h>
#include <stdlib.h>
void ast_test_log(const char *what, const char *name)
{
	const char *path = getenv("LOADER_TEST_LOG");
	FILE *f;
	if (!path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "%s %s\n", what, name);
	fclose(f);
}
"""


def spec(requires=(), optional=(), provides=(), uses=(), optional_uses=(), enhances=(), conflicts=(),
         result="AST_MODULE_LOAD_SUCCESS", flags="AST_MODFLAG_DEFAULT", extra="", fields="", load_extra="",
         ctor=False, version_script=False, support="core", description=None, own_library=False):
    return dict(locals())


# name -> spec. Names are unique over the whole suite; each test copies the ones it needs.
SPECS: dict[str, dict] = {
    # implied noload (autoload = yes)
    "inl_base": spec(), "inl_mid": spec(requires=["inl_base"]), "inl_top": spec(requires=["inl_mid"]),
    "inl_opt": spec(optional=["inl_base"]), "inl_free": spec(),
    # implied load (autoload = no)
    "ild_base": spec(), "ild_mid": spec(requires=["ild_base"]), "ild_top": spec(requires=["ild_mid"]),
    "ild_other": spec(), "ild_opt": spec(), "ild_user": spec(optional=["ild_opt"]),
    # preload
    "pre_a": spec(), "pre_y": spec(), "pre_z": spec(requires=["pre_y"]), "pre_b": spec(requires=["pre_a"]),
    # decline propagation
    "dc_base": spec(result="AST_MODULE_LOAD_DECLINE"), "dc_mid": spec(requires=["dc_base"]),
    "dc_top": spec(requires=["dc_mid"]), "dc_ok": spec(), "dc_optuser": spec(optional=["dc_base"]),
    # failure stops start-up
    "fl_a": spec(), "fl_bad": spec(result="AST_MODULE_LOAD_FAILURE"), "fl_z": spec(),
    # require
    "rq_ok": spec(), "rq_decl": spec(result="AST_MODULE_LOAD_DECLINE"),
    # use counts, runtime load/unload/reload
    "uc_base": spec(), "uc_opt": spec(), "uc_a": spec(requires=["uc_base"], optional=["uc_opt"]),
    "uc_b": spec(requires=["uc_base"]), "uc_c": spec(requires=["uc_a"]),
    "rt_dep": spec(), "rt_exp": spec(), "rt_top": spec(requires=["rt_dep", "rt_exp"]),
    "rt_noreload": spec(fields=", .reload = 0"),
    # the runtime's other answers: no load function, a load() result no enum names, unload()/reload() refusing
    "rt_noload": spec(fields=", .load = 0"),
    "rt_odd": spec(result="7"),
    "rt_stuck": spec(requires=["rt_dep"], extra="static int refuse(void) { return 3; }",
                     fields=", .unload = refuse, .reload = refuse"),
    # interfaces
    "if_a_user": spec(uses=["if_codec"]), "if_b_optuser": spec(optional_uses=["if_codec"]),
    "if_p1": spec(provides=["if_codec"]), "if_p2": spec(provides=["if_codec"]),
    "if_orphan": spec(uses=["if_nobody"]), "if_lonely": spec(provides=["if_nobody"]),
    "if_both": spec(requires=["if_p1"], uses=["if_codec"]),  # one provider, required by name too
    # enhances (res_fax_spandsp enhances res_fax)
    "enh_fax": spec(), "enh_spandsp": spec(requires=["enh_fax"], enhances=["enh_fax"]),
    "enh_app": spec(requires=["enh_fax"]),
    # optional ordering
    "op_a_user": spec(optional=["op_z_dep"]), "op_z_dep": spec(),
    # conflicts
    "cf_a": spec(conflicts=["cf_b"]), "cf_b": spec(),
    # symbols
    "sym_missing": spec(extra="void ast_no_such_function(void);",
                        load_extra="ast_no_such_function();"),
    "sym_dependant": spec(requires=["sym_missing"]),
    "sym_two": spec(extra="void ast_no_such_b(void); void ast_no_such_a(void);",
                    load_extra="ast_no_such_b(); ast_no_such_a();"),
    # a function found only in the module's own DT_NEEDED library (libownlib.so), never in the global scope
    "own_user": spec(extra="int own_lib_fn(void);", load_extra="if (own_lib_fn() != 5) return -1;", own_library=True),
    "gl_lib": spec(flags="AST_MODFLAG_GLOBAL_SYMBOLS", extra="int gl_lib_fn(void) { return 7; }"),
    "gl_user": spec(requires=["gl_lib"], extra="int gl_lib_fn(void);", load_extra="if (gl_lib_fn() != 7) return -1;"),
    "ngl_lib": spec(extra="int ngl_lib_fn(void) { return 7; }"),
    "ngl_user": spec(requires=["ngl_lib"], extra="int ngl_lib_fn(void);",
                     load_extra="if (ngl_lib_fn() != 7) return -1;"),
    # address of a function of another module, taken in data
    "fp_lib": spec(extra="int fp_lib_fn(void) { return 1; }"),
    "fp_taker": spec(extra="int fp_lib_fn(void); int (*fp_ptr)(void) = fp_lib_fn;",
                     load_extra="if (!fp_ptr) return -1;"),
    "fpg_lib": spec(flags="AST_MODFLAG_GLOBAL_SYMBOLS", extra="int fpg_lib_fn(void) { return 1; }"),
    "fpg_taker": spec(requires=["fpg_lib"], extra="int fpg_lib_fn(void); int (*fpg_ptr)(void) = fpg_lib_fn;",
                      load_extra="if (fpg_ptr() != 1) return -1;"),
    # ABI and files
    "abi_version": spec(fields=", .abi_version = 2"),
    "abi_size": spec(fields=", .struct_size = 16"),
    "nosym": spec(version_script=True),
    "ctor_mod": spec(ctor=True),
    "gen_a": spec(), "gen_b": spec(requires=["gen_a"]),
    # modules whose code ends the process (the supervised start-up reports them)
    "kl_base": spec(), "kl_zlast": spec(),
    "kl_exit0": spec(requires=["kl_base"], extra="#include <stdlib.h>", load_extra="exit(0);"),
    "kl_exit3": spec(requires=["kl_base"], extra="#include <stdlib.h>", load_extra="exit(3);"),
    "kl_segv": spec(requires=["kl_base"], extra="#include <signal.h>", load_extra="raise(SIGSEGV);"),
    "kl_abort": spec(requires=["kl_base"], extra="#include <stdlib.h>", load_extra="abort();"),
    "kl_kill": spec(requires=["kl_base"], extra="#include <signal.h>", load_extra="raise(SIGKILL);"),
    "kl_ctor": spec(requires=["kl_base"], extra="#include <signal.h>\n"
                    "__attribute__((constructor)) static void boom(void) { raise(SIGSEGV); }"),
    "kl_unload": spec(extra="#include <stdlib.h>\nstatic int die_unload(void) { exit(5); }",
                      fields=", .unload = die_unload"),
}

# The cycle: each built against a tree where the other one has no dependencies (two builds that
# disagree - exactly how a cycle can reach a modules directory).
CYCLE = {"cy_a": "cy_b", "cy_b": "cy_c", "cy_c": "cy_a"}


def _block(s: dict) -> str:
    tags = [f'\t<depend type="module">{n}</depend>' for n in s["requires"]]
    tags += [f'\t<use type="module">{n}</use>' for n in s["optional"]]
    tags += [f"\t<provide>{n}</provide>" for n in s["provides"]]
    tags += [f'\t<depend type="interface">{n}</depend>' for n in s["uses"]]
    tags += [f'\t<use type="interface">{n}</use>' for n in s["optional_uses"]]
    tags += [f"\t<enhance>{n}</enhance>" for n in s["enhances"]]
    tags += [f'\t<conflict type="module">{n}</conflict>' for n in s["conflicts"]]
    tags.append(f"\t<support_level>{s['support']}</support_level>")
    return "/*** MODULEINFO\n" + "\n".join(tags) + "\n ***/\n"


def source(name: str, s: dict) -> str:
    ctor = (f'__attribute__((constructor)) static void ctor(void) {{ ast_test_log("ctor", "{name}"); }}\n'
            if s["ctor"] else "")
    desc = s["description"] or f"Test module {name}"
    return (_block(s) + '#include "asterisk/module.h"\n'
            "void ast_test_log(const char *what, const char *name);\n"
            f"{s['extra']}\n{ctor}"
            # The module's own ast_module_info pointer names it: logging through it proves that it
            # binds to this module's struct even after a GLOBAL_SYMBOLS module exported the same name.
            f"static int load_module(void) {{ {s['load_extra']} ast_test_log(\"load\", ast_module_info->name); "
            f"return {s['result']}; }}\n"
            "static int unload_module(void) { ast_test_log(\"unload\", ast_module_info->name); return 0; }\n"
            "static int reload_module(void) { ast_test_log(\"reload\", ast_module_info->name); return 0; }\n"
            f"AST_MODULE_INFO(ASTERISK_GPL_KEY, {s['flags']}, \"{desc}\", .load = load_module, "
            f".unload = unload_module, .reload = reload_module{s['fields']});\n")


def _gcc(args: list[str]) -> None:
    done = subprocess.run(["gcc", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"gcc {' '.join(args)}\n{done.stderr}")


def _bt(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "buildtool", *args], capture_output=True, text=True, cwd=ROOT, **kw)


def compile_module(src: Path, name: str, gen: Path, out: Path, extra: list[str] = ()) -> Path:
    so = out / f"{name}.so"
    _gcc(["-shared", "-fPIC", "-O1", f"-I{INCLUDE}", f"-I{gen}", f'-DAST_MODULE="{name}"',
          f'-DAST_MODULEINFO_HEADER="{name}.modinfo.h"', "-o", str(so), str(src), *extra])
    return so


def build_all(root: Path) -> Path:
    """Write, generate and compile every module; returns the directory of built .so files."""
    src, gen, out = root / "src", root / "gen", root / "built"
    for d in (src, gen, out):
        d.mkdir(parents=True, exist_ok=True)
    for name, s in SPECS.items():
        (src / f"{name}.c").write_text(source(name, s))
    done = _bt("generate", "--out-dir", str(gen), str(src))
    if done.returncode:
        raise RuntimeError(f"buildtool generate failed:\n{done.stderr}")
    jobs = []
    vs = root / "hide-all.map"
    vs.write_text("{ local: *; };\n")
    core = root / "core"
    core.mkdir(exist_ok=True)
    (core / "ownlib.c").write_text("int own_lib_fn(void) { return 5; }\n")
    _gcc(["-shared", "-fPIC", "-o", str(core / "libownlib.so"), str(core / "ownlib.c")])
    for name, s in SPECS.items():
        extra = [f"-Wl,--version-script={vs}"] if s["version_script"] else []
        if s["own_library"]:  # found through the rpath, outside the modules directory
            extra += [f"-L{core}", "-lownlib", f"-Wl,-rpath,{core}"]
        jobs.append((src / f"{name}.c", name, gen, out, extra))
    # The cycle, one module at a time against a stub tree.
    stubs = root / "cycle-stubs"
    stubs.mkdir(exist_ok=True)
    for name in CYCLE:
        (stubs / f"{name}.c").write_text(source(name, spec()))
    tree = root / "cycle-tree.json"
    done = _bt("scan", "--format", "json", "-o", str(tree), str(stubs))
    if done.returncode:
        raise RuntimeError(done.stderr)
    cyc_src, cyc_gen = root / "cycle-src", root / "cycle-gen"
    cyc_src.mkdir(exist_ok=True)
    cyc_gen.mkdir(exist_ok=True)
    for name, dep in CYCLE.items():
        path = cyc_src / f"{name}.c"
        path.write_text(source(name, spec(requires=[dep])))
        done = _bt("cflags", str(path), "--tree", str(tree), "--out-dir", str(cyc_gen))
        if done.returncode:
            raise RuntimeError(f"buildtool cflags failed:\n{done.stderr}")
        jobs.append((path, name, cyc_gen, out, []))
    (core / "core.c").write_text(CORE_C)
    _gcc(["-shared", "-fPIC", "-o", str(core / "libtestcore.so"), str(core / "core.c")])
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        list(pool.map(lambda j: compile_module(*j), jobs))
    return out


_BUILT: dict[str, Path] = {}


def built_dir() -> Path:
    """Build once per process (the pytest session), in a temporary directory removed at exit."""
    if "dir" not in _BUILT:
        root = Path(tempfile.mkdtemp(prefix="loader-tests-"))
        import atexit
        atexit.register(shutil.rmtree, root, True)
        _BUILT["dir"] = build_all(root)
    return _BUILT["dir"]


def core_lib() -> Path:
    return built_dir().parent / "core" / "libtestcore.so"


def make_modules_dir(dest: Path, names, shuffle_seed: int | None = None) -> Path:
    """Copy the named built modules into ``dest``, in a shuffled creation order."""
    dest.mkdir(parents=True, exist_ok=True)
    names = list(names)
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(names)
    for name in names:
        shutil.copy2(built_dir() / f"{name}.so", dest / f"{name}.so")
    return dest


class Run:
    def __init__(self, done: subprocess.CompletedProcess, log: Path):
        self.rc = done.returncode
        self.stdout = done.stdout
        self.stderr = done.stderr
        self.log = log.read_text().splitlines() if log.exists() else []
        try:
            self.report = json.loads(done.stdout)
        except ValueError:
            self.report = None

    def __repr__(self) -> str:
        return f"Run(rc={self.rc}, stderr={self.stderr!r}, report={self.report!r})"

    def command(self, i: int = 0) -> dict:
        return self.report["commands"][i]


def run_load(workdir: Path, names, config: str | None = None, *args: str, core: bool = True,
             seed: int | None = None, copy_seed: int | None = None, env: dict | None = None) -> Run:
    """``buildtool load --format json`` in a child process over a fresh directory of ``names``."""
    workdir.mkdir(parents=True, exist_ok=True)
    mdir = make_modules_dir(workdir / "modules", names, copy_seed)
    cmd = ["load", "--modules-dir", str(mdir), "--format", "json"]
    if config is not None:
        conf = workdir / "modules.conf"
        conf.write_text(config)
        cmd += ["--config", str(conf)]
    if core:
        cmd += ["--preload-library", str(core_lib())]
    if seed is not None:
        cmd += ["--listing-seed", str(seed)]
    log = workdir / "events.log"
    full_env = {**os.environ, "LOADER_TEST_LOG": str(log), **(env or {})}
    full_env.pop("LD_BIND_NOW", None) if not (env and "LD_BIND_NOW" in env) else None
    done = _bt(*cmd, *args, env=full_env)
    return Run(done, log)


def plan_in_process(mdir: Path, config: str | None, listing_seed: int | None = None) -> dict:
    """The dry-run report (`buildtool load --dry-run`) of ``mdir``, computed in this process: metadata and
    planning only, no module opened, the directory listing shuffled by ``listing_seed``."""
    from buildtool.loader.config import ModulesConfig, parse_config
    from buildtool.loader.meta import _default_listing
    from buildtool.loader.report import build_report
    from buildtool.loader.runtime import Loader
    conf = ModulesConfig()
    if config is not None:
        conf, diags = parse_config(config, "modules.conf")
        assert not diags, diags
    listing = None
    if listing_seed is not None:
        def listing(directory: str) -> list[str]:
            names = list(_default_listing(directory))
            random.Random(listing_seed).shuffle(names)
            return names
    loader = Loader(str(mdir), conf, listing=listing, use_cache=False)
    loader.load_plan()
    report = build_report(loader, dry_run=True)
    report.pop("modules_dir")
    report.pop("config")
    return json.loads(json.dumps(report).replace(str(mdir), "<dir>"))


def run_shuffled(tmp: Path, names, config: str | None = None, *args: str, runs: int = 3, **kw) -> Run:
    """Load ``names`` once for real in a child process (the C side's event log is the evidence of what ran),
    and plan the same modules ``runs - 1`` more times in this process with the directory listing and the
    file creation order shuffled: the plans must be identical, and the real run must have loaded its
    modules in the plan's order. (The planner alone decides the order; tests/test_loader_units.py checks
    its order independence on large random graphs.)"""
    run = run_load(tmp / "run0", names, config, *args, **kw)
    assert run.report is not None, run
    reference = plan_in_process(tmp / "run0" / "modules", config)
    for i in range(1, runs):
        mdir = make_modules_dir(tmp / f"run{i}" / "modules", names, shuffle_seed=i)
        assert plan_in_process(mdir, config, listing_seed=1000 + i) == reference, f"shuffle {i} plans otherwise"
    planned = reference["order"]
    assert [n for n in planned if n in run.report["order"]] == run.report["order"], (planned, run.report)
    assert set(run.report["order"]) <= set(planned)
    return run


def parsed_config(tmp_path, text="[modules]\n"):
    """A modules.conf parsed as the loader parses it (in ``tmp_path``), with no diagnostics."""
    from buildtool.loader.config import parse_config

    parsed, diags = parse_config(text, str(tmp_path / "modules.conf"))
    assert not diags
    return parsed


def planned(mdir, conf, **kw):
    """A loader of ``mdir`` that has made (or taken from its cache) its plan."""
    from buildtool.loader.runtime import Loader

    loader = Loader(str(mdir), conf, **kw)
    loader.load_plan()
    return loader

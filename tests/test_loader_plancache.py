"""The plan cache (buildtool/loader/plancache.py) on real modules (the gcc-built ones of loader_helpers):
reused only while none of its inputs changed, rebuilt after each kind of change, never trusted when it is
damaged or crafted, and never kept for a plan that must be made again each time."""

from __future__ import annotations

import json
import marshal
import os
import pickle
import random
import shutil
import time

import pytest

from types import SimpleNamespace

import buildtool
from buildtool.loader import plancache
from buildtool.loader.cache import CACHE_NAME
from buildtool.loader.plancache import PLAN_CACHE_NAME, PlanCache
from buildtool.loader.runtime import RUNNING, Loader
from helpers.bounded import bt
from loader_helpers import built_dir, core_lib, make_modules_dir, parsed_config, planned

NAMES = ["uc_base", "uc_opt", "uc_a", "uc_b", "uc_c"]  # uc_a requires uc_base and uses uc_opt; uc_c requires uc_a
ORDER = ["uc_base", "uc_b", "uc_opt", "uc_a", "uc_c"]


@pytest.fixture(scope="module", autouse=True)
def _core():
    built_dir()
    os.environ.pop("LOADER_TEST_LOG", None)  # the modules' log calls do nothing


config = parsed_config


def fresh(mdir, conf):
    """The same plan made without any cache: the second implementation each kept plan is held to."""
    return planned(mdir, conf, use_cache=False).plan


def same_plan(kept, made) -> None:
    assert kept.order == made.order and kept.selected == made.selected and kept.explicit == made.explicit
    assert kept.why == made.why and kept.skipped == made.skipped and kept.predicted == made.predicted
    assert kept.dependency_chain == made.dependency_chain and kept.notes == made.notes
    assert kept.edges == made.edges and kept.preload == made.preload and kept.required == made.required
    assert kept.metas == made.metas and kept.config == made.config
    assert kept.invalid == made.invalid == {} and kept.errors == made.errors == [] and kept.cycles == made.cycles == []


@pytest.fixture
def mdir(tmp_path):
    return make_modules_dir(tmp_path / "m", NAMES)


def test_reused_when_nothing_changed(tmp_path, mdir):
    conf = config(tmp_path)
    first = planned(mdir, conf)
    assert not first.plan_cache.reused and first.plan_cache.written and first.store.reads == len(NAMES)
    assert (mdir / PLAN_CACHE_NAME).exists()
    os.remove(mdir / CACHE_NAME)  # a hit needs nothing but the plan cache
    second = planned(mdir, conf)
    assert second.plan_cache.reused and not second.plan_cache.written
    assert second.store.reads == 0 and not (mdir / CACHE_NAME).exists()
    assert second.plan.order == ORDER
    same_plan(second.plan, fresh(mdir, conf))


def test_a_kept_plan_starts_the_modules_as_a_fresh_one_does(tmp_path, mdir):
    conf = config(tmp_path)
    planned(mdir, conf)  # writes the cache
    loaders = []
    try:
        for use_cache in (False, True):
            loader = Loader(str(mdir), conf, use_cache=use_cache)
            loaders.append(loader)
            loader.preload_library(str(core_lib()))
            assert loader.start() is True
            assert loader.order == ORDER and all(loader.states[n].status == RUNNING for n in ORDER)
            for name in reversed(loader.order):  # unloaded before the other run opens them again
                loader._close(loader.states[name])
        cold, warm = loaders
        assert warm.plan_cache.reused and warm.store.reads == 0
        assert {n: s.refs for n, s in warm.states.items()} == {n: s.refs for n, s in cold.states.items()}
        assert warm.use_counts() == cold.use_counts() == {"uc_base": 2, "uc_b": 0, "uc_opt": 1, "uc_a": 1,
                                                          "uc_c": 0}
    finally:
        for loader in loaders:
            for name in reversed(loader.order):
                loader._close(loader.states[name])


def _replace(mdir, conf, tmp_path):
    shutil.copy2(mdir / "uc_c.so", tmp_path / "copy.so")
    os.replace(tmp_path / "copy.so", mdir / "uc_c.so")  # new inode, same bytes


def _until_ctime_moves(path, action) -> None:
    """The kernel stamps files from a coarse clock (a few ms): repeat until the change is visible."""
    before = os.stat(path).st_ctime_ns
    for _ in range(100):
        action()
        if os.stat(path).st_ctime_ns != before:
            return
        time.sleep(0.005)
    raise AssertionError("the ctime never moved")


def _rewrite_in_place(mdir, conf, tmp_path):
    path = mdir / "uc_c.so"
    data = path.read_bytes()

    def rewrite():
        with open(path, "r+b") as handle:  # same inode and size; mtime and ctime move
            handle.write(data)
    inode = os.stat(path).st_ino
    _until_ctime_moves(path, rewrite)
    assert os.stat(path).st_ino == inode


def _touch_ctime(mdir, conf, tmp_path):
    path = mdir / "uc_c.so"
    st = os.stat(path)
    _until_ctime_moves(path, lambda: os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns)))
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns  # only the ctime moved


def _add(mdir, conf, tmp_path):
    make_modules_dir(mdir, ["gen_a"])


def _remove(mdir, conf, tmp_path):
    os.remove(mdir / "uc_c.so")


def _edit_config(mdir, conf, tmp_path):
    return config(tmp_path, "[modules]\nnoload => uc_c\n")


def _move_config_line(mdir, conf, tmp_path):
    return config(tmp_path, "[modules]\n\nautoload = yes\n")  # same rules, another line quoted in each why


def _other_config_file(mdir, conf, tmp_path):
    return config(tmp_path / "elsewhere")


def _loader_version(mdir, conf, tmp_path, monkeypatch):
    monkeypatch.setattr(buildtool, "__version__", buildtool.__version__ + ".post1")


CHANGES = {"module replaced": _replace, "module rewritten in place": _rewrite_in_place,
           "module touched": _touch_ctime, "module added": _add, "module removed": _remove,
           "modules.conf edited": _edit_config, "modules.conf line moved": _move_config_line,
           "another modules.conf": _other_config_file, "loader version": _loader_version}


@pytest.mark.parametrize("change", CHANGES)
def test_each_input_that_changes_invalidates_the_kept_plan(tmp_path, mdir, change, monkeypatch):
    conf = config(tmp_path)
    planned(mdir, conf)
    args = (mdir, conf, tmp_path, monkeypatch) if change == "loader version" else (mdir, conf, tmp_path)
    conf = CHANGES[change](*args) or conf
    after = planned(mdir, conf)
    assert not after.plan_cache.reused and after.plan_cache.written
    same_plan(after.plan, fresh(mdir, conf))
    again = planned(mdir, conf)  # and the new one is kept
    assert again.plan_cache.reused
    same_plan(again.plan, fresh(mdir, conf))


def test_what_changed_is_what_the_next_plan_says(tmp_path, mdir):
    conf = config(tmp_path)
    assert planned(mdir, conf).plan.order == ORDER
    os.remove(mdir / "uc_a.so")
    after = planned(mdir, conf).plan
    assert after.order == ["uc_base", "uc_b", "uc_c", "uc_opt"]  # name order once uc_c needs nothing placed
    assert "requires uc_a, which is not in the modules directory" in after.predicted["uc_c"]
    with open(mdir / "uc_b.so", "r+b") as handle:  # same path and inode, another module's bytes
        handle.write((mdir / "uc_base.so").read_bytes())
        handle.truncate()
    after = planned(mdir, conf)
    assert not after.plan_cache.reused and "uc_b" not in after.plan.order
    assert "names module 'uc_base'" in after.plan.why["uc_b"]


def test_never_kept_when_a_module_cannot_be_read_or_the_plan_has_errors(tmp_path, mdir):
    (mdir / "junk.so").write_bytes(b"not an ELF file")
    conf = config(tmp_path)
    first = planned(mdir, conf)
    assert "junk" in first.plan.invalid and not (mdir / PLAN_CACHE_NAME).exists()
    assert not planned(mdir, conf).plan_cache.reused  # each time read again: an error is never cached
    os.remove(mdir / "junk.so")
    bad = config(tmp_path, "[modules]\nautoload = no\nload => uc_c\nnoload => uc_base\n")
    errors = planned(mdir, bad)
    assert errors.plan.errors and not (mdir / PLAN_CACHE_NAME).exists()
    assert not planned(mdir, bad).plan_cache.reused


def test_no_cache_and_a_sources_tree_leave_it_alone(tmp_path, mdir):
    conf = config(tmp_path)
    loader = planned(mdir, conf, use_cache=False)
    assert loader.plan_cache is None and not (mdir / PLAN_CACHE_NAME).exists()
    with_tree = Loader(str(mdir), conf)
    with_tree.source_tree = object()  # --tree: an input this cache does not track
    with_tree.load_plan()
    assert with_tree.plan_cache is None and not (mdir / PLAN_CACHE_NAME).exists()


def test_same_inputs_same_bytes(tmp_path, mdir):
    conf = config(tmp_path)
    planned(mdir, conf)
    first = (mdir / PLAN_CACHE_NAME).read_bytes()
    os.remove(mdir / PLAN_CACHE_NAME)
    assert not planned(mdir, conf).plan_cache.reused
    assert (mdir / PLAN_CACHE_NAME).read_bytes() == first


def _kept(mdir):
    """The file's head (its format line and the directory's stamp), and what follows, unmarshalled."""
    data = (mdir / PLAN_CACHE_NAME).read_bytes()
    inputs, names, payload = marshal.loads(data[plancache._BODY:])
    return data[:plancache._BODY], inputs, names, list(payload)


def _with_payload(mdir, edit):
    head, inputs, names, payload = _kept(mdir)
    edit(payload)
    return head + marshal.dumps((inputs, names, tuple(payload)), 2)


def _with_names(mdir, names):
    head, inputs, _, payload = _kept(mdir)
    return head + marshal.dumps((inputs, names, tuple(payload)), 2)


class Pwned:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def _damaged(name, mdir):
    good = (mdir / PLAN_CACHE_NAME).read_bytes()
    order_at, meta_names_at = 1, 5  # positions in the payload (plancache._encode)
    flags_at = meta_names_at + 2
    requires_at = meta_names_at + 4
    return {
        "empty": lambda: b"",
        "truncated": lambda: good[: len(good) // 2],
        "one byte short": lambda: good[:-1],
        "random bytes": lambda: random.Random(9).randbytes(len(good)),
        "a pickle": lambda: pickle.dumps(Pwned()),
        "json": lambda: json.dumps({"order": ORDER}).encode(),
        "another version": lambda: marshal.dumps(("buildtool-plan", 99), 2),
        "inputs only": lambda: _kept(mdir)[0] + marshal.dumps((_kept(mdir)[1],), 2),
        "no head": lambda: good[plancache._BODY:],
        "another head": lambda: good.replace(b"buildtool-plan 2\n", b"buildtool-plan 9\n", 1),
        "an int among the names": lambda: _with_names(mdir, (*NAMES[:-1], 1)),
        "names a list": lambda: _with_names(mdir, list(NAMES)),
        "payload too short": lambda: _with_payload(mdir, lambda p: p.pop()),
        "an int in the order": lambda: _with_payload(mdir, lambda p: p.__setitem__(order_at, (1, 2))),
        "order is a list": lambda: _with_payload(mdir, lambda p: p.__setitem__(order_at, list(p[order_at]))),
        "a bool for flags": lambda: _with_payload(
            mdir, lambda p: p.__setitem__(flags_at, (True,) * len(p[flags_at]))),
        "None among requires": lambda: _with_payload(
            mdir, lambda p: p.__setitem__(requires_at, ((None,),) * len(p[requires_at]))),
        "an empty name among requires": lambda: _with_payload(
            mdir, lambda p: p.__setitem__(requires_at, (("",),) * len(p[requires_at]))),
        "a module the directory lacks": lambda: _with_payload(
            mdir, lambda p: p.__setitem__(meta_names_at, ("res_evil",) + p[meta_names_at][1:])),
        "one meta column short": lambda: _with_payload(
            mdir, lambda p: p.__setitem__(requires_at, p[requires_at][1:])),
        "report part not bytes": lambda: _with_payload(mdir, lambda p: p.__setitem__(-1, "garbage")),
    }[name]()


DAMAGE = ["empty", "truncated", "one byte short", "random bytes", "a pickle", "json", "another version",
          "inputs only", "no head", "another head", "an int among the names", "names a list",
          "payload too short", "an int in the order", "order is a list", "a bool for flags",
          "None among requires", "an empty name among requires", "a module the directory lacks",
          "one meta column short", "report part not bytes"]


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_or_crafted_cache_is_rebuilt(tmp_path, mdir, damage, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conf = config(tmp_path)
    planned(mdir, conf)
    (mdir / PLAN_CACHE_NAME).write_bytes(_damaged(damage, mdir))
    loader = planned(mdir, conf)
    assert not loader.plan_cache.reused and loader.plan_cache.written
    assert loader.plan.order == ORDER
    same_plan(loader.plan, fresh(mdir, conf))
    assert planned(mdir, conf).plan_cache.reused  # written again, whole
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong shape", "an int among the whys"])
def test_a_damaged_report_part_is_planned_again_not_made_up(tmp_path, mdir, damage):
    """The report's part is decoded after start-up (plancache._KeptPlan): damaged, the plan is made
    again from the metadata, and what the report says is still the fresh plan's."""
    conf = config(tmp_path, "[modules]\nautoload = no\nload => uc_c\nload => uc_b\n")
    planned(mdir, conf)
    report = marshal.loads(_kept(mdir)[3][-1])
    bad = {"garbage": random.Random(4).randbytes(64), "truncated": _kept(mdir)[3][-1][:-3],
           "wrong shape": marshal.dumps(report[:-1], 2),
           "an int among the whys": marshal.dumps(report[:8] + ((1,) * len(report[8]),) + report[9:], 2)}[damage]
    (mdir / PLAN_CACHE_NAME).write_bytes(_with_payload(mdir, lambda p: p.__setitem__(-1, bad)))
    loader = planned(mdir, conf)
    assert loader.plan_cache.reused and loader.plan.order == ["uc_base", "uc_a", "uc_b", "uc_c"]
    same_plan(loader.plan, fresh(mdir, conf))
    assert loader.plan.dependency_chain["uc_base"] == ["uc_b", "uc_base"]  # breadth first, in file order
    assert loader.store.reads == 0  # planned again from the metadata the cache held


def test_a_cache_copied_from_another_directory_is_not_used(tmp_path, mdir):
    conf = config(tmp_path)
    planned(mdir, conf)
    other = make_modules_dir(tmp_path / "other", NAMES[:-1])
    shutil.copy2(mdir / PLAN_CACHE_NAME, other / PLAN_CACHE_NAME)
    loader = planned(other, conf)
    assert not loader.plan_cache.reused and "uc_c" not in loader.plan.order


def test_a_directory_in_its_place_is_no_crash(tmp_path, mdir):
    (mdir / PLAN_CACHE_NAME).mkdir()
    loader = planned(mdir, config(tmp_path))
    assert not loader.plan_cache.reused and not loader.plan_cache.written and loader.plan.order == ORDER


@pytest.mark.parametrize("crafted", ["huge tuple", "deep nesting", "random bytes"])
def test_crafted_cache_through_the_cli(tmp_path, mdir, crafted):
    """The command, bounded in memory: a length that asks for gigabytes, nesting past marshal's depth."""
    planned(mdir, config(tmp_path))
    payload = _kept(mdir)[0] + {"huge tuple": b"(" + (2 ** 31 - 1).to_bytes(4, "little"),
                                "deep nesting": b"(\x01\x00\x00\x00" * 5000 + b"N",
                                "random bytes": random.Random(3).randbytes(2000)}[crafted]
    (mdir / PLAN_CACHE_NAME).write_bytes(payload)
    done = bt("load", "--modules-dir", str(mdir), "--dry-run", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["order"] == ORDER
    assert (mdir / PLAN_CACHE_NAME).read_bytes() != payload  # rebuilt


# autoload = no: every part of the plan has something (chains, a predicted decline, a skip, edges, entries)
RICH = "[modules]\nautoload = no\nload => uc_c\nload => uc_b\nload => ghost\n"


def test_a_hit_reads_every_part_from_the_file_and_plans_nothing(tmp_path, mdir, monkeypatch):
    conf = config(tmp_path, RICH)
    planned(mdir, conf)
    planning = []
    monkeypatch.setattr(plancache, "plan_load", lambda *args: planning.append(args))
    loader = planned(mdir, conf)
    assert loader.plan_cache.reused
    same_plan(loader.plan, fresh(mdir, conf))
    assert planning == []  # the report's part too was read, not planned again
    conf_path = tmp_path / "modules.conf"
    assert loader.plan.predicted == {
        "ghost": f"named by 'load => ghost' at {conf_path}:5, but there is no ghost.so in {mdir}"}
    assert loader.plan.dependency_chain == {"uc_a": ["uc_c", "uc_a"], "uc_base": ["uc_b", "uc_base"]}
    assert loader.plan.edges == [("uc_base", "uc_a", "requires"), ("uc_base", "uc_b", "requires"),
                                 ("uc_a", "uc_c", "requires")]
    with pytest.raises(AttributeError) as missing:
        loader.plan.no_such_part
    assert str(missing.value) == "no_such_part"


def test_the_report_part_is_taken_from_the_file_only_in_its_exact_shape(tmp_path, mdir):
    """Whys edited in the file (the inputs still match) are what a hit reports: the file is read, not
    planned again; the same edit in a list instead of a tuple is refused (planned again)."""
    conf = config(tmp_path, RICH)
    planned(mdir, conf)
    report = marshal.loads(_kept(mdir)[3][-1])
    edited = report[:8] + (tuple("kept: " + why for why in report[8]),) + report[9:]
    made = fresh(mdir, conf)
    for shape, expected in ((tuple, {n: "kept: " + why for n, why in made.why.items()}), (list, made.why)):
        (mdir / PLAN_CACHE_NAME).write_bytes(
            _with_payload(mdir, lambda p: p.__setitem__(-1, marshal.dumps(shape(edited), 2))))
        loader = planned(mdir, conf)
        assert loader.plan_cache.reused and loader.plan.why == expected


def _config_at(payload, edit):
    payload[0] = edit(payload[0])


SHAPES = {  # each of the right values, in a type the file never holds
    "payload as a list": lambda p: p,  # (applied below: the whole payload)
    "configuration as a list": lambda p: _config_at(p, list),
    "autoload as an int": lambda p: _config_at(p, lambda row: (row[0], int(row[1]), *row[2:])),
    "configuration path as bytes": lambda p: _config_at(p, lambda row: (row[0].encode(), *row[1:])),
    "an entry as a list": lambda p: _config_at(p, lambda row: (*row[:3], (list(row[3][0]), *row[3][1:]))),
    "requires as a list": lambda p: p.__setitem__(9, list(p[9])),
    "one module's requires as a list": lambda p: p.__setitem__(9, tuple(map(list, p[9]))),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_kept_plan_of_another_shape_is_not_used(tmp_path, mdir, shape):
    conf = config(tmp_path, RICH)
    planned(mdir, conf)
    head, inputs, names, payload = _kept(mdir)
    assert payload[9] is not None  # requires (plancache._encode): uc_a and uc_c require something
    SHAPES[shape](payload)
    (mdir / PLAN_CACHE_NAME).write_bytes(head + marshal.dumps((inputs, names, payload if shape == "payload as a list"
                                                               else tuple(payload)), 2))
    loader = planned(mdir, conf)
    assert not loader.plan_cache.reused
    same_plan(loader.plan, fresh(mdir, conf))


def test_a_plan_that_read_no_module_is_kept_too(tmp_path):
    """Found by mutation testing: with no module's metadata read (nothing selected can load) the kept plan
    was written but never read back (its description, flags and support level came back as None)."""
    mdir = make_modules_dir(tmp_path / "m", ["uc_base"])
    conf = config(tmp_path, RICH)
    assert planned(mdir, conf).plan.metas == {}
    again = planned(mdir, conf)
    assert again.plan_cache.reused and again.plan.metas == {} and again.plan.order == []
    same_plan(again.plan, fresh(mdir, conf))


def test_a_moved_directory_is_a_miss(tmp_path, mdir):
    """The files keep their keys when their directory is renamed, but the plan's messages name it."""
    conf = config(tmp_path, RICH)
    planned(mdir, conf)
    moved = tmp_path / "moved"
    os.rename(mdir, moved)
    loader = planned(moved, conf)
    assert not loader.plan_cache.reused
    assert loader.plan.predicted["ghost"].endswith(f"there is no ghost.so in {moved}")


def test_a_directory_name_that_is_not_utf8(tmp_path):
    mdir = make_modules_dir(tmp_path / os.fsdecode(b"m\xff"), NAMES)
    conf = config(tmp_path)
    planned(mdir, conf)
    again = planned(mdir, conf)
    assert again.plan_cache.reused and again.plan.order == ORDER


def test_a_change_to_the_planning_code_is_a_miss(tmp_path, mdir, monkeypatch):
    code = tmp_path / "planning_code.py"  # stands for one of the planning modules (an edited checkout)
    code.write_text("x = 1\n")
    monkeypatch.setattr(plancache, "_PLANNING_CODE",
                        (SimpleNamespace(__file__=str(code)),) + plancache._PLANNING_CODE)
    conf = config(tmp_path)
    planned(mdir, conf)
    assert planned(mdir, conf).plan_cache.reused
    code.write_text("x = 22\n")
    assert not planned(mdir, conf).plan_cache.reused


def test_the_file_is_marshal_version_2(tmp_path, mdir):
    """Version 2 has no references between objects, whose flags depend on reference counts: its bytes
    are a function of the plan alone."""
    planned(mdir, config(tmp_path, RICH))
    data = (mdir / PLAN_CACHE_NAME).read_bytes()[plancache._BODY:]
    assert marshal.dumps(marshal.loads(data), 2) == data
    report = _kept(mdir)[3][-1]
    assert marshal.dumps(marshal.loads(report), 2) == report


def test_save_says_whether_the_plan_was_kept(tmp_path, mdir):
    conf = config(tmp_path)
    plan = fresh(mdir, conf)
    assert PlanCache(str(mdir), conf).save(plan) is True
    os.remove(mdir / PLAN_CACHE_NAME)
    gone = PlanCache(str(mdir), conf, listing=lambda d: [*os.listdir(d), "uc_gone.so"])  # cannot be stat()ed
    assert gone.inputs is None and gone.save(plan) is False and not (mdir / PLAN_CACHE_NAME).exists()
    (mdir / PLAN_CACHE_NAME).mkdir()
    assert PlanCache(str(mdir), conf).save(plan) is False

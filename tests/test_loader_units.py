"""The pure parts: modules.conf parser, planner on in-memory metadata, metadata cache, dl layer."""

from __future__ import annotations

import ctypes
import itertools
import os
import random
import shutil

import pytest

from buildtool.loader import abi
from buildtool.loader.cache import MetaStore
from buildtool.loader.config import parse_config
from buildtool.loader.dl import RTLD_LAZY, RTLD_LOCAL, Dl, DlError, mapped_files
from buildtool.loader.meta import MetaError, ModuleMeta, discover
from buildtool.loader.plan import plan_load


def test_config_syntax():
    text = ("; comment\n[modules]\nautoload=no ; trailing\npreload => res_a.so\nload = app_b\n"
            ";-- block\nload => hidden\n--;\nnoload => chan_c.SO\nrequire => res_d\npreload-require => res_e\n"
            "[other]\nwhatever => x\n")
    config, diags = parse_config(text, "modules.conf")
    assert diags == []
    assert config.autoload is False and config.autoload_line == 3
    assert [(e.kind, e.name, e.line) for e in config.entries] == [
        ("preload", "res_a", 4), ("load", "app_b", 5), ("noload", "chan_c", 9), ("require", "res_d", 10),
        ("preload-require", "res_e", 11)]


def test_config_errors_have_positions():
    text = "load => x\n[modules]\nautoload = maybe\nfrobnicate => y\nload => ../../etc/evil.so\nload =>\n"
    _, diags = parse_config(text, "m.conf")
    assert [(d.line, d.column, d.code) for d in diags] == [
        (1, 1, "loader-config-syntax"), (3, 12, "loader-config-value"), (4, 1, "loader-config-key"),
        (5, 9, "loader-path"), (6, 8, "loader-config-value")]


def M(name, **kw):
    return ModuleMeta(name=name, **{k: tuple(v) for k, v in kw.items()})


def plan_of(metas, conf="[modules]\n"):
    config, diags = parse_config(conf, "modules.conf")
    assert not diags
    table = {m.name: m for m in metas}
    return plan_load(list(table), table.__getitem__, config)


def test_order_is_independent_of_listing_order():
    rng = random.Random(5)
    metas = [M(f"m{i:03d}", requires=[f"m{j:03d}" for j in rng.sample(range(i), min(i, 2))],
               optional_modules=[f"m{rng.randrange(200):03d}"] if i % 7 == 0 else [])
             for i in range(200)]
    orders = set()
    for seed in range(5):
        shuffled = metas[:]
        random.Random(seed).shuffle(shuffled)
        plan = plan_of(shuffled)
        orders.add(tuple(plan.order))
    assert len(orders) == 1


def test_every_rule_holds_in_the_order():
    metas = [M("a"), M("b", requires=["a"]), M("c", optional_modules=["d"]), M("d"),
             M("p", provides=["iface"]), M("u", interfaces_required=["iface"]), M("o", interfaces_optional=["iface"]),
             M("e", requires=["a"], enhances=["a"]), M("f", requires=["a"])]
    for perm in itertools.islice(itertools.permutations(metas), 0, 200, 13):
        order = plan_of(list(perm)).order
        pos = {n: i for i, n in enumerate(order)}
        assert pos["a"] < pos["b"] and pos["d"] < pos["c"] and pos["p"] < pos["u"] and pos["p"] < pos["o"]
        assert pos["e"] < pos["b"] and pos["e"] < pos["f"]


def test_soft_cycle_is_broken_deterministically_and_said():
    plan = plan_of([M("a", optional_modules=["b"]), M("b", optional_modules=["a"])])
    assert plan.ok and plan.order == ["a", "b"] and plan.notes


def test_cycle_through_interface_is_an_error():
    plan = plan_of([M("a", provides=["x"], requires=["b"]), M("b", interfaces_required=["x"])])
    assert not plan.ok and plan.errors[0].code == "loader-cycle"


def test_autoload_no_reads_only_what_it_needs():
    asked = []
    table = {"a": M("a", requires=["b"]), "b": M("b"), "c": M("c")}

    def get(name):
        asked.append(name)
        return table[name]
    config, _ = parse_config("[modules]\nautoload = no\nload => a\n", "m.conf")
    plan = plan_load(list(table), get, config)
    assert plan.order == ["b", "a"] and sorted(asked) == ["a", "b"]


def test_unreadable_module_is_explained():
    def get(name):
        if name == "bad":
            raise MetaError("not an ELF file")
        return M(name)
    config, _ = parse_config("", "m.conf")
    plan = plan_load(["bad", "good"], get, config)
    assert plan.order == ["good"] and "not an ELF file" in plan.why["bad"]


def test_discover_ignores_listing_order(tmp_path):
    for n in ("b.so", "a.so", "notes.txt", ".hidden.so"):
        (tmp_path / n).write_text("")
    assert list(discover(str(tmp_path), lambda d: ["b.so", "notes.txt", "a.so", ".hidden.so"])) == ["a", "b"]


def test_cache_is_never_stale(tmp_path):
    from loader_helpers import built_dir
    built = built_dir()
    shutil.copy2(built / "gen_a.so", tmp_path / "gen_a.so")
    paths = discover(str(tmp_path))
    store = MetaStore(str(tmp_path), paths)
    assert store.get("gen_a").requires == () and store.reads == 1
    store.get("gen_a")
    assert store.save()
    again = MetaStore(str(tmp_path), paths)
    assert again.get("gen_a").requires == () and again.reads == 0  # from the cache
    # replace it by another build with the same name written over it: new inode, size, ctime
    shutil.copy2(built / "gen_b.so", tmp_path / "y.tmp")
    os.replace(tmp_path / "y.tmp", tmp_path / "gen_a.so")
    third = MetaStore(str(tmp_path), paths)
    with pytest.raises(MetaError, match="names module 'gen_b'"):
        third.get("gen_a")
    assert third.reads == 1


def test_cache_sees_a_file_rewritten_in_place(tmp_path):
    # Same path, same inode (written through, as `cp` over an existing file does): only the size,
    # mtime and ctime in the key can tell the cached entry is stale.
    from loader_helpers import built_dir
    built = built_dir()
    target = tmp_path / "gen_a.so"
    shutil.copy2(built / "gen_a.so", target)
    paths = discover(str(tmp_path))
    store = MetaStore(str(tmp_path), paths)
    assert store.get("gen_a").requires == () and store.save()
    inode = target.stat().st_ino
    with open(target, "r+b") as handle:
        handle.write((built / "gen_b.so").read_bytes())
        handle.truncate()
    assert target.stat().st_ino == inode
    again = MetaStore(str(tmp_path), paths)
    with pytest.raises(MetaError, match="names module 'gen_b'"):
        again.get("gen_a")
    assert again.reads == 1


def test_abi_mirror_matches_the_c_struct():
    from loader_helpers import built_dir
    from buildtool import elfinfo
    record = elfinfo.read_record(str(built_dir() / "gen_a.so"))
    assert record.struct_size == abi.STRUCT_SIZE == ctypes.sizeof(abi.AstModuleInfo)


def test_dl_layer_really_closes(tmp_path):
    from loader_helpers import built_dir
    path = str(tmp_path / "gen_a.so")
    shutil.copy2(built_dir() / "gen_a.so", path)
    dl = Dl()
    handle = dl.open(path, RTLD_LAZY | RTLD_LOCAL)  # gen_a's constructors: none; its load() is not called
    info = abi.read_info(dl.sym(handle, abi.SYMBOL))
    assert info.name == "gen_a" and info.description == "Test module gen_a"
    assert os.path.realpath(path) in mapped_files()
    dl.close(handle)
    assert os.path.realpath(path) not in mapped_files()
    assert not dl.is_loaded(path)
    with pytest.raises(DlError, match="cannot open shared object"):
        dl.open(str(tmp_path / "missing.so"), RTLD_LAZY)

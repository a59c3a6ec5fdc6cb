"""A warm start does not list the modules directory (buildtool/loader/plancache.py): the plan cache
records the directory's key where the names were listed, and takes the names from the cache while
the directory still has that key, and has had it for longer than a clock tick can hide a change.
On real directories and the gcc-built modules of loader_helpers; the listing is counted in-process."""

from __future__ import annotations

import marshal
import os
import shutil
import time

import pytest

from buildtool.loader import meta, plancache
from buildtool.loader.plancache import PLAN_CACHE_NAME, PlanCache
from buildtool.loader.runtime import Loader
from loader_helpers import built_dir, make_modules_dir, parsed_config, planned

NAMES = ["uc_base", "uc_opt", "uc_a", "uc_b", "uc_c"]
ORDER = ["uc_base", "uc_b", "uc_opt", "uc_a", "uc_c"]
# Shorter than RACY_NS, so that these tests need not wait 2 s a step, and still many clock ticks
# (a file-system timestamp moves by one tick, at most 10 ms with Linux's coarse clock).
WINDOW_NS = 150_000_000
HEAD = b"buildtool-plan 2\n"
UNSTAMPED = bytes(40)  # five zero 64-bit ints


@pytest.fixture(scope="module", autouse=True)
def _core():
    built_dir()
    os.environ.pop("LOADER_TEST_LOG", None)


@pytest.fixture
def listings(monkeypatch):
    """How often the default listing ran (each call listed the directory: os.listdir)."""
    calls = []
    real = meta._default_listing

    def counted(directory):
        calls.append(directory)
        return real(directory)
    monkeypatch.setattr(meta, "_default_listing", counted)
    return calls


@pytest.fixture
def short_window(monkeypatch):
    monkeypatch.setattr(plancache, "RACY_NS", WINDOW_NS)


def settle(seconds: float = WINDOW_NS / 1e9) -> None:
    """Wait out the window: the directory's last change is older than it afterwards."""
    time.sleep(seconds + 0.05)


@pytest.fixture
def conf(tmp_path):
    return parsed_config(tmp_path)


def stamp_of(mdir) -> bytes:
    data = (mdir / PLAN_CACHE_NAME).read_bytes()
    assert data.startswith(HEAD)
    return data[len(HEAD):len(HEAD) + 40]


def key_of(path) -> bytes:
    st = os.stat(path)
    keys = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return b"".join(k.to_bytes(8, "little") for k in keys)


def expected_paths(mdir, names):
    return {n: f"{mdir}/{n}.so" for n in sorted(names)}


def stamped(mdir, conf, listings) -> None:
    """A cold start, then a start after the window that records the directory's key; the third does
    not list. (The first start's own file is a new entry in the directory: its key changed since.)"""
    first = planned(mdir, conf)
    assert not first.plan_cache.reused and first.plan_cache.written
    settle()
    second = planned(mdir, conf)
    assert second.plan_cache.reused and second.plan_cache.restamped
    assert stamp_of(mdir) == key_of(mdir)
    listings.clear()
    third = planned(mdir, conf)
    assert listings == [] and not third.plan_cache.listed and third.plan_cache.reused
    assert not third.plan_cache.restamped and third.paths == expected_paths(mdir, NAMES)


def test_the_listing_is_skipped_once_the_directory_is_older_than_the_window(tmp_path, conf, listings):
    """With the real 2 s window, end to end: the first start's directory is too new to be trusted."""
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    first = planned(mdir, conf)
    assert first.plan_cache.written and stamp_of(mdir) == UNSTAMPED
    again = planned(mdir, conf)  # within the window still: listed, and nothing recorded
    assert again.plan_cache.reused and again.plan_cache.listed and not again.plan_cache.restamped
    assert stamp_of(mdir) == UNSTAMPED
    settle(plancache.RACY_NS / 1e9)
    later = planned(mdir, conf)
    assert later.plan_cache.reused and later.plan_cache.listed and later.plan_cache.restamped
    assert stamp_of(mdir) == key_of(mdir)
    listings.clear()
    warm = Loader(str(mdir), conf)
    assert listings == [] and warm.paths == expected_paths(mdir, NAMES)
    assert warm.load_plan().order == ORDER and warm.plan_cache.reused and warm.store.reads == 0


def _add(mdir):
    shutil.copy2(built_dir() / "uc_c.so", mdir / "uc_c.so")


def _rewrite_in_place(mdir):
    data = (mdir / "uc_b.so").read_bytes()
    with open(mdir / "uc_b.so", "r+b") as handle:  # same inode, same name: the directory does not change
        handle.write(data)


CHANGES = {  # what is done, the modules before, the modules after
    "module added": (_add, NAMES[:-1], NAMES),
    "module removed": (lambda m: os.remove(m / "uc_c.so"), NAMES, NAMES[:-1]),
    "module renamed away": (lambda m: os.rename(m / "uc_c.so", m / "uc_c.so.disabled"), NAMES, NAMES[:-1]),
    "module renamed": (lambda m: os.rename(m / "uc_b.so", m / "uc_bb.so"), NAMES,
                       ["uc_base", "uc_opt", "uc_a", "uc_bb", "uc_c"]),
    "non-module file added": (lambda m: (m / "README").write_text("notes\n"), NAMES, NAMES),
    "module rewritten in place": (_rewrite_in_place, NAMES, NAMES),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_is_seen_by_the_next_start(tmp_path, conf, listings, short_window, change):
    do, before, after = CHANGES[change]
    mdir = make_modules_dir(tmp_path / "m", before)
    planned(mdir, conf)
    settle()
    assert planned(mdir, conf).plan_cache.restamped
    listings.clear()
    assert not planned(mdir, conf).plan_cache.listed and listings == []
    do(mdir)
    settle()  # the change is older than the window: only the directory's key can tell it
    loader = planned(mdir, conf)
    assert listings == [str(mdir)] and loader.plan_cache.listed
    assert loader.paths == expected_paths(mdir, after)
    assert set(loader.plan.decisions) >= set(after) and not set(loader.plan.decisions) & (set(before) - set(after))
    changed_plan = change != "non-module file added"
    assert loader.plan_cache.reused is not changed_plan
    if "renamed" not in change and change != "module added":
        assert loader.plan.order == [n for n in ORDER if n in after]
    if change == "module added":
        assert loader.plan.order == ORDER


def test_a_directory_changed_within_the_window_is_listed(tmp_path, conf, listings, monkeypatch):
    monkeypatch.setattr(plancache, "RACY_NS", WINDOW_NS)
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    stamped(mdir, conf, listings)
    monkeypatch.setattr(plancache, "RACY_NS", 60_000_000_000)  # its key is the one recorded, but too recent
    loader = planned(mdir, conf)
    assert listings == [str(mdir)] and loader.plan_cache.listed and loader.plan_cache.stamp is None
    assert loader.plan_cache.reused and not loader.plan_cache.restamped
    assert stamp_of(mdir) == key_of(mdir)  # left as it was


def test_a_directory_touched_back_is_still_listed(tmp_path, conf, listings, short_window):
    """An entry added, then the directory's mtime set back: its ctime moved, which nobody can set back."""
    mdir = make_modules_dir(tmp_path / "m", NAMES[:-1])
    planned(mdir, conf)
    settle()
    planned(mdir, conf)
    before = os.stat(mdir)
    _add(mdir)
    os.utime(mdir, ns=(before.st_atime_ns, before.st_mtime_ns))
    settle()
    loader = planned(mdir, conf)
    assert loader.plan_cache.listed and loader.plan.order == ORDER


def test_an_injected_listing_is_always_called_and_never_recorded(tmp_path, conf, short_window):
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    calls = []

    def listing(directory):
        calls.append(directory)
        return os.listdir(directory)
    for _ in range(3):
        loader = planned(mdir, conf, listing=listing)
        assert loader.plan.order == ORDER and loader.plan_cache.stamp is None
        settle()
    assert len(calls) == 3 and stamp_of(mdir) == UNSTAMPED and loader.plan_cache.reused


def test_names_that_do_not_match_the_plan_are_not_used(tmp_path, conf, listings, short_window):
    """A crafted name list under a valid stamp: the plan's digest (names and file keys) does not match it,
    so the directory is listed and the plan still reused: what the names say never reaches a start."""
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    stamped(mdir, conf, listings)
    data = (mdir / PLAN_CACHE_NAME).read_bytes()
    body = len(HEAD) + 40
    inputs, names, payload = marshal.loads(data[body:])
    with open(mdir / PLAN_CACHE_NAME, "r+b") as handle:  # in place: the directory keeps its key
        handle.write(data[:body] + marshal.dumps((inputs, (*names, "uc_evil"), payload), 2))
        handle.truncate()
    assert stamp_of(mdir) == key_of(mdir)
    listings.clear()
    loader = planned(mdir, conf)
    assert listings == [str(mdir)] and loader.paths == expected_paths(mdir, NAMES)
    assert loader.plan_cache.reused and not loader.plan_cache.restamped and loader.plan.order == ORDER


def test_the_stamp_is_written_only_into_the_file_that_was_read(tmp_path, conf, short_window):
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    planned(mdir, conf)
    settle()
    cache = PlanCache(str(mdir), conf)  # reads the file, and its stamp is not the directory's key
    assert cache.listed and cache.stamp == key_of(mdir)
    data = (mdir / PLAN_CACHE_NAME).read_bytes()
    (mdir / "replacement").write_bytes(data)
    os.replace(mdir / "replacement", mdir / PLAN_CACHE_NAME)  # another start wrote it meanwhile
    assert cache.load(Loader(str(mdir), conf, use_cache=False).store.get) is not None
    assert not cache.restamped and stamp_of(mdir) == UNSTAMPED


def test_a_cache_of_the_previous_format_is_a_miss(tmp_path, conf, listings):
    """Format 1 (before the stamp): marshal of (inputs, plan) from the first byte."""
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    planned(mdir, conf)
    inputs, _, payload = marshal.loads((mdir / PLAN_CACHE_NAME).read_bytes()[len(HEAD) + 40:])
    magic, (_, *version), config_row, digest = inputs
    (mdir / PLAN_CACHE_NAME).write_bytes(marshal.dumps(((magic, (1, *version), config_row, digest), payload), 2))
    loader = planned(mdir, conf)
    assert not loader.plan_cache.reused and loader.plan_cache.written and loader.plan.order == ORDER
    assert (mdir / PLAN_CACHE_NAME).read_bytes().startswith(HEAD)
    assert planned(mdir, conf).plan_cache.reused


def test_a_first_start_in_a_settled_directory_records_the_key_it_listed(tmp_path, conf, short_window):
    """Taken before the listing: writing the file then changes the directory, so the next start lists
    again (and records the key then)."""
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    settle()
    before = key_of(mdir)
    first = planned(mdir, conf)
    assert first.plan_cache.listed and first.plan_cache.written and stamp_of(mdir) == before != key_of(mdir)


def test_a_directory_whose_mtime_was_set_back_is_trusted_by_its_ctime(tmp_path, conf, listings, monkeypatch):
    """mtime can be set (utime), ctime cannot: an old mtime does not make a recent change trusted."""
    monkeypatch.setattr(plancache, "RACY_NS", WINDOW_NS)
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    planned(mdir, conf)
    hour_ago = time.time_ns() - 3600 * 10**9
    os.utime(mdir, ns=(hour_ago, hour_ago))
    settle()
    assert planned(mdir, conf).plan_cache.restamped  # with the old mtime and a ctime older than the window
    monkeypatch.setattr(plancache, "RACY_NS", 60_000_000_000)  # the ctime is within this window, the mtime not
    listings.clear()
    loader = planned(mdir, conf)
    assert listings == [str(mdir)] and loader.plan_cache.stamp is None and loader.plan_cache.reused


def test_without_the_cache_an_injected_listing_is_used(tmp_path, conf):
    mdir = make_modules_dir(tmp_path / "m", NAMES)
    loader = Loader(str(mdir), conf, listing=lambda directory: ["uc_base.so", "notes.txt"], use_cache=False)
    assert loader.paths == expected_paths(mdir, ["uc_base"])

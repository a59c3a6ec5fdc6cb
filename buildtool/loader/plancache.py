"""The finished plan, kept beside the modules (depmod keeps the order in ``modules.dep`` too).

A warm start then costs one ``stat`` of the directory, one per module and a comparison, instead of
listing the directory, reading each module's metadata and planning again.
``MODULES_DIR/.buildtool-plan.cache`` holds the plan (order, every decision and its *why*, notes,
edges, the configuration as expanded), the metadata of every module the plan read, and the module
names with the directory's key where they were listed, so a hit needs no other file and no listing.

It is used only while everything the plan reads is the same (``_inputs``):

- the module files: the same names, and for each file the same key (``cache.file_key``: device,
  inode, size, mtime and ctime in ns): a module rebuilt, replaced, touched, added or removed is a miss;
- the configuration as parsed: its path, ``autoload`` and its line, every entry with its kind,
  name, line and column (the plan's *why* quotes them);
- the modules directory's path (the plan's messages name it);
- the loader itself: buildtool's version, this file's format, the struct layout, and the size and
  mtime of each source file of the code that makes a plan (``_PLANNING_CODE``).

The names are taken from the file instead of listing the directory only while the directory's key
(``cache.key_of`` of the directory itself, taken before the listing the names came from) is the one
recorded, and is older than ``RACY_NS``, and only for a plan then reused. Entries added, removed or
renamed change a directory's mtime and ctime, but within one clock tick they may not: a key that
recent proves nothing and is neither trusted nor recorded. Writing this file changes the directory
too, so the key is recorded by a later start, in place (``_restamp``): a start that listed, reused
the plan and found the directory settled.

A plan is kept only when it is clean: no errors, every module it looked at readable (an error depends
on who reads the file, see cache.py: it is never served from a cache) and no sources' tree given
(``--tree`` is not an input tracked here). Anything else is planned each time.

The format is a line (``_HEAD``), the directory's key (``_STAMP``: fixed-size, so that it can be
written in place; zeros for none), then ``marshal`` of plain tuples, strings and ints (version 2: no
back-references, so the same plan gives the same bytes). It is private and checked before use: every field must have the
exact type and shape it is written with; a file that is truncated, foreign, of another version or
crafted is a miss (``load`` returns None), never an exception, and the next start writes it again.
What start-up reads is checked before the plan is used; the report's part (decisions, *why*,
notes, edges) when the report first asks (``_KeptPlan``), and if it is damaged then, the plan is
made again from the metadata rather than read from it.
``marshal`` runs no code on load (unlike ``pickle``). A file that passes the checks can still only
say what a plan says: the start-up still opens each module, checks its struct, its name, its
undefined symbols and its requirements as it goes.
"""

from __future__ import annotations

import marshal
import os
import struct
import time
from collections import namedtuple
from dataclasses import astuple, fields
from functools import partial
from itertools import chain, repeat
from typing import Callable

import buildtool
from buildtool import elfinfo, explain, graphs, suggest
from buildtool import fields as record_fields
from buildtool.errors import BuildtoolError
from buildtool.loader import abi, cache, config as config_module, hints, meta as meta_module, plan as plan_module
from buildtool.loader import provided
from buildtool.loader.config import Entry, ModulesConfig
from buildtool.loader.meta import Listing, ModuleMeta, discover, module_paths
from buildtool.loader.plan import Decision, LoadPlan, Outcome, REQUIRED_KINDS, plan_load

try:  # the built-in module: importing hashlib loads OpenSSL (~7 ms), as buildtool/buildstep.py says
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

PLAN_CACHE_NAME = ".buildtool-plan.cache"
FORMAT = 2  # 2: the directory's stamp and the module names (1 had neither: not this file's head, a miss)
_MAGIC = "buildtool-plan"
_HEAD = b"buildtool-plan 2\n"
# The modules directory's key (cache.key_of) where the names were listed, or zeros: fixed-size, so that
# it can be written again in place (a new file would change the directory it describes).
_STAMP = struct.Struct("<5Q")
_UNSTAMPED = bytes(_STAMP.size)
_BODY = len(_HEAD) + _STAMP.size
# A directory changed less than this before it is looked at may change again within the same clock tick
# without its key changing (buildtool/asterisk/scancache.py's rule for files): its key proves nothing then.
RACY_NS = 2_000_000_000
_MARSHAL_VERSION = 2  # no references between objects: the bytes do not depend on reference counts

# The code whose behaviour a plan depends on: a change to any of them (an edited checkout) is a miss.
_PLANNING_CODE = (plan_module, provided, config_module, meta_module, cache, hints, abi, graphs, explain,
                  suggest, record_fields, elfinfo)
_OUTCOMES = {o.value: o for o in Outcome}
_ENTRY_TYPES = (str, str, str, int, int, str, str)  # Entry's fields, in order (astuple(entry))
_META_COLUMNS = ModuleMeta._fields[2:]  # what a module's metadata holds beyond its name and path
# description, flags, support level: always written whole (a plan that read no module has them empty, not None)
_SCALAR_COLUMNS = 3


class _Bad(BuildtoolError):
    """The file is not a plan this loader wrote for these inputs (never leaves this module: a miss)."""


def loader_version() -> tuple:
    stamps = []
    for path in (*(m.__file__ for m in _PLANNING_CODE), __file__):  # this file too: how it is read back
        st = os.stat(path)
        stamps += (st.st_size, st.st_mtime_ns)
    return (FORMAT, buildtool.__version__, abi.STRUCT_SIZE, tuple(stamps))


def _config_row(config: ModulesConfig) -> tuple:
    return tuple(tuple(map(astuple, value)) if f.name == "entries" else value
                 for f in fields(config) for value in (getattr(config, f.name),))


def _inputs(paths: dict[str, str], config: ModulesConfig, label: str) -> tuple | None:
    """Everything the plan reads, as one comparable value; None when a file cannot be stat()ed
    (it is then planned, and reported, as usual). The directory, the names and the file keys go in
    as one digest: 32 bytes to read back and compare instead of thousands of ints."""
    try:
        keys = tuple(map(cache.key_of, map(os.stat, paths.values())))
        version = loader_version()
    except OSError:
        return None
    digest = blake2b("\0".join((label, *paths)).encode("utf-8", "surrogateescape"), digest_size=32)
    digest.update(marshal.dumps(keys, _MARSHAL_VERSION))
    return (_MAGIC, version, _config_row(config), digest.digest())


def directory_stamp(modules_dir: str) -> bytes | None:
    """The directory's key, packed; None when it proves nothing: changed within ``RACY_NS`` of now,
    or not stat()able."""
    now = time.time_ns()  # before the stat: a change after it is in the window too
    try:
        st = os.stat(modules_dir)
        if st.st_mtime_ns < now - RACY_NS and st.st_ctime_ns < now - RACY_NS:
            return _STAMP.pack(*cache.key_of(st))
    except (OSError, struct.error):  # struct.error: a time before 1970
        pass
    return None


# The file as read: the stamp, what the plan was made from (inputs, module names), the plan, and
# which file it was (device, inode) so that the stamp is only ever written again into that one.
_Kept = namedtuple("_Kept", ("stamp", "inputs", "names", "payload", "identity"))


def _read(path: str) -> _Kept | None:
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            raw = handle.read()
        if not raw.startswith(_HEAD):
            return None
        data = marshal.loads(memoryview(raw)[_BODY:])
    except (OSError, EOFError, ValueError, TypeError, MemoryError):  # MemoryError: a crafted length
        return None
    if type(data) is not tuple or len(data) != 3:
        return None
    inputs, names, payload = data
    try:
        _strings(names)
    except (_Bad, TypeError):
        return None
    return _Kept(raw[len(_HEAD):_BODY], inputs, names, payload, (st.st_dev, st.st_ino))


class PlanCache:
    """The plan cache of one modules directory, for one configuration, and the directory's modules
    (``paths``): the names kept with the plan while the directory is provably the one they were
    listed from and the plan is reused, else listed (``listed``)."""

    def __init__(self, modules_dir: str, config: ModulesConfig, listing: Listing | None = None,
                 label: str | None = None) -> None:
        self.path = os.path.join(modules_dir, PLAN_CACHE_NAME)
        self.config = config
        self.label = modules_dir if label is None else label
        self.reused = False     # load() returned the kept plan (for tests and the benchmark)
        self.written = False    # save() wrote a new file
        self.restamped = False  # load() recorded the directory's key in the kept file
        # Taken before the listing; an injected listing is its caller's view, which no key of the
        # directory describes: never skipped, never stamped.
        self.stamp = directory_stamp(modules_dir) if listing is None else None
        kept = self._kept = _read(self.path)
        self.listed = kept is None or self.stamp is None or kept.stamp != self.stamp
        if not self.listed:
            self.paths = module_paths(modules_dir, kept.names)
            self.inputs = _inputs(self.paths, config, self.label)
            self.listed = self.inputs != kept.inputs  # the names kept serve only a plan reused
        if self.listed:
            self.paths = discover(modules_dir, listing)
            # Taken before planning: a file that changes while the plan is made gives a miss next time.
            self.inputs = _inputs(self.paths, config, self.label)

    def load(self, get: Callable[[str], ModuleMeta]) -> LoadPlan | None:
        """The kept plan, or None. ``get``: the metadata store's, to plan again should the report's
        part of the file (decoded later, see ``_KeptPlan``) turn out to be damaged."""
        kept = self._kept
        if self.inputs is None or kept is None or kept.inputs != self.inputs:
            return None

        def replan() -> LoadPlan:
            return plan_load(list(self.paths), get, self.config, self.label)
        try:
            plan = _decode(kept.payload, self.paths, replan)
        except (_Bad, TypeError, ValueError, KeyError):
            return None
        self.reused = True
        if self.stamp is not None and kept.stamp != self.stamp and kept.names == tuple(self.paths):
            self._restamp(kept)
        return plan

    def _restamp(self, kept: _Kept) -> None:
        """Record, in place, that the names kept are the listing of the directory as it is now
        (``self.stamp``, taken before that listing): the next start need not list it."""
        try:
            fd = os.open(self.path, os.O_WRONLY)
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == kept.identity:  # not a file written since it was read
                self.restamped = os.pwrite(fd, self.stamp, len(_HEAD)) == _STAMP.size
        except OSError:
            pass
        finally:
            os.close(fd)

    def save(self, plan: LoadPlan, tree=None) -> bool:
        """Keep ``plan`` when it is clean (module docstring); False when not kept or not writable."""
        if self.inputs is None or tree is not None or not storable(plan):
            return False
        from buildtool.fsutil import write_if_changed
        body = marshal.dumps((self.inputs, tuple(self.paths), _encode(plan)), _MARSHAL_VERSION)
        try:
            self.written = write_if_changed(self.path, _HEAD + (self.stamp or _UNSTAMPED) + body)
        except OSError:
            return False
        return True


def storable(plan: LoadPlan) -> bool:
    return plan.ok and not any(d.invalid for d in plan.decisions.values())


# Read by start-up: decoded and checked before the plan is used. The rest is the report's, decoded at
# first access (_KeptPlan), after the modules are loaded.
_REPORT_FIELDS = ("selected", "preload", "notes", "edges", "decisions")


def _encode(plan: LoadPlan) -> tuple:
    decided = sorted(plan.decisions)
    decisions = [plan.decisions[n] for n in decided]
    metas = [plan.metas[n] for n in sorted(plan.metas)]
    predicted = sorted(plan.predicted.items())
    report = (
        tuple(sorted(plan.selected)), tuple(sorted(plan.preload)), tuple(plan.notes),
        *(tuple(edge[i] for edge in plan.edges) for i in range(3)),
        tuple(decided), tuple(d.outcome.value for d in decisions), tuple(d.why for d in decisions),
        tuple(d.reason for d in decisions), tuple(None if d.chain is None else tuple(d.chain) for d in decisions),
    )
    return (
        _config_row(plan.config), tuple(plan.order), tuple(sorted(plan.explicit)),
        tuple(n for n, _ in predicted), tuple(r for _, r in predicted),
        tuple(m.name for m in metas),
        *(tuple(getattr(m, column) for m in metas) for column in _META_COLUMNS[:_SCALAR_COLUMNS]),
        *map(_column, (tuple(getattr(m, column) for m in metas) for column in _META_COLUMNS[_SCALAR_COLUMNS:])),
        marshal.dumps(report, _MARSHAL_VERSION),
    )


def _column(values: tuple) -> tuple | None:
    """None for a list that is empty in every module (most of them: nothing to read back)."""
    return None if values.count(()) == len(values) else values


def _strings(value) -> tuple:
    """``value`` if it is a tuple of str (one ``str.join``: TypeError at the first that is not)."""
    if type(value) is not tuple:
        raise _Bad
    "".join(value)
    return value


def _string_tuples(value, nonempty: bool = False) -> tuple:
    """``value`` if it is a tuple of tuples of str (of non-empty str with ``nonempty``)."""
    if type(value) is not tuple or not set(map(type, value)) <= {tuple}:
        raise _Bad
    items = [*chain.from_iterable(value)]  # once: join and the search below run over a list, in C
    "".join(items)  # TypeError at the first item that is not a str
    if nonempty and "" in items:
        raise _Bad
    return value


class _KeptPlan(LoadPlan):
    """A plan read back from the cache. What start-up reads (the order, the configuration, the
    metadata, the predicted declines) is decoded and checked before it is used; the report's part
    (every decision and its why, notes, edges) when first asked for, so a start pays only for what
    it loads. Should that part be damaged, the plan is made again from the metadata (whose file keys
    the cache just matched): what the report says is never made up."""

    def __init__(self, report: bytes, replan: Callable[[], LoadPlan], predicted: dict[str, str], **start) -> None:
        self.__dict__.update(start, errors=[], cycles=[], providers=None, _report=report, _replan=replan,
                             _predicted=predicted)

    def __getattr__(self, name: str):  # only for an attribute not set yet: the report's part
        if name not in _REPORT_FIELDS:
            raise AttributeError(name)
        found = self.__dict__
        report, replan = found.pop("_report"), found.pop("_replan")
        try:
            found.update(_decode_report(marshal.loads(report)))
        except (_Bad, TypeError, ValueError, KeyError, EOFError, MemoryError):
            made = replan()
            found.update((f, getattr(made, f)) for f in _REPORT_FIELDS)
        return found[name]

    @property
    def predicted(self) -> dict[str, str]:  # start-up reads it: kept in the start-up part
        return dict(self._predicted)


def _decode(payload, paths: dict[str, str], replan: Callable[[], LoadPlan]) -> LoadPlan:
    if type(payload) is not tuple or len(payload) != 7 + len(_META_COLUMNS):
        raise _Bad
    config_row, order, explicit, predicted_names, predicted_reasons, meta_names, *columns, report = payload
    config = _decode_config(config_row)
    if len(_strings(predicted_names)) != len(_strings(predicted_reasons)) or type(report) is not bytes:
        raise _Bad
    return _KeptPlan(report, replan, dict(zip(predicted_names, predicted_reasons)), config=config,
                     order=list(_strings(order)), explicit=set(_strings(explicit)),
                     required=config.named(*REQUIRED_KINDS), metas=_decode_metas(meta_names, columns, paths))


def _decode_report(report) -> dict:
    if type(report) is not tuple or len(report) != 11:
        raise _Bad
    selected, preload, notes, before, after, kind, decided, outcomes, whys, reasons, chains = report
    count = len(_strings(decided))
    if not (len(_strings(whys)) == len(_strings(reasons)) == len(outcomes) == len(chains) == count):
        raise _Bad
    if not set(map(type, chains)) <= {tuple, type(None)}:
        raise _Bad
    _strings(tuple(chain.from_iterable(c for c in chains if c is not None)))
    if not len(_strings(before)) == len(_strings(after)) == len(_strings(kind)):
        raise _Bad
    for names in (selected, preload, notes):
        _strings(names)
    decisions = dict(zip(decided, map(Decision, map(_OUTCOMES.__getitem__, outcomes), whys, reasons,
                                      repeat(""), (None if c is None else list(c) for c in chains))))
    return {"selected": set(selected), "preload": set(preload), "notes": list(notes),
            "edges": list(zip(before, after, kind)), "decisions": decisions}


def _decode_config(row) -> ModulesConfig:
    if type(row) is not tuple or len(row) != len(fields(ModulesConfig)):
        raise _Bad
    path, autoload, autoload_line, entries = row
    if type(path) is not str or type(autoload) is not bool or type(autoload_line) is not int:
        raise _Bad
    if type(entries) is not tuple:
        raise _Bad
    for entry in entries:
        if type(entry) is not tuple or tuple(map(type, entry)) != _ENTRY_TYPES:
            raise _Bad
    return ModulesConfig(path, autoload, autoload_line, [Entry(*e) for e in entries])


def _decode_metas(names, columns: list, paths: dict[str, str]) -> dict[str, ModuleMeta]:
    count = len(_strings(names))
    description, flags, level, *lists = columns
    if type(flags) is not tuple or not set(map(type, flags)) <= {int}:
        raise _Bad
    if any(c is not None and (type(c) is not tuple or len(c) != count) for c in columns):
        raise _Bad
    _strings(description)
    _strings(level)
    lists = [repeat(()) if column is None else _string_tuples(column, nonempty=True) for column in lists]
    made = map(partial(tuple.__new__, ModuleMeta),
               zip(names, map(paths.__getitem__, names), description, flags, level, *lists))
    return dict(zip(names, made))

"""The cycle finder shared by the scanner, the meson plan and the loader (buildtool/graphs.py).

Expected values are literals worked out by hand on small graphs, not the finder's own output.
"""

from __future__ import annotations

from buildtool import graphs
from buildtool.graphs import Cycle
from buildtool.loader.config import parse_config
from buildtool.loader.meta import ModuleMeta
from buildtool.loader.plan import plan_load
from buildtool.model import Module
from buildtool.resolve import required_cycles


def test_components_are_found_whole_and_sorted():
    graph = {"e": ["d"], "d": ["c"], "c": ["d", "b"], "b": ["a"], "a": ["b"], "f": ["f"], "g": []}
    assert graphs.strongly_connected(graph) == [["a", "b"], ["c", "d"], ["e"], ["f"], ["g"]]


def test_edges_outside_the_graph_are_ignored():
    assert graphs.cycles({"a": ["zz", "b"], "b": ["zz"]}) == []
    assert graphs.strongly_connected({"a": ["zz"]}) == [["a"]]


def test_self_loop_is_a_cycle():
    assert graphs.cycles({"a": ["a"], "b": ["a"]}) == [Cycle(["a", "a"], ["a"])]


def test_shortest_way_round_from_the_smallest_name():
    # a -> b -> c -> d -> a and a shortcut c -> a: the path given is a, b, c, a; the component is all four.
    graph = {"a": ["b"], "b": ["c"], "c": ["d", "a"], "d": ["a"]}
    assert graphs.cycles(graph) == [Cycle(["a", "b", "c", "a"], ["a", "b", "c", "d"])]
    # from the smallest name even when it is reached last in the listing
    assert graphs.cycles({"z": ["y"], "y": ["x"], "x": ["z"]}) == [Cycle(["x", "z", "y", "x"], ["x", "y", "z"])]


def test_several_cycles_sorted_by_path():
    graph = {"m": ["n"], "n": ["m"], "b": ["c"], "c": ["b"], "q": ["q"], "free": ["b"]}
    assert graphs.cycles(graph) == [Cycle(["b", "c", "b"], ["b", "c"]), Cycle(["m", "n", "m"], ["m", "n"]),
                                    Cycle(["q", "q"], ["q"])]


def test_long_chain_does_not_recurse():
    # iterative Tarjan: a chain far deeper than Python's recursion limit, closed into one cycle
    n = 5000
    graph = {f"n{i:05d}": [f"n{(i + 1) % n:05d}"] for i in range(n)}
    [cycle] = graphs.cycles(graph)
    assert len(cycle.component) == n and len(cycle.path) == n + 1 and cycle.path[0] == cycle.path[-1] == "n00000"


def test_module_requiring_itself_is_a_required_cycle_for_the_resolver():
    # (the scanner reports <depend> on itself as self-dependency first; an installed tree can still hold one)
    modules = {"res_self": Module(name="res_self", source="res_self.c", line=1, requires=("res_self",)),
               "res_ok": Module(name="res_ok", source="res_ok.c", line=1, requires=("res_self",))}
    assert required_cycles(modules) == [["res_self", "res_self"]]


def test_module_requiring_itself_is_refused_by_the_loader_plan():
    config, _ = parse_config("[modules]\n", "modules.conf")
    metas = {"a": ModuleMeta(name="a", requires=("a",)), "b": ModuleMeta(name="b")}
    plan = plan_load(list(metas), metas.__getitem__, config)
    assert not plan.ok
    assert [(e.code, e.module, e.message) for e in plan.errors] == [
        ("loader-cycle", "a", "required dependencies form a cycle: a requires a")]
    assert plan.order == ["b"] and plan.cycles == [["a", "a"]]
    assert plan.why["a"] == "not loaded: in a cycle of required dependencies"


def test_component_found_below_the_root_of_a_search():
    # a -> b -> c -> b: the cycle sits one level below where the depth-first search starts
    assert graphs.strongly_connected({"a": ["b"], "b": ["c"], "c": ["b"]}) == [["b", "c"], ["a"]]
    assert graphs.cycles({"a": ["b"], "b": ["c"], "c": ["b"]}) == [Cycle(["b", "c", "b"], ["b", "c"])]


def test_edge_out_of_the_graph_listed_first_does_not_hide_the_others():
    assert graphs.cycles({"b": ["a_outside", "c"], "c": ["b"]}) == [Cycle(["b", "c", "b"], ["b", "c"])]
    # and inside one component, a successor outside it listed first
    assert graphs.cycles({"a": ["a0", "b"], "a0": [], "b": ["a"]}) == [Cycle(["a", "b", "a"], ["a", "b"])]


def test_the_first_shortest_way_round_is_kept():
    # two ways back of the same length: the first in name order (b) is kept, not the last one seen (c)
    assert graphs.cycles({"a": ["b", "c"], "b": ["a"], "c": ["a"]}) == [Cycle(["a", "b", "a"], ["a", "b", "c"])]
    # a longer way round found after the shortest one does not replace it
    graph = {"a": ["b", "c"], "b": ["d"], "c": ["a"], "d": ["a"]}
    assert graphs.cycles(graph) == [Cycle(["a", "c", "a"], ["a", "b", "c", "d"])]


def test_one_topological_order_smallest_ready_first():
    # c needs a, b needs c: a, c, b (not a, b, c: b waits for c); d is free and comes by name
    placed = graphs.topological_order(["b", "d", "c", "a"], {"b": ["c"], "c": ["a"]})
    assert (placed.order, placed.left, placed.dropped) == (["a", "c", "b", "d"], [], [])
    # a priority moves a ready node ahead of a smaller name
    placed = graphs.topological_order(["a", "b", "z"], {}, priority=lambda n: (n != "z", n))
    assert placed.order == ["z", "a", "b"]


def test_soft_cycle_is_broken_and_hard_cycle_left_out():
    # x and y want each other softly: the smallest with its hard edges done (x) goes first, its soft edge dropped
    placed = graphs.topological_order(["x", "y"], {}, {"x": ["y"], "y": ["x"]})
    assert (placed.order, placed.dropped) == (["x", "y"], [("x", ["y"])])
    # p <-> q hard: both left out, with r that needs q; s is free
    placed = graphs.topological_order(["p", "q", "r", "s"], {"p": ["q"], "q": ["p"], "r": ["q"]})
    assert (placed.order, placed.left) == (["s"], ["p", "q", "r"])


def test_a_node_with_two_soft_predecessors_waits_for_both():
    # m wants a and z before it: not ready after a alone, so z (free) comes before it despite its name
    placed = graphs.topological_order(["a", "m", "z"], {}, {"m": ["a", "z"]})
    assert (placed.order, placed.dropped) == (["a", "z", "m"], [])


def test_a_node_whose_hard_edges_are_done_later_is_the_one_forced():
    # b needs a (hard); b and c want each other (soft). Once a is placed, b's hard edges are done and it is
    # the smallest candidate to force, so the soft edge c -> b is the one dropped.
    placed = graphs.topological_order(["a", "b", "c"], {"b": ["a"]}, {"b": ["c"], "c": ["b"]})
    assert (placed.order, placed.left, placed.dropped) == (["a", "b", "c"], [], [("b", ["c"])])


def test_the_other_successors_of_a_dropped_edge_are_still_released():
    # x and y want each other (soft): x is forced, y follows; z needs y (hard) and must still be placed after
    # y, though y's first successor, x, was placed before it
    placed = graphs.topological_order(["x", "y", "z"], {"z": ["y"]}, {"x": ["y"], "y": ["x"]})
    assert (placed.order, placed.left, placed.dropped) == (["x", "y", "z"], [], [("x", ["y"])])
def _reference_order(nodes, hard, soft, priority=None):
    """The order's definition, step by step (quadratic, obviously right): place the smallest ready node;
    when none is ready, the smallest whose hard predecessors are placed, dropping its soft ones."""
    key = priority or (lambda n: n)
    placed: list[str] = []
    dropped = []
    waiting = sorted(nodes, key=key)
    while waiting:
        done = set(placed)
        ready = [n for n in waiting if all(p in done for p in hard.get(n, ()) + soft.get(n, ()))]
        if not ready:
            ready = [n for n in waiting if all(p in done for p in hard.get(n, ()))]
            if not ready:
                return placed, sorted(waiting), dropped
            dropped.append((ready[0], sorted(p for p in soft.get(ready[0], ()) if p not in done)))
        placed.append(ready[0])
        waiting.remove(ready[0])
    return placed, [], dropped


def test_topological_order_equals_its_definition_on_random_graphs():
    import random
    rng = random.Random(11)
    for _ in range(3000):
        names = [f"m{i}" for i in range(rng.randrange(1, 10))]
        hard = {n: [rng.choice(names) for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))] for n in names}
        soft = {n: [rng.choice(names) for _ in range(rng.choice((0, 0, 0, 1, 2)))] for n in names}
        priority = (lambda n: (n not in ("m2", "m5"), n)) if rng.random() < 0.3 else None
        shuffled = rng.sample(names, len(names))
        placed = graphs.topological_order(shuffled, hard, soft, priority)
        assert (placed.order, placed.left, placed.dropped) == _reference_order(names, hard, soft, priority), \
            (hard, soft)

"""Graph algorithms shared by the scanner, the meson plan and the loader: cycles and the one
topological order.

Graphs are ``{node: successors}``; edges to nodes outside the graph are
ignored. Everything is visited in sorted order, so results never depend on
dict or directory order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping


@dataclass(frozen=True)
class Cycle:
    path: list[str]       # closed: [a, b, ..., a], a shortest way round from the smallest name
    component: list[str]  # the whole strongly connected component, sorted


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative, deterministic (nodes and edges visited sorted)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycles(graph: Mapping[str, Iterable[str]]) -> list[Cycle]:
    """Every cycle of ``graph`` (one per strongly connected component, self-loops included)."""
    found_cycles = []
    for component in strongly_connected(graph):
        if len(component) == 1 and component[0] not in graph[component[0]]:
            continue
        members = set(component)
        start = component[0]
        # Shortest way from the start back to itself, inside the component.
        parent: dict[str, str] = {}
        frontier = [start]
        found = False
        while frontier and not found:
            following = []
            for node in frontier:
                for nxt in sorted(graph[node]):
                    if nxt not in members:
                        continue
                    if nxt == start:
                        parent[start] = node
                        found = True
                        break
                    if nxt not in parent:
                        parent[nxt] = node
                        following.append(nxt)
                if found:
                    break
            frontier = following
        path = [start]
        node = parent[start]
        while node != start:
            path.append(node)
            node = parent[node]
        path.append(start)
        path = [path[0]] + path[1:-1][::-1] + [start]
        found_cycles.append(Cycle(path, component))
    return sorted(found_cycles, key=lambda c: c.path)




@dataclass
class Ordering:
    order: list[str]                                   # every node placed, in order
    left: list[str] = field(default_factory=list)      # kept out by a cycle of hard edges, sorted
    dropped: list[tuple[str, list[str]]] = field(default_factory=list)  # soft cycles broken: (node, its
    #                                                    soft predecessors still unplaced), in order


def topological_order(nodes: Iterable[str], hard: Mapping[str, list[str]],
                      soft: Mapping[str, list[str]] | None = None,
                      priority: Callable[[str], Any] | None = None) -> Ordering:
    """Kahn's algorithm, always placing the smallest ready node by ``priority`` (default: the name).

    ``hard`` and ``soft`` map each node to its predecessors (nodes of ``nodes``; repeats count
    as one edge each on both sides). A node is ready when every predecessor is placed. When
    none is ready but one has all its hard predecessors placed, the smallest such node is
    placed anyway and its unplaced soft predecessors are ``dropped`` (a soft edge that would
    close a cycle). Nodes held only by a cycle of hard edges are ``left`` out.

    It is a priority order, so a heap it stays (a level-by-level order would differ from it), but
    only for what the heap must do (issue 9): nodes are ranks from one sort (ints index lists; no
    string is hashed in the loop); the nodes ready from the start are taken from their sorted
    list, and only a node that becomes ready later goes through the heap; the heap of nodes held
    only by soft edges (where a soft cycle is broken) gets only those, not every node.
    """
    soft = soft or {}
    by_rank = sorted(nodes, key=priority)
    rank = {n: i for i, n in enumerate(by_rank)}
    count = len(by_rank)
    hard_succ: list[list[int]] = [[] for _ in range(count)]
    soft_succ: list[list[int]] = [[] for _ in range(count)]
    hard_in = [len(hard.get(name, ())) for name in by_rank]  # predecessors not placed yet
    soft_in = [len(soft.get(name, ())) for name in by_rank]
    for i, name in enumerate(by_rank):
        for p in hard.get(name, ()):
            hard_succ[rank[p]].append(i)
        for p in soft.get(name, ()):
            soft_succ[rank[p]].append(i)

    initial = [i for i in range(count) if not hard_in[i] and not soft_in[i]]  # ascending
    held = [i for i in range(count) if not hard_in[i] and soft_in[i]]  # ascending: already a heap
    heap: list[int] = []
    heappush, heappop = heapq.heappush, heapq.heappop
    emitted = bytearray(count)
    result = Ordering([])
    order = result.order
    taken = 0  # of ``initial``
    while len(order) < count:
        if heap and (taken == len(initial) or heap[0] < initial[taken]):
            cur = heappop(heap)
        elif taken < len(initial):
            cur = initial[taken]
            taken += 1
        else:  # nothing ready: break a soft cycle at the smallest node whose hard edges are done
            while held and emitted[held[0]]:
                heappop(held)
            if not held:
                result.left = sorted(n for i, n in enumerate(by_rank) if not emitted[i])
                return result
            cur = heappop(held)
            name = by_rank[cur]
            result.dropped.append((name, sorted(p for p in soft.get(name, ()) if not emitted[rank[p]])))
        # Each node enters the heap at most once, when its last predecessor is placed, and a node
        # ready from the start never does: whatever is taken here is placed for the first time.
        emitted[cur] = 1
        order.append(by_rank[cur])
        for nxt in hard_succ[cur]:
            if not emitted[nxt]:
                hard_in[nxt] -= 1
                if not hard_in[nxt]:
                    heappush(heap if soft_in[nxt] <= 0 else held, nxt)
        for nxt in soft_succ[cur]:
            if not emitted[nxt]:
                soft_in[nxt] -= 1
                if soft_in[nxt] <= 0 and not hard_in[nxt]:
                    heappush(heap, nxt)
    return result

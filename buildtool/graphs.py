"""Graph algorithms shared by the scanner's and the loader's cycle reports.

Graphs are ``{node: successors}``; edges to nodes outside the graph are
ignored. Everything is visited in sorted order, so results never depend on
dict or directory order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping


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



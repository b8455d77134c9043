"""Independent origins: the sources a set of sources traces back to through their links.

Links point from a source to what it relies on (cites, republishes, translates). A source
that relies on nothing is an origin. Three outlets that all cite one report have one origin.
Sources caught in a citation cycle with no way out count together as one origin (the audit
reports the cycle separately).
"""

from __future__ import annotations

from collections.abc import Iterable


class OriginGraph:
    """The link graph, with each source's origins computed once and cached."""

    def __init__(self, links: Iterable[tuple[int, int]]) -> None:
        self.targets: dict[int, list[int]] = {}
        for source_id, target_id in links:
            self.targets.setdefault(source_id, []).append(target_id)
        self._cache: dict[int, frozenset[int]] = {}

    def forget(self) -> None:
        """Drop the cached origins (after a link was added to `targets`)."""
        self._cache.clear()

    def path(self, start: int, goal: int) -> list[int] | None:
        """A shortest path of source ids from `start` to `goal` along the links, or None."""
        parents: dict[int, int | None] = {start: None}
        frontier = [start]
        while frontier:
            following = []
            for node in frontier:
                for nxt in self.targets.get(node, ()):
                    if nxt in parents:
                        continue
                    parents[nxt] = node
                    if nxt == goal:
                        path, step = [], nxt
                        while step is not None:
                            path.append(step)
                            step = parents[step]
                        return path[::-1]
                    following.append(nxt)
            frontier = following
        return None

    def cycle_path(self, members: list[int]) -> list[int]:
        """A closed walk through a cycle (as `cycles` gives it) from its smallest id."""
        inside, start = set(members), members[0]
        parents: dict[int, int] = {}
        frontier = [start]
        while frontier:
            following = []
            for node in frontier:
                for target in sorted(self.targets.get(node, ())):
                    if target == start:
                        path = [node]
                        while path[-1] != start:
                            path.append(parents[path[-1]])
                        return [*reversed(path), start]
                    if target in inside and target not in parents:
                        parents[target] = node
                        following.append(target)
            frontier = following
        return [*members, start]

    def origins(self, source_id: int) -> frozenset[int]:
        """The origins `source_id` traces back to (itself, when it relies on nothing)."""
        cached = self._cache.get(source_id)
        if cached is not None:
            return cached
        # Iterative walk: every source reachable from source_id; the origins are those
        # with no outgoing link, or, for a closed cycle, its smallest id as the stand-in.
        seen, stack, found = {source_id}, [source_id], set()
        while stack:
            node = stack.pop()
            nexts = self.targets.get(node, ())
            if not nexts:
                found.add(node)
            for nxt in nexts:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        if not found:  # every reachable source relies on another: a closed cycle
            found.add(min(seen))
        result = frozenset(found)
        self._cache[source_id] = result
        return result

    def independent_origins(self, source_ids: Iterable[int]) -> frozenset[int]:
        """The union of the origins of several sources."""
        result: set[int] = set()
        for source_id in source_ids:
            result |= self.origins(source_id)
        return frozenset(result)

    def cycles(self) -> list[list[int]]:
        """Each citation cycle once, as a list of source ids (strongly connected components
        with more than one member)."""
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        on_stack: set[int] = set()
        stack: list[int] = []
        result: list[list[int]] = []
        counter = 0
        nodes = set(self.targets) | {t for ts in self.targets.values() for t in ts}
        for root in sorted(nodes):
            if root in index:
                continue
            work = [(root, iter(self.targets.get(root, ())))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, children = work[-1]
                advanced = False
                for child in children:
                    if child not in index:
                        index[child] = low[child] = counter
                        counter += 1
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(self.targets.get(child, ()))))
                        advanced = True
                        break
                    if child in on_stack:
                        low[node] = min(low[node], index[child])
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
                    if len(component) > 1:
                        result.append(sorted(component))
        return sorted(result)


def describe_origins(count: int, sources: int) -> str:
    """The origin count in words, as a dossier says it."""
    if sources == 0:
        return "no sources"
    if count == 1 and sources > 1:
        return f"{sources} sources, all tracing back to one origin"
    if count == sources:
        return f"{sources} independent source{'s' if sources != 1 else ''}"
    return f"{sources} sources tracing back to {count} independent origins"

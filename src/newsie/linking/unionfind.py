"""Disjoint sets: the one union-find behind organization names and linked events.

`OrgRegistry` joins names that are one organization; `link` joins reports that are one
occurrence. Both need the same three things: find a set's root, join two sets, and list a
set's members (to check a merge against every member before making it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

#: Items are names or record numbers; the smaller root wins, so results never depend on
#: the order items were joined in.
T = TypeVar("T", int, str)


class UnionFind(Generic[T]):
    """Sets of items, with path halving and each root's members kept."""

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._parent: dict[T, T] = {}
        self._members: dict[T, list[T]] = {}
        for item in items:
            self.add(item)

    def add(self, item: T) -> None:
        """A new set of one item; an item already present is left as it is."""
        if item not in self._parent:
            self._parent[item] = item
            self._members[item] = [item]

    def __contains__(self, item: object) -> bool:
        return item in self._parent

    def __iter__(self) -> Iterator[T]:
        return iter(self._parent)

    def __len__(self) -> int:
        return len(self._parent)

    def find(self, item: T) -> T:
        """The root of `item`'s set."""
        parent = self._parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: T, b: T) -> T:
        """Join the sets of `a` and `b`; returns the root of the joined set."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        root, child = (ra, rb) if ra < rb else (rb, ra)
        self._parent[child] = root
        self._members[root] += self._members.pop(child)
        return root

    def members(self, item: T) -> list[T]:
        """Every item in `item`'s set (its root's list: do not change it)."""
        return self._members[self.find(item)]

    def groups(self) -> dict[T, list[T]]:
        """Root -> members, for every set."""
        return dict(self._members)

"""A process-local cache of aggregates as this process last committed them.

Contract: `take(id)` *removes* and returns the cached aggregate (so two concurrent
commands never share, or mutate, one object); the caller `put`s it back only after its
events were committed, at the committed version. A cached aggregate may be stale (another
process appended since): that is safe because every append states the version it expects,
so a decision taken on stale state can never be committed (it raises `VersionConflict`
and the caller reloads from the store). Least recently used entries go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


class AggregateCache(Generic[A]):
    """At most `capacity` aggregates by id (LRU)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[UUID, A] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def take(self, aggregate_id: UUID) -> A | None:
        found = self._items.pop(aggregate_id, None)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, aggregate: A) -> None:
        """Keep `aggregate` (no pending events: call after a committed save)."""
        self._items[aggregate.id] = aggregate
        self._items.move_to_end(aggregate.id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

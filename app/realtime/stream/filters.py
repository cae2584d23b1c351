"""The stream's filters: `type` (CloudEvents types or event names) and `case` (an id)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from app.realtime.stream.catalog import known_topics, resolve_type_filter
from app.service.errors import InvalidParameter
from app.store.types import RecordedEvent


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a consumer wants; an empty filter wants everything."""

    topics: frozenset[str] = frozenset()
    originator_id: UUID | None = None

    @property
    def active(self) -> bool:
        return bool(self.topics) or self.originator_id is not None

    def matches(self, row: RecordedEvent) -> bool:
        if self.topics and row.topic not in self.topics:
            return False
        return self.originator_id is None or row.originator_id == self.originator_id


def parse_filter(types: Iterable[str] | None, case: str | UUID | None) -> EventFilter:
    """Build a filter from `?type=` (repeated or comma-separated) and `?case=`.

    Raises `InvalidParameter` naming the unknown type or the malformed case id.
    """
    topics: set[str] = set()
    for raw in types or ():
        for value in (v.strip() for v in raw.split(",")):
            if not value:
                continue
            info = resolve_type_filter(value)
            if info is None:
                known = ", ".join(i.type for i in known_topics())
                raise InvalidParameter(f"unknown event type {value!r}; known: {known}")
            topics.add(info.topic)
    originator: UUID | None = None
    if isinstance(case, UUID):
        originator = case
    elif case:
        try:
            originator = UUID(case)
        except ValueError as exc:
            raise InvalidParameter(f"case must be a UUID, not {case!r}") from exc
    return EventFilter(frozenset(topics), originator)

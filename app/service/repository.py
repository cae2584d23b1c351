"""Load aggregates from the log and append what a command decided.

The application service's one write path: load -> call the aggregate -> append with
the version the aggregate was loaded at. The store rejects the append if another
command got there first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper

from app.store import AppendRequest, AppendResult, EventStore, IdempotencyKeyReused
from app.store.codec import decode
from app.telemetry.tracing import Tracing

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What every command answers: the stream, its new version, the last position."""

    case_id: UUID
    version: int
    position: int
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": str(self.case_id), "version": self.version, "position": self.position}


class Repository:
    """Aggregates from and to the event store."""

    def __init__(
        self, store: EventStore, mapper: Mapper[UUID], tracing: Tracing | None = None
    ) -> None:
        self.store = store
        self.mapper = mapper
        self.tracing = tracing  # an `append` span; the positions it acknowledged

    async def load(
        self, cls: type[A], aggregate_id: UUID, *, version: int | None = None
    ) -> A | None:
        """The aggregate as of `version` (latest if None), or None if it has no events."""
        rows = await self.store.read_stream(aggregate_id, lte=version)
        aggregate: Any = None
        for row in rows:
            event = decode(self.mapper, row)
            aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
        if aggregate is not None and not isinstance(aggregate, cls):
            return None
        return aggregate

    async def replay(self, key: str | None, request_hash: str) -> CommandResult | None:
        """The first result of an idempotent command already executed with `key`."""
        if key is None:
            return None
        found = await self.store.stored_result(key)
        if found is None:
            return None
        stored_hash, result = found
        if stored_hash != request_hash:
            raise IdempotencyKeyReused(key)
        return _result(result)

    async def save(
        self,
        aggregate: Aggregate,
        *,
        idempotency_key: str | None = None,
        request_hash: str = "",
    ) -> CommandResult:
        """Append the aggregate's pending events (expected version: as loaded)."""
        events = aggregate.collect_events()
        stored = [self.mapper.to_stored_event(e) for e in events]
        request = AppendRequest(stored, idempotency_key=idempotency_key, request_hash=request_hash)
        tracing = self.tracing
        if tracing is not None and tracing.recording():
            with tracing.span("append", events=len(stored)):
                result = await self.store.append(request)
                tracing.appended(result.positions)
        else:
            result = await self.store.append(request)
            if tracing is not None:  # when it was acknowledged (push ack-to-send)
                tracing.appended(result.positions)
        if result.originator_id is None:
            return CommandResult(aggregate.id, aggregate.version, await self.store.max_position())
        return _result(result)


def _result(result: AppendResult) -> CommandResult:
    assert result.originator_id is not None
    return CommandResult(result.originator_id, result.version, result.position, result.replayed)


Command = Callable[[A], None]

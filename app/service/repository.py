"""Load aggregates from the log and append what a command decided.

The application service's one write path: load -> call the aggregate -> append with
the version the aggregate was loaded at. The store rejects the append if another
command got there first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper

from app.store import (
    AppendRequest,
    AppendResult,
    EventStore,
    IdempotencyKeyReused,
    Link,
    Redecide,
    StoreError,
)
from app.store.codec import decode
from app.telemetry.tracing import Tracing
from domain.case import Case
from domain.case_snapshot import case_from_snapshot, snapshot_of

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class Submitted:
    """An append on its way: the request (its `link`), the future its batch resolves."""

    request: AppendRequest
    future: asyncio.Future[AppendResult]
    aggregate_id: UUID
    version: int


@dataclass(frozen=True, slots=True)
class SnapshotCodec:
    """How one aggregate class is kept as a snapshot: `dump` gives the bytes the store
    keeps, `load` the aggregate again (`ValueError` when it cannot: then it is replayed)."""

    cls: type[Aggregate]
    dump: Callable[[Any], bytes]
    load: Callable[[bytes], Any]


def dump_case(case: Case) -> bytes:
    """A case snapshot (`domain.case_snapshot`) as the store keeps it: its fields as one
    line of JSON, then a newline and the packed element index as it is (raw bytes: no
    per-element parsing, no base64 to decode when it is loaded)."""
    data = snapshot_of(case)
    packed: bytes = data.pop("elements")
    return orjson.dumps(data) + b"\n" + packed


def load_case(state: bytes) -> Case:
    """The case `dump_case` kept, or one an older schema kept as plain JSON (upcast)."""
    head, newline, packed = state.partition(b"\n")
    data = orjson.loads(head)
    if not isinstance(data, dict):
        raise ValueError("a case snapshot is a JSON object")
    if newline:
        data["elements"] = packed
    return case_from_snapshot(data)


CASE_SNAPSHOTS = SnapshotCodec(Case, dump_case, load_case)


class Repository:
    """Aggregates from and to the event store.

    With `snapshot_every` N > 0, an aggregate of a class in `snapshots` is loaded from its
    latest snapshot plus the events after it, and `snapshot_due` says when a new version
    crossed a multiple of N (the caller then keeps a snapshot: `keep_snapshot`). A
    snapshot that cannot be read (another schema, bad data) is ignored: the stream is
    replayed, as without one."""

    def __init__(
        self,
        store: EventStore,
        mapper: Mapper[UUID],
        *,
        snapshots: tuple[SnapshotCodec, ...] = (CASE_SNAPSHOTS,),
        snapshot_every: int = 0,
        tracing: Tracing | None = None,
    ) -> None:
        self.store = store
        self.mapper = mapper
        self.tracing = tracing  # an `append` span; the positions it acknowledged
        self.snapshots = {codec.cls: codec for codec in snapshots}
        self.snapshot_every = snapshot_every
        self.snapshots_kept = 0  # a metric
        self._writing: set[asyncio.Task[None]] = set()

    async def load(
        self, cls: type[A], aggregate_id: UUID, *, version: int | None = None
    ) -> A | None:
        """The aggregate as of `version` (latest if None), or None if it has no events."""
        aggregate: Any = None
        codec = self.snapshots.get(cls)
        if version is None and codec is not None and self.snapshot_every > 0:
            found, rows = await self.store.read_latest(aggregate_id)
            if found is not None:
                try:
                    aggregate = codec.load(found[1])
                except ValueError:  # orjson.JSONDecodeError among them
                    log.warning("snapshot of %s unreadable; replaying", aggregate_id)
                    rows = await self.store.read_stream(aggregate_id)
        else:
            rows = await self.store.read_stream(aggregate_id, lte=version)
        for row in rows:
            event = decode(self.mapper, row)
            aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
        if aggregate is not None and not isinstance(aggregate, cls):
            return None
        return aggregate

    def snapshot_due(self, aggregate: Aggregate, before: int) -> bytes | None:
        """The snapshot to keep when the aggregate (no pending events) went from version
        `before` across a multiple of `snapshot_every`, else None."""
        every = self.snapshot_every
        codec = self.snapshots.get(type(aggregate))
        if every <= 0 or codec is None or aggregate.version // every == before // every:
            return None
        return codec.dump(aggregate)

    def keep_snapshot(self, aggregate_id: UUID, version: int, state: bytes) -> None:
        """Write the snapshot in the background (a cache: a failure is only logged)."""

        async def write() -> None:
            try:
                await self.store.write_snapshot(aggregate_id, version, state)
                self.snapshots_kept += 1
            except StoreError as exc:
                log.warning("snapshot of %s at %d not kept: %s", aggregate_id, version, exc)

        task = asyncio.get_running_loop().create_task(write())
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

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
        return await self.settle(
            self.submit(aggregate, idempotency_key=idempotency_key, request_hash=request_hash)
        )

    def submit(
        self,
        aggregate: Aggregate,
        *,
        idempotency_key: str | None = None,
        request_hash: str = "",
        after: Link | None = None,
        link: Link | None = None,
        redecide: Redecide | None = None,
    ) -> Submitted:
        """Queue the aggregate's pending events for the appender now (see
        `AppendRequest` for `after`, `link` and `redecide`); `settle` waits for the
        outcome."""
        events = aggregate.collect_events()
        stored = [self.mapper.to_stored_event(e) for e in events]
        request = AppendRequest(
            stored,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            link=link or Link(),
            after=after,
            redecide=redecide,
        )
        return Submitted(request, self.store.submit(request), aggregate.id, aggregate.version)

    async def settle(self, submitted: Submitted) -> CommandResult:
        """The committed (or replayed) result of a submitted append; raises its error."""
        tracing = self.tracing
        if tracing is not None and tracing.recording():
            with tracing.span("append", events=len(submitted.request.events)):
                result = await submitted.future
                tracing.appended(result.positions)
        else:
            result = await submitted.future
            if tracing is not None:  # when it was acknowledged (push ack-to-send)
                tracing.appended(result.positions)
        if result.originator_id is None:
            position = await self.store.max_position()
            return CommandResult(submitted.aggregate_id, submitted.version, position)
        return _result(result)


def _result(result: AppendResult) -> CommandResult:
    assert result.originator_id is not None
    return CommandResult(result.originator_id, result.version, result.position, result.replayed)


Command = Callable[[A], None]

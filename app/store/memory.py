"""In-memory backend: the store's whole contract without I/O, for service tests.

The log, the idempotency keys and the tracking positions live in a `MemoryLog`; each
batch is planned by the same pure `app.store.batch.plan_batch` the real backends use,
under the log's write lock, and applied in one synchronous step (so a reader sees all
of a batch or none of it). Stores given the same `MemoryLog` behave like processes
sharing one database (they must run on one event loop). `create_store("memory://")`
builds a store on a private log; `create_store("memory://name")` one on the log of
that name, shared by every store of the process that names it while one holds it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.store.base import EventStore
from app.store.batch import BatchPlan, as_uuid, idempotency_keys, needs_missing, originators
from app.store.errors import StoreError, StoreUnavailable, TrackingConflict
from app.store.types import AppendRequest, AppendResult, RecordedEvent


class MemoryLog:
    """What a database would hold: rows by position, streams by version, keys, tracking."""

    def __init__(self) -> None:
        self.rows: list[RecordedEvent] = []  # rows[i].position == i + 1
        self.streams: dict[UUID, list[RecordedEvent]] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # key -> (request_hash, result json)
        self.key_times: dict[str, datetime] = {}  # key -> when it was recorded
        self.tracking: dict[str, int] = {}
        self.snapshots: dict[UUID, tuple[int, bytes]] = {}
        self.lock = asyncio.Lock()  # the write lock: one batch at a time
        self.stores: weakref.WeakSet[MemoryEventStore] = weakref.WeakSet()

    def apply(self, plan: BatchPlan) -> None:
        for row in plan.rows:
            recorded = row.recorded()
            self.rows.append(recorded)
            self.streams.setdefault(recorded.originator_id, []).append(recorded)
        now = datetime.now(UTC)
        for key in plan.keys:
            self.keys[key.key] = (key.request_hash, key.result)
            self.key_times[key.key] = now


def _ignore_outcome(future: asyncio.Future[AppendResult]) -> None:
    """The foreign write's outcome does not matter (it may conflict itself)."""
    if not future.cancelled():
        future.exception()


_named_logs: weakref.WeakValueDictionary[str, MemoryLog] = weakref.WeakValueDictionary()


def named_log(name: str) -> MemoryLog:
    """The log called `name`, created when no live store holds it."""
    log = _named_logs.get(name)
    if log is None:
        log = _named_logs[name] = MemoryLog()
    return log


class MemoryEventStore(EventStore):
    """An `EventStore` over a `MemoryLog` (a fresh one unless given).

    Test hooks: `conflict_next(stream, times)` makes the next `times` appends touching
    `stream` fail with `VersionConflict` as if another process had written first;
    `redecide=False` makes a store that never decides a request again in its batch
    (`AppendRequest.redecide` is ignored), as a backend without that ability.
    """

    def __init__(
        self, log: MemoryLog | None = None, *, redecide: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.log = log if log is not None else MemoryLog()
        self.redecide = redecide
        self._open_now = False
        self._conflicts: dict[UUID, int] = {}

    # -- test hooks -------------------------------------------------------------
    def conflict_next(self, originator_id: UUID, times: int = 1) -> None:
        """Before each of the next `times` appends touching the stream, queue (through
        `submit`, so with every rule and wake-up) a copy of that request's first event
        of the stream: the request then conflicts as if another process had written."""
        self._conflicts[originator_id] = self._conflicts.get(originator_id, 0) + times

    def submit(self, request: AppendRequest) -> asyncio.Future[AppendResult]:
        for oid in originators([request]):
            left = self._conflicts.pop(oid, 0)
            if left <= 0:
                continue
            if left > 1:
                self._conflicts[oid] = left - 1
            first = next(e for e in request.events if as_uuid(e.originator_id) == oid)
            foreign = super().submit(AppendRequest([first]))  # queued first: it wins
            foreign.add_done_callback(_ignore_outcome)
        return super().submit(request)

    # -- the backend ------------------------------------------------------------
    async def _open(self) -> None:
        self._open_now = True
        self.log.stores.add(self)

    async def _close(self) -> None:
        self._open_now = False
        self.log.stores.discard(self)

    def _opened(self) -> MemoryLog:
        if not self._open_now:
            raise StoreUnavailable("the event store is not open")
        return self.log

    async def _write_batch(self, requests: list[AppendRequest]) -> BatchPlan:
        log = self._opened()
        async with log.lock:
            versions = {
                oid: log.streams[oid][-1].originator_version
                for oid in originators(requests)
                if oid in log.streams
            }
            stored = {k: log.keys[k] for k in idempotency_keys(requests) if k in log.keys}
            missing = {  # what a request decided again missed (`AppendRequest.redecide`)
                oid: [r for r in log.streams[oid] if r.originator_version > base]
                for oid, base in needs_missing(requests, versions).items()
            }
            if not self.redecide:
                requests = [dataclasses.replace(r, redecide=None) for r in requests]
            plan = self._plan(requests, len(log.rows), versions, stored, missing)
            if self.before_commit is not None:
                await self.before_commit(requests)  # raising from it applies nothing
            log.apply(plan)
        if plan.rows:  # wake the readers of the other stores sharing the log
            for store in list(log.stores):
                if store is not self:
                    store.notifier.notify(plan.last_position)
        return plan

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, StoreError):
            return exc
        return StoreUnavailable(f"memory store error: {type(exc).__name__}: {exc}")

    async def read(
        self,
        after: int,
        limit: int,
        *,
        until: int | None = None,
        topics: Sequence[str] = (),
        originator_id: UUID | None = None,
    ) -> list[RecordedEvent]:
        rows = self._opened().rows
        stop = len(rows) if until is None else max(0, min(until, len(rows)))
        wanted = frozenset(topics)
        found: list[RecordedEvent] = []
        for i in range(max(after, 0), stop):
            if len(found) >= limit:
                break
            row = rows[i]
            if (not wanted or row.topic in wanted) and (
                originator_id is None or row.originator_id == originator_id
            ):
                found.append(row)
        return found

    async def read_stream(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        rows = [
            r
            for r in self._opened().streams.get(originator_id, [])
            if (gt is None or r.originator_version > gt)
            and (lte is None or r.originator_version <= lte)
        ]
        if desc:
            rows.reverse()
        return rows if limit is None else rows[: max(limit, 0)]

    async def max_position(self) -> int:
        return len(self._opened().rows)

    async def read_snapshot(self, originator_id: UUID) -> tuple[int, bytes] | None:
        return self._opened().snapshots.get(originator_id)

    async def write_snapshot(self, originator_id: UUID, version: int, state: bytes) -> None:
        snapshots = self._opened().snapshots
        kept = snapshots.get(originator_id)
        if kept is None or kept[0] < version:
            snapshots[originator_id] = (version, state)

    async def expire_keys(self, before: datetime) -> int:
        log = self._opened()
        gone = [k for k, at in log.key_times.items() if at < before]
        for key in gone:
            del log.keys[key], log.key_times[key]
        return len(gone)

    async def stored_result(self, key: str) -> tuple[str, AppendResult] | None:
        found = self._opened().keys.get(key)
        return None if found is None else (found[0], AppendResult.from_json(found[1]))

    async def insert_tracking(self, application_name: str, position: int) -> None:
        tracking = self._opened().tracking
        current = tracking.get(application_name)
        if current is not None and current >= position:
            raise TrackingConflict(application_name, position, current)
        tracking[application_name] = position

    async def max_tracking(self, application_name: str) -> int | None:
        return self._opened().tracking.get(application_name)

    async def check(self) -> None:
        self._opened()

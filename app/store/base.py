"""The async event store: one appender task per process, group commit, subscriptions.

Contract (DESIGN.md section 3), the same on every backend:
- positions are contiguous and in commit order: a reader that has seen N has seen
  every event <= N; per-stream versions are contiguous;
- an append states the version it expects (its first event's version - 1); a mismatch
  appends nothing of that request and raises `VersionConflict`, without failing the
  other requests committed in the same batch;
- an `AppendRequest` with a known idempotency key and the same hash appends nothing
  and returns the first result; with another hash it raises `IdempotencyKeyReused`;
- `append` returns only after the batch holding the request has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.store.batch import BatchPlan, plan_batch
from app.store.errors import StoreError, StoreUnavailable
from app.store.notifier import Notifier
from app.store.types import AppendRequest, AppendResult, RecordedEvent

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    request: AppendRequest
    future: asyncio.Future[AppendResult]


class EventStore(ABC):
    """Backend-independent half of the store; subclasses do the I/O."""

    def __init__(self, *, max_batch: int = 1000, poll_interval: float = 1.0) -> None:
        self.max_batch = max_batch
        self.poll_interval = poll_interval
        self.notifier = Notifier()
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._appender: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.batched_requests = 0
        #: When the batch being written began (monotonic), None between batches: a
        #: batch older than its deadline means a stuck appender (`/readyz` says so).
        self.writing_since: float | None = None
        # Fault injection for tests: awaited inside the write transaction, after the
        # inserts and before the commit; raising from it rolls the batch back.
        self.before_commit: Callable[[list[AppendRequest]], Awaitable[None]] | None = None
        #: Told `(requests, seconds)` after each committed batch (metrics); must not block.
        self.on_batch: Callable[[int, float], None] | None = None

    # -- life cycle -------------------------------------------------------------
    async def start(self) -> None:
        await self._open()
        self.notifier.latest = await self.max_position()
        self._appender = asyncio.create_task(self._run_appender(), name="swarmdesk-appender")

    async def close(self) -> None:
        self._closed = True
        if self._appender is not None:
            self._appender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._appender
            self._appender = None
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            pending.request.failed()
            if not pending.future.done():
                pending.future.set_exception(StoreUnavailable("the event store is closing"))
        self.notifier.poke()
        await self._close()

    async def __aenter__(self) -> EventStore:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- writing ----------------------------------------------------------------
    async def append(self, request: AppendRequest) -> AppendResult:
        """Queue the request for the appender and wait until its batch commits."""
        return await self.submit(request)

    def submit(self, request: AppendRequest) -> asyncio.Future[AppendResult]:
        """Queue the request now (so requests keep the order they were submitted in) and
        answer the future its batch resolves. Raises `StoreUnavailable` when closed."""
        future: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        if self._closed or self._appender is None:
            request.failed()
            raise StoreUnavailable("the event store is not running")
        if not request.events and request.idempotency_key is None:
            future.set_result(AppendResult(positions=[], originator_id=None, version=0))
            return future
        self._queue.put_nowait(_Pending(request, future))
        return future

    async def _run_appender(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = []
            for p in batch:
                if p.future.cancelled():
                    p.request.failed()  # its caller gave up: never appended
                else:
                    live.append(p)
            if not live:
                continue
            started = time.perf_counter()
            self.writing_since = time.monotonic()
            try:
                plan = await self._write_batch([p.request for p in live])
            except asyncio.CancelledError:
                for p in live:
                    p.request.failed()
                    if not p.future.done():
                        p.future.set_exception(StoreUnavailable("the event store is closing"))
                raise
            except Exception as exc:  # the whole batch failed: nothing was committed
                error = self._translate(exc)
                log.warning("append batch of %d failed: %s", len(live), error)
                for p in live:
                    p.request.failed()
                    if not p.future.done():
                        p.future.set_exception(error)
                continue
            finally:
                self.writing_since = None
            self.batches += 1
            self.batched_requests += len(live)
            if self.on_batch is not None:
                self.on_batch(len(live), time.perf_counter() - started)
            if plan.rows:
                self.notifier.notify(plan.last_position, [r.recorded() for r in plan.rows])
            for p, outcome in zip(live, plan.outcomes, strict=True):
                if p.future.done():
                    continue
                if isinstance(outcome, Exception):
                    p.future.set_exception(outcome)
                else:
                    p.future.set_result(outcome)

    def _plan(
        self,
        requests: list[AppendRequest],
        max_position: int,
        versions: dict[UUID, int],
        stored_keys: dict[str, tuple[str, str]],
        missing: dict[UUID, list[RecordedEvent]] | None = None,
    ) -> BatchPlan:
        return plan_batch(requests, max_position, versions, stored_keys, missing)

    # -- reading ----------------------------------------------------------------
    async def subscribe(
        self, after: int = 0, *, topics: Sequence[str] = (), page: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        """Every event after `after`, in position order, each once: catch-up, then live.

        Survives a dropped database connection (it retries with backoff) and
        refuses to skip a position: a gap is waited on, never stepped over.
        """
        last = after
        wanted = frozenset(topics)
        backoff = 0.05
        gap_since: float | None = None
        loop = asyncio.get_running_loop()
        while not self._closed:
            rows = self.notifier.recent(last, page)  # at the head: no read back
            try:
                rows = rows if rows is not None else await self.read(last, page)
            except StoreUnavailable:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            if rows and rows[0].position != last + 1:
                # Not yet visible (only a writer outside this store's lock can cause it).
                gap_since = gap_since or loop.time()
                if loop.time() - gap_since > 10:
                    raise StoreError(f"gap in the log after position {last}")
                await asyncio.sleep(0.01)
                continue
            gap_since = None
            for row in rows:
                if row.position != last + 1:
                    break
                last = row.position
                if not wanted or row.topic in wanted:
                    yield row
            if len(rows) < page:
                await self.notifier.wait_beyond(last, self.poll_interval)

    # -- the backend ------------------------------------------------------------
    @abstractmethod
    async def _open(self) -> None: ...

    @abstractmethod
    async def _close(self) -> None: ...

    @abstractmethod
    async def _write_batch(self, requests: list[AppendRequest]) -> BatchPlan:
        """Lock, read positions, versions and keys, plan, insert, commit once."""

    @abstractmethod
    def _translate(self, exc: Exception) -> Exception:
        """Map a driver error to one of `app.store.errors`."""

    @abstractmethod
    async def read(
        self,
        after: int,
        limit: int,
        *,
        until: int | None = None,
        topics: Sequence[str] = (),
        originator_id: UUID | None = None,
    ) -> list[RecordedEvent]:
        """Events with `after` < position <= `until`, in position order, at most `limit`."""

    @abstractmethod
    async def read_stream(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """One stream's events by version."""

    @abstractmethod
    async def read_snapshot(self, originator_id: UUID) -> tuple[int, bytes] | None:
        """`(version, state)` of the stream's latest snapshot, if any (a cache: see
        `write_snapshot`)."""

    @abstractmethod
    async def expire_keys(self, before: datetime) -> int:
        """Forget the idempotency keys recorded before `before` (UTC); how many. A retry
        with a forgotten key is a new command."""

    async def read_latest(
        self, originator_id: UUID
    ) -> tuple[tuple[int, bytes] | None, list[RecordedEvent]]:
        """The stream's latest snapshot (if any) and its events after it, by version
        (backends answer it in one round trip)."""
        found = await self.read_snapshot(originator_id)
        rows = await self.read_stream(originator_id, gt=found[0] if found else None)
        return found, rows

    @abstractmethod
    async def write_snapshot(self, originator_id: UUID, version: int, state: bytes) -> None:
        """Keep `state` as the stream's snapshot at `version`, unless a later one is kept.
        Snapshots are a cache of what replaying the stream gives: deleting them changes
        nothing but the cost of loading."""

    @abstractmethod
    async def max_position(self) -> int:
        """The highest committed position, 0 for an empty log."""

    @abstractmethod
    async def stored_result(self, key: str) -> tuple[str, AppendResult] | None:
        """`(request_hash, result)` recorded for an idempotency key, if any."""

    @abstractmethod
    async def insert_tracking(self, application_name: str, position: int) -> None:
        """Record that `application_name` has processed up to `position` (increasing)."""

    @abstractmethod
    async def max_tracking(self, application_name: str) -> int | None: ...

    @abstractmethod
    async def check(self) -> None:
        """Raise `SchemaMissing` or `StoreUnavailable` unless the store can serve."""

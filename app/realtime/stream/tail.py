"""Catch-up-then-live tail of the log with filters, for the WebSocket and SSE channels.

`Tail` runs a reader task that follows `store.subscribe(after)` (every event once, in
order, no gap or duplicate at the switch to live), keeps the events the filter wants,
serialises each once, and puts it into a bounded queue. The channel takes items with
`next_item()`:

- `Frame(position, body)`: one CloudEvent;
- `Mark(position)`: only on filtered tails, when the queue is empty and the reader has
  passed filtered-out events since the last frame or mark: everything up to `position`
  has been delivered, so a consumer resuming after it rescans nothing. Marks also come
  every `mark_every` filtered-out events during a long catch-up;
- `None` on idle (`idle` seconds without anything to send: the channel may heartbeat).

A consumer that does not keep up fills the queue; when the reader has waited `stall`
seconds to put, the tail ends with `Overflow`: the channel closes and tells the consumer
to resume after the last position it was given (never an unbounded buffer).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import cast

from app.realtime.stream.cloudevents import CloudEventEncoder
from app.realtime.stream.filters import EventFilter
from app.store.base import EventStore
from app.store.types import RecordedEvent

_Rows = AsyncGenerator[RecordedEvent, None]


@dataclass(frozen=True, slots=True)
class Frame:
    position: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Mark:
    position: int


class Overflow(Exception):
    """The consumer fell too far behind; it should resume after `position`."""

    def __init__(self, position: int) -> None:
        super().__init__(f"consumer too slow: resume after position {position}")
        self.position = position


@dataclass(frozen=True, slots=True)
class TailLimits:
    queue: int = 1000  # frames held for one consumer
    stall: float = 10.0  # seconds the reader waits on a full queue before giving up
    idle: float = 1.0  # seconds without an item before `next_item` returns a mark or None
    mark_every: int = 1000  # filtered-out events between marks during a catch-up


@dataclass(slots=True)
class TailStats:
    """This process's tails, read by `/metrics` at scrape time."""

    open: int = 0  # tails being served now
    opened: int = 0  # tails ever opened
    slow_closes: int = 0  # tails ended because their consumer fell behind (`Overflow`)


class Tail:
    """One consumer's tail; use as an async context manager, then call `next_item`.

    `reader` is the task that follows the log: it ends only with an error (`Overflow`
    included), which `next_item` raises once the items queued before it are taken
    (`Overflow` at once). A channel blocked in a send can wait on `reader` too.
    """

    def __init__(
        self,
        store: EventStore,
        encoder: CloudEventEncoder,
        after: int,
        event_filter: EventFilter,
        limits: TailLimits,
        stats: TailStats | None = None,
    ) -> None:
        self._stats = stats if stats is not None else TailStats()
        self._store = store
        self._encoder = encoder
        self._filter = event_filter
        self._limits = limits
        self._queue: asyncio.Queue[Frame | Mark] = asyncio.Queue(limits.queue)
        self._start = after
        self._scanned = after  # reader: every event <= this was queued or filtered out
        self._error: BaseException | None = None
        self.given = after  # channel: every item <= this was handed out by `next_item`
        self.reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Tail:
        self._stats.open += 1
        self._stats.opened += 1
        self.reader = asyncio.create_task(self._read(), name="swarmdesk-stream-tail")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stats.open -= 1
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader

    async def _put(self, item: Frame | Mark) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            try:
                await asyncio.wait_for(self._queue.put(item), self._limits.stall)
            except TimeoutError:
                self._stats.slow_closes += 1
                raise Overflow(self.given) from None

    async def _read(self) -> None:
        flt, encode = self._filter, self._encoder.encode
        skipped = 0
        try:
            async with contextlib.aclosing(cast(_Rows, self._store.subscribe(self._start))) as rows:
                async for row in rows:
                    if flt.matches(row):
                        await self._put(Frame(row.position, encode(row)))
                        skipped = 0
                    else:
                        skipped += 1
                        if skipped >= self._limits.mark_every:
                            await self._put(Mark(row.position))
                            skipped = 0
                    self._scanned = row.position
            raise RuntimeError("the event store closed")
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._error = exc
            raise

    async def next_item(self) -> Frame | Mark | None:
        """The next thing to send (see the module docstring); raises what ended the tail."""
        if isinstance(self._error, Overflow):
            raise Overflow(self.given)
        queue = self._queue
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            if self._error is not None:
                raise self._error from None
            try:
                item = await asyncio.wait_for(queue.get(), self._limits.idle)
            except TimeoutError:
                if self._error is not None:
                    raise self._error from None
                if self._filter.active and self._scanned > self.given and queue.empty():
                    self.given = self._scanned
                    return Mark(self.given)
                return None
        self.given = item.position
        return item

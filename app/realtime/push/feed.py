"""The process's one change feed: every view change, in position order, into the hub.

Only one process per database runs the projector. Its own process takes each committed
batch straight from the projector as its listener (`follow_projector`), with no database
round trip, whenever that batch continues what the feed has delivered; otherwise (a
batch from before the feed caught up, or a projector that restarted elsewhere) the hook
is only a wake-up. Every process also tails the `view_changes` table by position from
where it stopped: on a wake-up from the hook, from PostgreSQL ``LISTEN swarmdesk_views``
for a projector in another process, and on a polling timer because a notification is
only a hint. The feed starts at the table's current end (clients start from snapshots,
not from the feed) and hands the hub every change after it exactly once, in order. The
projector writes all changes of a position in one transaction, so a page is cut at the
last complete position.

`position` is a watermark: every change at or below it has been handed to the hub (or
predates the feed) and none above it has. Both paths keep it: the hook takes a batch
covering (after, upto] only when ``after <= position`` and hands over the changes above
`position`; a table read hands over the rows above `position` (re-checked after the
query, since the hook may have run meanwhile) and, when it saw the table's end, raises
`position` to what the in-process projector had committed before the query began (its
changes were all visible to that query).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.realtime.push.hub import Hub
from app.store.listen import listen_forever
from projections.batches import CommittedBatch
from projections.changes import ViewChange, read_all_changes
from projections.fold import Change
from projections.list_queries import load_list_index
from projections.lists import ListIndex
from projections.projector import Projector

log = logging.getLogger(__name__)

CHANNEL = "swarmdesk_views"


class ChangeFeed:
    """See the module docstring. `position` is the watermark described there."""

    def __init__(
        self,
        engine: AsyncEngine,
        hub: Hub,
        *,
        listen_dsn: str | None = None,
        poll_seconds: float = 1.0,
        page: int = 2000,
        channel: str = CHANNEL,
    ) -> None:
        self.engine = engine
        self.hub = hub
        self.listen_dsn = listen_dsn
        self.channel = channel  # `projections.writer.notify_channel` of the schema
        self.poll_seconds = poll_seconds
        self.page = page
        self.position = 0
        #: Which lists keep each case as of `position`: the shared list changes fan out
        #: to them (`projections.lists.ListIndex`).
        self.lists = ListIndex()
        self.listening = asyncio.Event()
        self.direct = 0  # batches handed over from the in-process hook
        self._committed: Callable[[], int] | None = None
        self._writing: Callable[[], int] = lambda: 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def follow_projector(self, projector: Projector) -> None:
        """Take the in-process projector's committed batches directly (see `attach`)."""
        self.attach(lambda: projector.position, lambda: projector.writing)
        projector.add_listener(self.on_batch)

    def on_batch(self, batch: CommittedBatch) -> None:
        self.on_committed(batch.changes, batch.after, batch.position)

    def attach(
        self, committed: Callable[[], int], writing: Callable[[], int] | None = None
    ) -> None:
        """Name the in-process projector's committed position (enables the direct path)
        and the position of the batch it is writing (its NOTIFY is then no news: the
        hook hands that batch over as soon as the write returns)."""
        self._committed = committed
        if writing is not None:
            self._writing = writing

    async def start(self) -> None:
        self.position, self.lists = await load_list_index(self.engine)
        self._tasks.append(asyncio.create_task(self._follow(), name="swarmdesk-push-feed"))
        if self.listen_dsn:
            self._tasks.append(asyncio.create_task(self._listen(), name="swarmdesk-push-listen"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def poke(self) -> None:
        """Ask for a read soon (a hint; cheap to call often)."""
        self._wake.set()

    def on_committed(
        self,
        changes: Sequence[ViewChange | Change],
        after: int | None = None,
        upto: int | None = None,
    ) -> None:
        """The projector's in-process hook: `changes` are all those in (after, upto].

        Handed to the hub at once when they continue `position`; otherwise (or without
        the bounds) a wake-up for a table read.
        """
        if after is None or upto is None or after > self.position:
            self._wake.set()
            return
        fresh = [c for c in changes if c.position > self.position]
        if fresh:
            self.hub.publish_all(self.lists.expand(fresh, self.hub.channels.__contains__))
        self.position = max(self.position, upto)
        self.direct += 1

    async def catch_up(self) -> int:
        """Hand the hub every committed change after `position`; returns how many."""
        total = 0
        limit = self.page
        while True:
            seen = self._committed() if self._committed is not None else 0
            rows = await read_all_changes(self.engine, self.position, limit)
            full = len(rows) >= limit  # rows, and the shared list changes they carry
            if full:  # the page may end inside a position: keep complete ones only
                last = rows[-1].position
                rows = [c for c in rows if c.position < last]
                if not rows:  # one position with more changes than a page
                    limit *= 2
                    continue
            rows = [c for c in rows if c.position > self.position]  # the hook ran meanwhile
            if rows:
                self.hub.publish_all(self.lists.expand(rows, self.hub.channels.__contains__))
                self.position = rows[-1].position
                total += len(rows)
            if not full:
                self.position = max(self.position, seen)
                return total
            limit = self.page

    async def _follow(self) -> None:
        backoff = 0.1
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            try:
                await self.catch_up()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: keep the position, retry
                log.warning("push feed read failed (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self._wake.set()

    def _notified(self, payload: str) -> None:
        """A NOTIFY names the position its batch committed: no news once the feed has
        passed it, nor for the batch the in-process projector is writing (its hook hands
        it over; should that write never return, the polling timer reads it)."""
        if not (payload.isdigit() and int(payload) <= max(self.position, self._writing())):
            self._wake.set()

    async def _listen(self) -> None:
        """Keep one LISTEN connection; reconnect with backoff when it drops."""
        dsn = self.listen_dsn
        assert dsn is not None
        await listen_forever(
            lambda: asyncpg.connect(dsn),
            self.channel,
            self._notified,
            on_connect=self._wake.set,  # whatever was committed while we were away
            connected=self.listening,
        )

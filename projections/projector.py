"""The projector: follows the log from its tracked position and keeps the views.

Loop: lead (see `projections.leader`), read the tracked position, subscribe after it,
take what is queued (up to `batch_size` events) as a batch, fold it (`ViewSet`), write
documents + changes + tracking in one transaction (`write_batch`), then hand the
`CommittedBatch` to every listener added with `add_listener` and wake `wait_for`
waiters. A batch computed on a stale position writes nothing and the loop restarts
from the tracked position, so every event is applied exactly once, also across a crash
(the transaction either committed with its position or did not happen).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from projections import pg_writer
from projections.batches import BatchListener, CommittedBatch, settled
from projections.case_items import Item, ItemKey
from projections.envelope import Envelope, Recorded
from projections.fold import Change, ViewSet
from projections.leader import leadership
from projections.lists import ENTRY
from projections.writer import (
    TrackingMoved,
    load_doc,
    load_items,
    notify_channel,
    read_tracking,
    write_batch,
)

log = logging.getLogger(__name__)

Subscribe = Callable[[int], AsyncIterator[Any]]
Decode = Callable[[Any], Any]
_END = object()


class Projector:
    """One per process; only the leader writes. `position` is what it has committed."""

    def __init__(
        self,
        engine: AsyncEngine,
        subscribe: Subscribe,
        decode: Decode,
        *,
        schema: str | None = None,
        batch_size: int = 500,
        retry: float = 1.0,
        pool: Any = None,
        connect: Callable[[], Awaitable[Any]] | None = None,
        linger: float = 0.01,
        linger_backlog: int = 8,
    ) -> None:
        self.engine = engine
        #: Optional asyncpg pool on the same database and schema (PostgreSQL): batches
        #: are then written through `projections.pg_writer` (fewer round trips).
        self.pool = pool
        #: Optional: opens the asyncpg connection `run` holds while it follows (same
        #: database and schema; ``synchronous_commit = off`` is for it to set, see
        #: `project`); without it, `run` holds one of `pool`'s.
        self.connect = connect
        self._pg: Any = None  # the pool connection held while following
        self.subscribe = subscribe
        self.decode = decode
        self.schema = schema
        self.batch_size = batch_size
        #: Under load (at least `linger_backlog` more events already queued when a batch
        #: starts), wait `linger` seconds for more before taking it: fewer, larger
        #: batches, so fewer transactions, NOTIFYs and tracking updates, and a case's
        #: document is written once for all its events in the batch. At a light load
        #: (the push latency benchmark sends one command at a time) nothing waits.
        self.linger = linger
        self.linger_backlog = linger_backlog
        #: The in-process fold of a batch (PostgreSQL path) yields to the event loop
        #: after every `fold_step` events: a batch of 100 folds for several ms, which
        #: requests would otherwise wait out (0: never yields).
        self.fold_step = 8
        self.retry = retry
        self._listeners: list[BatchListener] = []
        #: Told `(rows, seconds)` after each committed batch (metrics, traces); must not
        #: block.
        self.on_batch: Callable[[Sequence[Recorded], float], None] | None = None
        self.position = 0
        self.leading = False
        self.leaderships = 0  # times this projector took the lead (a metric)
        self.restarts = 0  # attempts abandoned by a watchdog (a metric)
        self._attempt: asyncio.Task[None] | None = None
        #: The last position of the batch being (or last) written (the push feed reads it).
        self.writing = 0
        self.batches = 0
        self.events = 0
        # Fault injection for tests: awaited inside the transaction, before commit.
        self.before_commit: Callable[[int], Awaitable[None]] | None = None
        self._advanced = asyncio.Condition()
        #: Documents as last committed by this projector, by (view, key), least recent first.
        self._docs: OrderedDict[tuple[str, str], dict[str, Any] | None] = OrderedDict()
        self.cache_size = 5_000
        self._task: asyncio.Task[None] | None = None

    def add_listener(self, listener: BatchListener) -> None:
        """Call `listener` with every committed batch from now on."""
        self._listeners.append(listener)

    # -- life cycle -----------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="swarmdesk-projector")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await settled(task)  # a cancellation of `close` itself still propagates

    async def run(self) -> None:
        """Lead, then follow the log until cancelled; restart after failures. When the
        leadership is lost (its connection died), stop projecting at once and lead
        again before following (the tracking compare-and-set stays the fence)."""
        while True:
            async with leadership(self.engine, self.schema, self.retry) as lost:
                self.leading = True
                self.leaderships += 1
                follow = asyncio.create_task(self._follow_forever(), name="projector-follow")
                watch = asyncio.create_task(lost.wait(), name="projector-leadership")
                try:
                    await asyncio.wait({follow, watch}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    self.leading = False
                    for task in (follow, watch):
                        task.cancel()
                    await settled(follow)
                    await settled(watch)
                if follow.done() and not follow.cancelled():
                    follow.result()  # it only ends by failing: raise that
                log.warning("projector lost its leadership; stopped, leading again")

    def restart(self) -> bool:
        """Abandon the current attempt to follow (a watchdog's remedy): the projector
        starts again from its tracked position. False when it is not following."""
        attempt = self._attempt
        if attempt is None or attempt.done():
            return False
        self.restarts += 1
        attempt.cancel()
        return True

    async def _follow_forever(self) -> None:
        """Follow in attempts; each ends by failing (then again from the tracked
        position) or by `restart`; a cancellation of this task ends it for good."""
        while True:
            attempt = self._attempt = asyncio.create_task(self._follow(), name="projector-attempt")
            try:
                await asyncio.wait({attempt})
            except asyncio.CancelledError:
                attempt.cancel()
                await settled(attempt)
                raise
            if attempt.cancelled():
                log.warning("projector restarted by its watchdog")
                continue
            error = attempt.exception()
            if isinstance(error, TrackingMoved):
                log.info("projector restarts: %s", error)
            elif error is not None:
                log.error("projector failed; restarting from the tracked position", exc_info=error)
                await asyncio.sleep(self.retry)

    async def wait_for(self, position: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True once this projector has committed `position` (False after `timeout`)."""
        async with self._advanced:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._advanced.wait_for(lambda: self.position >= position), timeout
                )
        return self.position >= position

    # -- the loop -------------------------------------------------------------------
    async def _follow(self) -> None:
        if self.connect is not None:
            pg = await self.connect()
            try:
                await self._follow_on(pg)
            finally:
                await pg.close()
            return
        if self.pool is None:
            await self._follow_on(None)
            return
        async with self.pool.acquire() as pg:
            await self._follow_on(pg)

    async def _follow_on(self, pg: Any) -> None:
        self._pg = pg
        self._docs.clear()
        async with self.engine.connect() as conn:
            start = await read_tracking(conn)
        await self._advance(start)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.batch_size * 4)
        pump = asyncio.create_task(self._pump(start, queue))
        try:
            expected = start
            while True:
                batch = await self._take(queue, pump)
                expected = await self.project(batch, expected)
        finally:
            self._pg = None
            pump.cancel()
            await settled(pump)

    async def _pump(self, after: int, queue: asyncio.Queue[Any]) -> None:
        try:
            async for row in self.subscribe(after):
                await queue.put(row)
        finally:  # never await here: a full queue's only reader may be the canceller
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(_END)

    async def _take(self, queue: asyncio.Queue[Any], pump: asyncio.Task[None]) -> list[Any]:
        if queue.empty() and pump.done():  # ended while the queue was full: no _END
            pump.result()
            raise RuntimeError("the subscription ended")
        first = await queue.get()
        if self.linger > 0 and queue.qsize() >= self.linger_backlog:
            await asyncio.sleep(self.linger)
        batch = [first]
        while len(batch) < self.batch_size and not queue.empty():
            batch.append(queue.get_nowait())
        if any(row is _END for row in batch):
            pump.result()  # re-raise the subscription's failure
            raise RuntimeError("the subscription ended")
        return batch

    async def project(self, rows: Sequence[Recorded], expected: int) -> int:
        """Fold `rows` (which follow `expected`) and commit them; the new position.

        On PostgreSQL (`projections.pg_writer`) a batch is one statement, committed on
        its own; the connection `connect` opens commits without waiting for the WAL
        flush (``synchronous_commit = off``, for that connection only): views, changes
        and tracking are derived from the durable log and commit together, so a crash
        can only lose the last moments of projection, which the projector redoes from
        the tracking position it finds (the fold is deterministic, so it writes the same
        changes at the same positions). Elsewhere, reads and writes share one
        transaction, with the same setting for that transaction on PostgreSQL.
        """
        position = rows[-1].position
        cache = self._docs
        started = time.perf_counter()
        try:
            if self._pg is not None:
                done = await self._project_pg(self._pg, rows, expected, position, cache)
            elif self.pool is not None:  # called outside `run` (tests, tools): borrow one
                async with self.pool.acquire() as pg:
                    done = await self._project_pg(pg, rows, expected, position, cache)
            else:
                done = await self._project(rows, expected, position, cache)
        except BaseException:
            cache.clear()  # documents may be half-folded: trust only the database
            raise
        if self.on_batch is not None:
            self.on_batch(rows, time.perf_counter() - started)
        return done

    async def _project(
        self,
        rows: Sequence[Recorded],
        expected: int,
        position: int,
        cache: OrderedDict[tuple[str, str], dict[str, Any] | None],
    ) -> int:
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.text("SET LOCAL synchronous_commit = off"))

            async def load(view: str, key: str) -> dict[str, Any] | None:
                if (view, key) in cache:  # taken out: folding edits documents in place
                    return cache.pop((view, key))
                return await load_doc(conn, view, key)

            async def items(keys: list[ItemKey]) -> dict[ItemKey, Item]:
                return await load_items(conn, keys)

            views = ViewSet(load=load, load_items=items)
            for row in rows:
                await views.apply(Envelope(row.position, self.decode(row)))
            changes, dirty = views.take_changes()
            await write_batch(
                conn,
                expected=expected,
                position=position,
                changes=changes,
                dirty=dirty,
                docs=views.docs,
                items=views.items.rows(),
                channel=notify_channel(self.schema),
            )
            if self.before_commit is not None:
                await self.before_commit(position)
        return await self._committed(views, changes, len(rows), expected, position)

    async def _project_pg(
        self,
        pg: Any,
        rows: Sequence[Recorded],
        expected: int,
        position: int,
        cache: OrderedDict[tuple[str, str], dict[str, Any] | None],
    ) -> int:
        """`_project` on the held asyncpg connection (`projections.pg_writer`)."""
        envelopes = [Envelope(row.position, self.decode(row)) for row in rows]
        # The case documents the batch needs and the cache lacks, in one round trip
        # (absent ones, such as those of cases the batch opens, are known absent). The
        # reads need no transaction with the write: this projector is the views' only
        # writer, and the write's tracking compare-and-set fails if another took over.
        wanted = {str(e.stream_id) for e in envelopes if "." not in e.name}  # case events
        missing = [key for key in wanted if ("case", key) not in cache]
        found = await pg_writer.load_docs(pg, "case", missing) if missing else {}
        prefetched = {("case", key): found.get(key) for key in missing}

        async def load(view: str, key: str) -> dict[str, Any] | None:
            if (view, key) in cache:
                return cache.pop((view, key))
            if (view, key) in prefetched:
                return prefetched.pop((view, key))
            return await pg_writer.load_doc(pg, view, key)

        async def items(keys: list[ItemKey]) -> dict[ItemKey, Item]:
            return await pg_writer.load_items(pg, keys)

        views = ViewSet(load=load, load_items=items)
        step = self.fold_step
        for n, env in enumerate(envelopes, 1):
            await views.apply(env)
            if step and n % step == 0:  # let requests run between slices of a large batch
                await asyncio.sleep(0)
        changes, dirty = views.take_changes()
        if self.before_commit is not None:
            await self.before_commit(position)
        self.writing = position
        await pg_writer.write_batch(  # one statement: it commits, or writes nothing
            pg,
            expected=expected,
            position=position,
            changes=changes,
            dirty=dirty,
            docs=views.docs,
            items=views.items.rows(),
            channel=notify_channel(self.schema),
            members_kept=views.members_kept,
        )
        return await self._committed(views, changes, len(rows), expected, position)

    async def _committed(
        self, views: ViewSet, changes: list[Change], count: int, expected: int, position: int
    ) -> int:
        """After the commit: remember the documents, advance, tell the listeners."""
        self._remember(views.docs)
        self.batches += 1
        self.events += count
        await self._advance(position)
        if changes and self._listeners:
            batch = CommittedBatch(changes, expected, position)  # ops as JSON text
            for listener in self._listeners:
                try:
                    listener(batch)
                except Exception:
                    log.exception("a committed-batch listener failed")
        return position

    def _remember(self, docs: dict[tuple[str, str], dict[str, Any] | None]) -> None:
        """Keep the committed documents (LRU), so the next batch need not read them back.

        Safe because this projector is the only writer of the views while it leads; the
        cache is emptied whenever it (re)starts following, and after any failed batch."""
        cache = self._docs
        for key, doc in docs.items():
            if key[0] == ENTRY:  # written whole each time, never read back
                continue
            cache[key] = doc
            cache.move_to_end(key)
        while len(cache) > self.cache_size:
            cache.popitem(last=False)

    async def _advance(self, position: int) -> None:
        async with self._advanced:
            self.position = position
            self._advanced.notify_all()

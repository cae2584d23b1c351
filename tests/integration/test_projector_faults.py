"""The projector cannot freeze: a batch that fails while the subscription's queue is
full restarts it (the pump never waits on a queue only its canceller drains); closing
it completes in every state; on PostgreSQL, losing the leadership's connection stops
projecting at once, and it leads again and catches up."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.store import EventStore
from app.store.factory import asyncpg_dsn
from projections.leader import lock_key
from projections.watchdog import Watchdog
from tests.conftest import Database
from tests.support import PG_URL
from tests.views_support import actor, append, briefing_case, projector_for


async def _backlog(store: EventStore, cases: int) -> int:
    position = 0
    for _ in range(cases):
        position = await append(store, briefing_case(actor("o"), actor("e"), actor("x")))
    return position


async def test_a_failed_batch_with_a_full_queue_restarts_instead_of_freezing(
    database: Database, store: EventStore
) -> None:
    end = await _backlog(store, 20)  # about 300 events: far more than the queue holds
    projector = projector_for(store, database.url, database.schema, batch_size=4)
    failures = 3

    async def fail_a_few(position: int) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            await asyncio.sleep(0.05)  # the pump fills the queue meanwhile
            raise RuntimeError("the database went away mid-batch")

    projector.before_commit = fail_a_few
    projector.start()
    try:
        assert await projector.wait_for(end, 30), projector.position
        assert failures == 0
    finally:
        await asyncio.wait_for(projector.close(), 5)  # closing never hangs
        await projector.engine.dispose()


async def test_close_completes_while_waiting_for_events(
    database: Database, store: EventStore
) -> None:
    projector = projector_for(store, database.url, database.schema)
    projector.start()
    for _ in range(100):
        if projector.leading:
            break
        await asyncio.sleep(0.02)
    await asyncio.wait_for(projector.close(), 5)
    assert not projector.leading
    await projector.engine.dispose()


async def _terminate_leader(schema: str | None) -> int:
    key = lock_key(schema) & 0xFFFFFFFFFFFFFFFF
    conn = await asyncpg.connect(asyncpg_dsn(PG_URL))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
            " AND classid = $1 AND objid = $2 AND objsubid = 1",
            key >> 32,
            key & 0xFFFFFFFF,
        )
        for row in rows:
            await conn.execute("SELECT pg_terminate_backend($1)", row["pid"])
        return len(rows)
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_lost_leadership_stops_then_leads_again(pg_database: Database) -> None:
    async with pg_database.store() as store:
        first = await _backlog(store, 2)
        projector = projector_for(store, pg_database.url, pg_database.schema)
        projector.start()
        try:
            assert await projector.wait_for(first, 20)
            assert projector.leaderships == 1
            assert await _terminate_leader(pg_database.schema) == 1
            for _ in range(250):  # the check runs every second
                if projector.leaderships == 2:
                    break
                await asyncio.sleep(0.02)
            assert projector.leaderships == 2, "it never noticed that it lost its lock"
            end = await _backlog(store, 2)
            assert await projector.wait_for(end, 20)  # leads again and catches up
            assert projector.leading
        finally:
            await asyncio.wait_for(projector.close(), 5)
            await projector.engine.dispose()


@pytest.mark.postgres
async def test_it_keeps_trying_to_lead_while_the_database_cannot_be_reached(
    pg_database: Database,
) -> None:
    """Found by the chaos suite (a database stopped for 2 s): the lock's session ended,
    the projector tried to lead again while connections were refused, and that error
    ended its task for good: views froze until the process restarted."""
    down = False

    async def connect() -> asyncpg.Connection:
        if down:
            raise ConnectionRefusedError(111, "Connection refused")
        return await asyncpg.connect(
            asyncpg_dsn(PG_URL), server_settings={"search_path": pg_database.schema or ""}
        )

    async with pg_database.store() as store:
        projector = projector_for(store, pg_database.url, pg_database.schema)
        projector.engine = create_async_engine(PG_URL, async_creator=connect)
        projector.start()
        try:
            assert await projector.wait_for(await _backlog(store, 1), 20)
            down = True
            assert await _terminate_leader(pg_database.schema) == 1
            for _ in range(250):
                if not projector.leading:
                    break
                await asyncio.sleep(0.02)
            assert not projector.leading
            await asyncio.sleep(0.5)  # several attempts to lead are refused meanwhile
            down = False
            end = await _backlog(store, 1)
            assert await projector.wait_for(end, 20), "it gave up leading for good"
            assert projector.leaderships == 2
        finally:
            await asyncio.wait_for(projector.close(), 5)
            await projector.engine.dispose()


async def test_the_watchdog_restarts_a_projector_stuck_behind_a_growing_log(
    database: Database, store: EventStore
) -> None:
    await _backlog(store, 1)
    projector = projector_for(store, database.url, database.schema)
    hang = asyncio.Event()
    released = asyncio.Event()

    async def hang_once(position: int) -> None:
        if not released.is_set():
            hang.set()
            await asyncio.Event().wait()  # a statement that never returns

    projector.before_commit = hang_once
    watchdog = Watchdog(projector, store.max_position, stall=0.3, every=0.05)
    projector.start()
    watching = asyncio.create_task(watchdog.run())
    try:
        await asyncio.wait_for(hang.wait(), 10)
        for _ in range(100):
            if watchdog.stuck:
                break
            await asyncio.sleep(0.05)
        assert watchdog.stuck
        assert watchdog.lag > 0
        released.set()  # the restarted attempt's batches go through
        end = await _backlog(store, 1)
        assert await projector.wait_for(end, 20)
        assert projector.restarts >= 1
        for _ in range(100):
            if not watchdog.stuck and watchdog.lag == 0:
                break
            await asyncio.sleep(0.05)
        assert not watchdog.stuck
        assert watchdog.lag == 0
    finally:
        watching.cancel()
        await asyncio.wait({watching})
        await asyncio.wait_for(projector.close(), 5)
        await projector.engine.dispose()

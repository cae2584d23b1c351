"""Bad input and failures: typed errors naming the case and position, no partial write."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
from eventsourcing.persistence import StoredEvent

from app.store import (
    AppendRequest,
    EventDecodeError,
    EventStore,
    SchemaMissing,
    StoreUnavailable,
    create_store,
)
from app.store.codec import create_mapper, decode
from app.store.factory import asyncpg_dsn
from app.store.postgres import PostgresEventStore
from tests.conftest import Database
from tests.support import PG_URL, require_postgres


async def test_unknown_event_type_names_case_and_position(store: EventStore) -> None:
    stream = uuid4()
    await store.append(AppendRequest([StoredEvent(stream, 1, "nowhere.module:Gone", b"{}")]))
    (row,) = await store.read(0, 10)
    with pytest.raises(EventDecodeError) as info:
        decode(create_mapper(), row)
    assert info.value.originator_id == stream
    assert info.value.position == 1
    assert "nowhere.module:Gone" in str(info.value)


async def test_corrupt_state_names_case_and_position(store: EventStore) -> None:
    stream = uuid4()
    topic = "domain.case:Case.ContextAdded"
    await store.append(AppendRequest([StoredEvent(stream, 1, topic, b"\xff not json")]))
    (row,) = await store.read(0, 10)
    with pytest.raises(EventDecodeError) as info:
        decode(create_mapper(), row)
    assert (info.value.originator_id, info.value.originator_version) == (stream, 1)
    assert str(stream) in str(info.value)
    assert "position 1" in str(info.value)


async def test_missing_tables_raise_schema_missing(tmp_path: Path) -> None:
    store = create_store(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaMissing, match="swarmdesk migrate"):
        await store.start()
    await store.close()


@pytest.mark.postgres
async def test_missing_tables_on_postgres() -> None:
    require_postgres()
    store = create_store(PG_URL, schema=f"absent_{uuid4().hex[:8]}")
    with pytest.raises(SchemaMissing):
        await store.start()
    await store.close()


async def test_database_down_is_store_unavailable() -> None:
    store = create_store("postgresql+asyncpg://postgres@127.0.0.1:1/test")
    with pytest.raises(StoreUnavailable):
        await store.start()
    await store.close()


async def test_failed_batch_appends_nothing(store: EventStore) -> None:
    stream = uuid4()

    async def fail(_: list[AppendRequest]) -> None:
        raise RuntimeError("disk on fire")

    store.before_commit = fail
    with pytest.raises(StoreUnavailable):
        await store.append(AppendRequest([StoredEvent(stream, 1, "t:E", b"{}")]))
    store.before_commit = None
    assert await store.read(0, 10) == []
    result = await store.append(AppendRequest([StoredEvent(stream, 1, "t:E", b"{}")]))
    assert result.positions == [1]  # the rolled-back batch left no gap


@pytest.mark.postgres
async def test_subscribers_survive_dropped_connections(pg_database: Database) -> None:
    database = pg_database
    writer = database.store()
    reader = database.store(poll_interval=5.0)
    await writer.start()
    await reader.start()
    assert isinstance(reader, PostgresEventStore)
    await asyncio.wait_for(reader.listener_connected.wait(), 5)
    stream = uuid4()
    seen: list[int] = []
    done = asyncio.Event()

    async def follow() -> None:
        async for row in reader.subscribe(0):
            seen.append(row.position)
            if row.position == 20:
                done.set()
                return

    task = asyncio.create_task(follow())
    try:
        for v in range(1, 11):
            await writer.append(AppendRequest([StoredEvent(stream, v, "t:E", b"{}")]))
        # The database drops every connection of the reader's store.
        admin = await asyncpg.connect(asyncpg_dsn(PG_URL))
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'swarmdesk' AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        await asyncio.sleep(0.3)
        for v in range(11, 21):
            for _ in range(20):  # the writer's pool may hand out a dead connection once
                try:
                    await writer.append(
                        AppendRequest([StoredEvent(stream, v, "t:E", json.dumps(v).encode())])
                    )
                    break
                except StoreUnavailable:
                    await asyncio.sleep(0.05)
        # The LISTEN connection comes back, and wakes the reader well before its 5 s poll.
        await asyncio.wait_for(done.wait(), 4)
        assert seen == list(range(1, 21))
        assert reader.listener_connected.is_set()
    finally:
        task.cancel()
        await writer.close()
        await reader.close()


@pytest.mark.postgres
async def test_a_pool_connection_comes_back_clean_without_the_reset_query(
    pg_database: Database,
) -> None:
    """The pool skips asyncpg's reset query, but a transaction left open is still rolled
    back on release: the next user never sees it, nor what it wrote."""
    async with pg_database.store() as store:
        assert isinstance(store, PostgresEventStore)
        pool = store.pool
        async with pool.acquire() as conn:
            assert conn.get_reset_query() == ""
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMP TABLE leaked (x int) ON COMMIT DROP")
            backend = await conn.fetchval("SELECT pg_backend_pid()")
        for _ in range(pool.get_size()):  # whichever connection the pool hands out next
            async with pool.acquire() as again:
                if await again.fetchval("SELECT pg_backend_pid()") != backend:
                    continue
                assert not again.is_in_transaction()
                assert await again.fetchval("SELECT to_regclass('pg_temp.leaked')") is None
                return
        pytest.fail("the connection was not handed out again")


@pytest.mark.postgres
async def test_only_the_derived_connection_commits_without_waiting_for_the_flush(
    pg_database: Database,
) -> None:
    async with pg_database.store() as store:
        assert isinstance(store, PostgresEventStore)
        derived = await store.connect_derived()
        try:
            assert await derived.fetchval("SHOW synchronous_commit") == "off"
            assert await derived.fetchval("SHOW search_path") == pg_database.schema
        finally:
            await derived.close()
        async with store.pool.acquire() as conn:  # the log's readers and writers: durable
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
        writer = await store._writer()
        assert await writer.fetchval("SHOW synchronous_commit") == "on"

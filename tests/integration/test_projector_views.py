"""The projector on both backends: live views, replay == live, exactly-once across a
failure before commit, view changes that rebuild the documents."""

from __future__ import annotations

import json
from typing import Any

import jsonpatch
import pytest
import sqlalchemy as sa

from app.store import EventStore
from app.store.codec import decode
from app.store.postgres import PostgresEventStore
from domain import Role
from projections.changes import can_read_case, load_view, read_all_changes, read_changes
from projections.rebuild import rebuild, verify
from projections.writer import TrackingMoved
from tests.conftest import Database
from tests.views_support import (
    MAPPER,
    actor,
    agent,
    append,
    briefing_case,
    canonical,
    projector_for,
)


def _reader(store: EventStore) -> Any:
    async def read(after: int, limit: int, upto: int) -> Any:
        return await store.read(after, limit, until=upto)

    return read


async def test_live_views_match_replay_and_changes(database: Database, store: EventStore) -> None:
    await check_live_views(database, store, pool=None)


@pytest.mark.postgres
async def test_live_views_on_the_asyncpg_fast_path(pg_database: Database) -> None:
    async with pg_database.store() as store:
        assert isinstance(store, PostgresEventStore)
        await check_live_views(pg_database, store, pool=store.pool)


async def check_live_views(database: Database, store: EventStore, pool: Any) -> None:
    owner, expert, other = actor("Olga"), actor("Ed"), actor("Otto")
    case = briefing_case(owner, expert, other)
    projector = projector_for(store, database.url, database.schema, pool=pool)
    projector.start()
    try:
        last = await append(store, case)
        last = await append(store, agent("Ada"))
        assert await projector.wait_for(last, 10)
        engine = projector.engine
        found = await load_view(engine, "case", str(case.id))
        assert found is not None
        position, doc = found
        assert doc["position"] == position
        assert doc["version"] == case.version
        assert doc["proposals"][0]["status"] == "accepted"
        assert set(doc["participants"]) == {str(owner.id), str(expert.id)}
        assert doc["acknowledgements"] == {str(expert.id): 8}
        # access: owner, expert, the pending invitee, a supervisor; not a stranger
        assert await can_read_case(engine, case.id, owner)
        assert await can_read_case(engine, case.id, other)
        assert await can_read_case(engine, case.id, actor("Sue", Role.SUPERVISOR))
        assert not await can_read_case(engine, case.id, actor("Stranger"))
        # the inbox of the mentioned, invited agent
        inbox = await load_view(engine, "inbox", str(other.id))
        assert inbox is not None
        kinds = [i["kind"] for i in inbox[1]["items"]]
        assert kinds == ["invitation", "mention"]
        assert inbox[1]["position"] == inbox[0]
        # applying every change's ops in order reproduces the stored document
        rebuilt: Any = {}
        for change in await read_changes(engine, "case", str(case.id), 0, 1000):
            rebuilt = jsonpatch.apply_patch(rebuilt, change.ops)
        assert canonical(rebuilt) == canonical(doc)
        everything = await read_all_changes(engine, 0, 10_000)
        assert [c.position for c in everything] == sorted(c.position for c in everything)
        # replay of the whole log equals the live views
        read = _reader(store)
        tracked, diffs = await verify(engine, read, lambda r: decode(MAPPER, r))
        assert tracked == last
        assert diffs == []
    finally:
        await projector.close()
        await projector.engine.dispose()


async def test_failure_before_commit_applies_nothing_then_exactly_once(
    database: Database, store: EventStore
) -> None:
    await check_failure_before_commit(database, store, pool=None)


@pytest.mark.postgres
async def test_failure_before_commit_on_the_asyncpg_fast_path(pg_database: Database) -> None:
    async with pg_database.store() as store:
        assert isinstance(store, PostgresEventStore)
        await check_failure_before_commit(pg_database, store, pool=store.pool)
        # a batch computed on a stale position writes nothing
        stale = projector_for(store, pg_database.url, pg_database.schema, pool=store.pool)
        rows = await store.read(0, 3)
        count = "SELECT count(*) FROM view_changes"
        before = await store.pool.fetchval(count)
        with pytest.raises(TrackingMoved):
            await stale.project(rows, 0)
        assert await store.pool.fetchval(count) == before
        await stale.engine.dispose()


async def check_failure_before_commit(database: Database, store: EventStore, pool: Any) -> None:
    owner, expert, other = actor("Olga"), actor("Ed"), actor("Otto")
    last = await append(store, briefing_case(owner, expert, other))
    failing = projector_for(store, database.url, database.schema, batch_size=3, pool=pool)
    calls: list[int] = []

    async def boom(position: int) -> None:
        calls.append(position)
        if len(calls) == 2:
            raise RuntimeError("crash before commit")

    failing.before_commit = boom
    rows = await store.read(0, 100)
    first = await failing.project(rows[:3], 0)
    with pytest.raises(RuntimeError):
        await failing.project(rows[3:6], first)
    await failing.engine.dispose()
    # a new projector resumes from the committed position and finishes the log
    fresh = projector_for(store, database.url, database.schema, batch_size=4, pool=pool)
    fresh.start()
    try:
        assert await fresh.wait_for(last, 10)
        engine = fresh.engine
        async with engine.connect() as conn:
            n = (
                await conn.execute(
                    sa.text(
                        "SELECT count(*), count(DISTINCT position) "
                        "FROM view_changes WHERE view='case'"
                    )
                )
            ).one()
        assert tuple(n) == (len(rows), len(rows))  # each event's case change exactly once
        _, diffs = await verify(engine, _reader(store), lambda r: decode(MAPPER, r))
        assert diffs == []
    finally:
        await fresh.close()
        await fresh.engine.dispose()


async def test_rebuild_swaps_in_equal_tables(database: Database, store: EventStore) -> None:
    owner, expert, other = actor("Olga"), actor("Ed"), actor("Otto")
    case = briefing_case(owner, expert, other)
    last = await append(store, case)
    projector = projector_for(store, database.url, database.schema)
    projector.start()
    try:
        assert await projector.wait_for(last, 10)
        engine = projector.engine
        before = await load_view(engine, "case", str(case.id))
        async with engine.begin() as conn:  # corrupt the stored view on purpose
            await conn.execute(sa.text("UPDATE case_views SET doc = '{}' WHERE view = 'case'"))
        _, diffs = await verify(engine, _reader(store), lambda r: decode(MAPPER, r))
        assert [d.table for d in diffs] == ["case_views"]
        result = await rebuild(engine, _reader(store), lambda r: decode(MAPPER, r), last)
        assert result.events == len(await store.read(0, 1000))
        assert await load_view(engine, "case", str(case.id)) == before
        _, diffs = await verify(engine, _reader(store), lambda r: decode(MAPPER, r))
        assert diffs == []
        # the live projector continues after the swap
        case.change_priority(owner, priority="urgent", reason="VIP")
        newer = await append(store, case)
        assert await projector.wait_for(newer, 10)
        found = await load_view(engine, "case", str(case.id))
        assert found is not None
        assert json.loads(json.dumps(found[1]))["priority"] == "urgent"
    finally:
        await projector.close()
        await projector.engine.dispose()

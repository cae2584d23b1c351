"""The push change log (`view_changes`) as stored: compact, an item's text written once
(in its `case_items` row), read back as exactly the patches pushed live; and a batch
that changes no membership leaves the `case_members` rows alone (issue #11, growth)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from app.store import EventStore
from app.store.postgres import PostgresEventStore
from projections.batches import CommittedBatch
from projections.changes import read_all_changes, read_changes
from tests.conftest import Database
from tests.views_support import actor, append, briefing_case, projector_for


async def test_stored_changes_hold_item_text_once_and_read_back_as_pushed(
    database: Database, store: EventStore
) -> None:
    await check_change_log(database, store, pool=None)


@pytest.mark.postgres
async def test_stored_changes_on_the_asyncpg_fast_path(pg_database: Database) -> None:
    async with pg_database.store() as store:
        assert isinstance(store, PostgresEventStore)
        await check_change_log(pg_database, store, pool=store.pool)


async def check_change_log(database: Database, store: EventStore, pool: Any) -> None:
    owner, expert, other = actor("Olga"), actor("Ed"), actor("Otto")
    case = briefing_case(owner, expert, other)
    needle = f"needle-{uuid.uuid4().hex}"
    texts = {
        "insight": f"{needle}-insight" + " pool timeout" * 40,
        "context": f"{needle}-context" + " checkout" * 30,
        "message": f"{needle}-message" + " refund" * 30,
    }
    for n in range(25):  # past the insights' window: entry 0 is removed first
        case.post_insight(
            expert, insight_id=uuid.uuid4(), kind="finding", text=f"{n}{texts['insight']}"
        )
    case.add_context(owner, context_id=uuid.uuid4(), kind="environment", text=texts["context"])
    case.log_customer_message(
        owner, message_id=uuid.uuid4(), direction="inbound", text=texts["message"]
    )
    projector = projector_for(store, database.url, database.schema, batch_size=7, pool=pool)
    live: list[tuple[str, str, int, Any]] = []

    def listen(batch: CommittedBatch) -> None:
        live.extend((c.view, c.key, c.position, json.loads(c.ops_json)) for c in batch.changes)

    projector.add_listener(listen)
    projector.start()
    try:
        last = await append(store, case)
        assert await projector.wait_for(last, 20)
        engine = projector.engine
        async with engine.connect() as conn:
            stored = [r[0] for r in await conn.execute(sa.text("SELECT ops FROM view_changes"))]
            items = [r[0] for r in await conn.execute(sa.text("SELECT doc FROM case_items"))]
        # the text is in the item rows (insight, context, message; timeline lines start
        # with it too) and in no stored change
        assert not [ops for ops in stored if needle in ops]
        for kind, text in texts.items():
            assert any(text in doc for doc in items), kind
        # ... yet the changes read back are exactly the patches pushed live
        key = str(case.id)
        assert any(needle in json.dumps(ops) for v, _, _, ops in live if v == "case")
        everything = await read_all_changes(engine, 0, 100_000)
        assert [(c.view, c.key, c.position, c.ops) for c in everything] == sorted(
            live, key=lambda c: (c[2], c[0], c[1])
        )
        mine = [c for c in live if c[0] == "case" and c[1] == key]
        for after in (0, mine[10][2], mine[-2][2]):  # a resume with ?after= from anywhere
            resumed = await read_changes(engine, "case", key, after, 1000)
            assert [(c.position, c.ops) for c in resumed] == [
                (p, ops) for _, _, p, ops in mine if p > after
            ]
        # the proposal is stored inline: its change reads as it was (open), although its
        # row now holds the accepted proposal
        proposed = [ops for _, _, _, ops in mine if "/proposals/-" in json.dumps(ops)]
        assert proposed
        assert proposed[0][0]["value"]["status"] == "open"
    finally:
        await projector.close()
        await projector.engine.dispose()


@pytest.mark.postgres
async def test_a_batch_that_changes_no_membership_leaves_the_member_rows(
    pg_database: Database,
) -> None:
    async with pg_database.store() as store:
        assert isinstance(store, PostgresEventStore)
        owner, expert, other = actor("Olga"), actor("Ed"), actor("Otto")
        case = briefing_case(owner, expert, other)
        projector = projector_for(store, pg_database.url, pg_database.schema, pool=store.pool)
        projector.start()
        members = "SELECT agent_id, relation, xmin::text FROM case_members WHERE case_id = $1"
        try:
            assert await projector.wait_for(await append(store, case), 20)
            before = {r[0]: (r[1], r[2]) for r in await store.pool.fetch(members, str(case.id))}
            assert {a: r for a, (r, _) in before.items()} == {
                str(owner.id): "owner",
                str(expert.id): "participant",
                str(other.id): "invited",
            }
            case.post_insight(expert, insight_id=uuid.uuid4(), kind="finding", text="more")
            assert await projector.wait_for(await append(store, case), 20)
            kept = {r[0]: (r[1], r[2]) for r in await store.pool.fetch(members, str(case.id))}
            assert kept == before  # the same row versions: not rewritten
            case.leave(expert)
            assert await projector.wait_for(await append(store, case), 20)
            after = {r[0]: r[1] for r in await store.pool.fetch(members, str(case.id))}
            assert after == {str(owner.id): "owner", str(other.id): "invited"}
        finally:
            await projector.close()
            await projector.engine.dispose()

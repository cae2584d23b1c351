"""Retention, on both backends: idempotency keys expire (a retry after that is a new
command), and the push change log keeps only its newest positions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.auth.tokens import Principal
from app.service.cases import CaseService
from app.service.context import CommandContext
from app.service.repository import Repository
from app.service.retention import Retention
from app.settings import RetentionSettings
from app.store import EventStore
from app.store.codec import create_mapper
from domain.actors import Actor, Role
from domain.case import Case
from projections.db import create_views_engine
from projections.retention import prune_changes
from projections.tables import view_changes
from tests.conftest import Database

OWNER = Principal("retention-owner", "Olga", Role.AGENT)


async def test_keys_expire_and_a_late_retry_is_a_new_command(
    database: Database, store: EventStore
) -> None:
    cases = CaseService(Repository(store, create_mapper()))
    opened = await cases.open(
        CommandContext(OWNER),
        lambda actor, case_id: Case.open(actor, case_id=case_id, customer="A", subject="s"),
    )
    keyed = CommandContext.of(
        OWNER, method="POST", path="/acks", body={"version": 1}, idempotency_key="ack-1"
    )

    def ack(case: Case, actor: Actor) -> None:
        case.acknowledge_briefing(actor, version=1)

    first = await cases.execute(opened.case_id, keyed, ack)
    again = await cases.execute(opened.case_id, keyed, ack)  # a retry: the first result
    assert (again.version, again.position) == (first.version, first.position)
    now = datetime.now(UTC)
    assert await store.expire_keys(now - timedelta(hours=1)) == 0  # younger: kept
    engine = create_views_engine(database.url, schema=database.schema)
    try:
        retention = Retention(store, engine, RetentionSettings())
        pruned = await retention.prune(now + timedelta(hours=25))  # a day later
    finally:
        await engine.dispose()
    assert pruned.keys == 1
    assert await store.stored_result("retention-owner:ack-1") is None
    late = await cases.execute(opened.case_id, keyed, ack)  # the same key: a new command
    assert late.version == first.version + 1


async def test_old_changes_are_pruned_the_newest_kept(database: Database) -> None:
    engine = create_views_engine(database.url, schema=database.schema)
    try:
        rows = [
            {"view": "case", "key": f"k{p % 3}", "position": p, "version": p, "ops": json.dumps([])}
            for p in range(1, 51)
        ]
        async with engine.begin() as conn:
            await conn.execute(sa.insert(view_changes), rows)
        assert await prune_changes(engine, keep=10, slice_positions=7) == 40
        async with engine.connect() as conn:
            left = (await conn.execute(sa.select(view_changes.c.position))).scalars().all()
        assert sorted(left) == list(range(41, 51))
        assert await prune_changes(engine, keep=10) == 0  # nothing more to do
    finally:
        await engine.dispose()

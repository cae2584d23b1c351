"""Invitation expiry on both backends, with an injected clock (nothing sleeps): the timer
is kept in the database, fires once when due even with two firers at once and after a
fresh start, and is cancelled by an answer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from app.service.cases import CaseService
from app.service.expiry import InvitationTimers
from app.service.repository import Repository
from app.store import EventStore
from app.store.codec import event_name
from domain import Case
from projections.db import create_views_engine
from tests.conftest import Database
from tests.views_support import MAPPER, actor, append

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def _names(store: EventStore, case_id: uuid.UUID) -> list[str]:
    return [event_name(r.topic) for r in await store.read_stream(case_id)]


async def test_expires_once_with_two_firers_and_after_a_restart(
    database: Database, store: EventStore
) -> None:
    owner, late, quick = actor("Olga"), actor("Lee"), actor("Quinn")
    case = Case.open(owner, customer="ACME", subject="Stuck")
    due = T0 + timedelta(minutes=30)
    first, second = uuid.uuid4(), uuid.uuid4()
    case.invite_expert(owner, invitation_id=first, expert_id=late.id, reason="a", expires_at=due)
    case.invite_expert(owner, invitation_id=second, expert_id=quick.id, reason="b", expires_at=due)
    await append(store, case)
    engines = [create_views_engine(database.url, schema=database.schema) for _ in range(3)]
    clock = Clock()
    try:
        firers = [
            InvitationTimers(store, e, MAPPER, CaseService(Repository(store, MAPPER)), clock=clock)
            for e in engines
        ]
        a, b, restarted = firers
        assert await a.step() == 0  # scheduled, not due
        assert [t["id"].split(":")[1] for t in await a.timers.pending()] == sorted(
            [str(first), str(second)]
        )
        # quinn answers in time: the timer goes with the answer
        case.decline_invitation(quick, reason="on leave")
        await append(store, case)
        clock.now = due - timedelta(seconds=1)
        assert await a.step() == 0
        assert [t["id"] for t in await a.timers.pending()] == [f"invitation-expiry:{first}"]
        # due: two firers at once, one event
        clock.now = due
        settled = await asyncio.gather(a.step(), b.step())
        assert sum(settled) >= 1
        names = await _names(store, case.id)
        assert names.count("InvitationExpired") == 1
        assert await a.timers.pending() == []
        # a fresh firer (a restart) finds nothing left to do, and appends nothing
        assert await restarted.step() == 0
        assert (await _names(store, case.id)).count("InvitationExpired") == 1
    finally:
        for e in engines:
            await e.dispose()


async def test_a_timer_left_by_a_dead_process_fires_at_the_next_start(
    database: Database, store: EventStore
) -> None:
    owner, late = actor("Olga"), actor("Lee")
    case = Case.open(owner, customer="ACME", subject="Stuck")
    due = T0 + timedelta(minutes=5)
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=late.id, reason="a",
                       expires_at=due)  # fmt: skip
    await append(store, case)
    clock = Clock()
    engine = create_views_engine(database.url, schema=database.schema)
    try:
        dead = InvitationTimers(store, engine, MAPPER, CaseService(Repository(store, MAPPER)),
                                clock=clock)  # fmt: skip
        await dead.follower.catch_up()  # scheduled, then the process is gone
        clock.now = due + timedelta(hours=1)
        fresh = InvitationTimers(store, engine, MAPPER, CaseService(Repository(store, MAPPER)),
                                 clock=clock)  # fmt: skip
        assert await fresh.step() == 1
        assert (await _names(store, case.id)).count("InvitationExpired") == 1
    finally:
        await engine.dispose()

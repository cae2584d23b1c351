"""Invitation expiry on both backends, on the process's one timer runner
(`app.service.timekeeper`), with a `ManualClock` (nothing sleeps): the timer is kept in the
`timers` table, fires once when due even with two runners at once and after a fresh
start, and is cancelled by an answer; two timekeepers lead in turn, one at a time, and
the leader fires every kind; a timer pending in the old `invitation_timers` table
(revision 0011) is moved by revision 0016 and fires once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from app.service.cases import CaseService
from app.service.clock import ManualClock
from app.service.expiry import KIND, InvitationExpiry, timer_key
from app.service.repository import Repository
from app.service.timekeeper import Timekeeper
from app.service.timers import Handler, Timer
from app.store import EventStore
from app.store.codec import event_name
from app.store.factory import asyncpg_dsn
from app.store.migrate import alembic_config, upgrade, upgrade_async
from domain import Case
from projections.db import create_views_engine
from tests.conftest import Database
from tests.support import PG_URL, drop_schema_sql, fresh_schema, require_postgres
from tests.views_support import MAPPER, actor, append

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def _names(store: EventStore, case_id: uuid.UUID) -> list[str]:
    return [event_name(r.topic) for r in await store.read_stream(case_id)]


def _process(store: EventStore, engine: AsyncEngine, clock: ManualClock) -> Timekeeper:
    """What `app.bootstrap.start_timers` builds in one process (without the SLA engine)."""
    keeper = Timekeeper(engine, clock, retry=0.05)
    cases = CaseService(Repository(store, MAPPER))
    keeper.add(InvitationExpiry(store, keeper.timers, MAPPER, cases, clock, poll_seconds=0.05,
                                wake=keeper.runner.wake))  # fmt: skip
    return keeper


def _expiry(keeper: Timekeeper) -> InvitationExpiry:
    part = keeper.parts[0]
    assert isinstance(part, InvitationExpiry)
    return part


async def _pending(keeper: Timekeeper) -> list[str]:
    async with keeper.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT key FROM timers WHERE state = 'pending' ORDER BY key")
        )
        return list(rows.scalars())


@pytest.fixture
async def engines(database: Database) -> AsyncIterator[list[AsyncEngine]]:
    made = [create_views_engine(database.url, schema=database.schema) for _ in range(3)]
    yield made
    for e in made:
        await e.dispose()


async def test_expires_once_with_two_runners_and_after_a_restart(
    store: EventStore, engines: list[AsyncEngine]
) -> None:
    owner, late, quick = actor("Olga"), actor("Lee"), actor("Quinn")
    case = Case.open(owner, customer="ACME", subject="Stuck")
    due = T0 + timedelta(minutes=30)
    first, second = uuid.uuid4(), uuid.uuid4()
    case.invite_expert(owner, invitation_id=first, expert_id=late.id, reason="a", expires_at=due)
    case.invite_expert(owner, invitation_id=second, expert_id=quick.id, reason="b", expires_at=due)
    await append(store, case)
    clock = ManualClock(T0)
    a, b, restarted = (_process(store, e, clock) for e in engines)
    await _expiry(a).catch_up()  # scheduled, not due
    assert await a.runner.fire_due() == 0
    assert await _pending(a) == sorted([timer_key(str(first)), timer_key(str(second))])
    found = await a.timers.get(timer_key(str(first)))
    assert found is not None
    assert found[0].payload == {"case_id": str(case.id), "invitation_id": str(first)}
    assert found[0].due_at == due
    # quinn answers in time: the timer goes with the answer
    case.decline_invitation(quick, reason="on leave")
    await append(store, case)
    await clock.set(due - timedelta(seconds=1))
    await _expiry(a).catch_up()
    assert await a.runner.fire_due() == 0
    assert await _pending(a) == [timer_key(str(first))]
    assert (await a.timers.get(timer_key(str(second))) or (None, ""))[1] == "cancelled"
    # due: two runners at once (two leaders for a moment), one event
    await clock.set(due)
    fired = await asyncio.gather(a.runner.fire_due(), b.runner.fire_due())
    assert sum(fired) >= 1
    assert (await _names(store, case.id)).count("InvitationExpired") == 1
    assert await _pending(a) == []
    # the follower sees the expiry: nothing is scheduled again
    await _expiry(a).catch_up()
    assert await _pending(a) == []
    # a fresh process (a restart) finds nothing left to do, and appends nothing
    await _expiry(restarted).catch_up()
    assert await restarted.runner.fire_due() == 0
    assert (await _names(store, case.id)).count("InvitationExpired") == 1


async def test_a_timer_left_by_a_dead_process_fires_at_the_next_start(
    store: EventStore, engines: list[AsyncEngine]
) -> None:
    owner, late = actor("Olga"), actor("Lee")
    case = Case.open(owner, customer="ACME", subject="Stuck")
    due = T0 + timedelta(minutes=5)
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=late.id, reason="a",
                       expires_at=due)  # fmt: skip
    await append(store, case)
    clock = ManualClock(T0)
    dead = _process(store, engines[0], clock)
    await _expiry(dead).catch_up()  # scheduled, then the process is gone
    await clock.set(due + timedelta(hours=1))
    fresh = _process(store, engines[1], clock)
    assert await fresh.runner.fire_due() == 1
    assert (await _names(store, case.id)).count("InvitationExpired") == 1
    assert _expiry(fresh).expired == 1


@dataclass
class Probe:
    """A second timer part (kind "probe"): what it was handed, and whether it leads."""

    fired: Counter[str] = field(default_factory=Counter)
    leading: bool = False

    def timer_handlers(self) -> Mapping[str, Handler]:
        return {"probe": self.fire}

    async def fire(self, timer: Timer) -> None:
        self.fired[timer.key] += 1

    async def prepare(self) -> None:
        pass

    async def follow(self) -> None:
        await asyncio.Event().wait()

    def set_leading(self, leading: bool) -> None:
        self.leading = leading


async def _until(check: object, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not in time")


async def test_one_leader_fires_every_kind_and_another_takes_over(
    database: Database, store: EventStore, engines: list[AsyncEngine]
) -> None:
    owner, late = actor("Olga"), actor("Lee")
    clock = ManualClock(T0)
    keepers = [_process(store, e, clock) for e in engines[:2]]
    probes = [Probe(), Probe()]
    for keeper, probe in zip(keepers, probes, strict=True):
        keeper.schema = database.schema
        keeper.add(probe)
    assert keepers[0].kinds == [KIND, "probe"]
    tasks = [asyncio.create_task(k.run()) for k in keepers]
    case = Case.open(owner, customer="ACME", subject="Stuck")
    try:
        await _until(lambda: any(k.leading for k in keepers))
        await asyncio.sleep(0.2)
        assert [k.leading for k in keepers].count(True) == 1  # one lock for every kind
        leader = next(i for i, k in enumerate(keepers) if k.leading)
        assert probes[leader].leading
        assert not probes[1 - leader].leading
        invitation = uuid.uuid4()
        case.invite_expert(owner, invitation_id=invitation, expert_id=late.id, reason="a",
                           expires_at=T0 + timedelta(minutes=1))  # fmt: skip
        await append(store, case)
        await keepers[0].timers.schedule("p1", "probe", T0 + timedelta(minutes=1))
        await _until_scheduled(keepers[0], timer_key(str(invitation)))
        await clock.advance(120)
        for k in keepers:
            k.runner.wake()
        await _until_expired(store, case.id)
        await _until(lambda: probes[leader].fired["p1"] == 1)
        await _until_state(keepers[0], "p1", "fired")  # delivered at least once: marked
        # the leader stops: the other leads, and fires what falls due from then on
        tasks[leader].cancel()
        await asyncio.gather(tasks[leader], return_exceptions=True)
        other = 1 - leader
        await _until(lambda: keepers[other].leading)
        await keepers[0].timers.schedule("p2", "probe", clock.now() + timedelta(minutes=1))
        await clock.advance(120)
        keepers[other].runner.wake()
        await _until(lambda: probes[other].fired["p2"] == 1)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert (await _names(store, case.id)).count("InvitationExpired") == 1
    assert probes[leader].fired + probes[1 - leader].fired == Counter({"p1": 1, "p2": 1})


async def _until_scheduled(keeper: Timekeeper, key: str) -> None:
    for _ in range(1000):
        if key in await _pending(keeper):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{key} not scheduled")


async def _until_state(keeper: Timekeeper, key: str, state: str) -> None:
    for _ in range(1000):
        found = await keeper.timers.get(key)
        if found is not None and found[1] == state:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{key} not {state}")


async def _until_expired(store: EventStore, case_id: uuid.UUID) -> None:
    for _ in range(1000):
        if "InvitationExpired" in await _names(store, case_id):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not expired")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_revision_0016_moves_pending_expiry_timers_and_they_fire_once(
    backend: str, tmp_path: Path
) -> None:
    async with _at_0011(backend, tmp_path) as database:
        owner, late = actor("Olga"), actor("Lee")
        case = Case.open(owner, customer="ACME", subject="Stuck")
        invitation = uuid.uuid4()
        due = T0 + timedelta(minutes=10)
        case.invite_expert(owner, invitation_id=invitation, expert_id=late.id, reason="a",
                           expires_at=due)  # fmt: skip
        engine = create_views_engine(database.url, schema=database.schema)
        try:
            async with database.store() as store:
                position = await append(store, case)
                # what the previous build left: its follower at the log's end, the timer
                # in its own table
                async with engine.begin() as conn:
                    await conn.execute(
                        sa.text("INSERT INTO invitation_timers VALUES (:i, :k, :c, :d, :p)"),
                        {"i": timer_key(str(invitation)), "k": KIND, "c": str(case.id),
                         "d": due.timestamp(),
                         "p": json.dumps({"invitation_id": str(invitation)})},
                    )  # fmt: skip
                    await conn.execute(
                        sa.text("INSERT INTO tracking VALUES ('timers', :p)"), {"p": position}
                    )
                await upgrade_async(database.url, schema=database.schema)
                async with engine.connect() as conn:
                    tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
                assert "invitation_timers" not in tables
                clock = ManualClock(T0)
                keeper = _process(store, engine, clock)
                found = await keeper.timers.get(timer_key(str(invitation)))
                assert found is not None
                timer, state = found
                assert state == "pending"
                assert timer.due_at == due
                assert timer.payload == {"case_id": str(case.id), "invitation_id": str(invitation)}
                await _expiry(keeper).catch_up()  # nothing read twice: its row was kept
                assert await keeper.runner.fire_due() == 0
                await clock.set(due)
                assert await keeper.runner.fire_due() == 1
                await clock.advance(3600)
                assert await keeper.runner.fire_due() == 0
                assert (await _names(store, case.id)).count("InvitationExpired") == 1
        finally:
            await engine.dispose()
        # and back: only pending ones return to their table (this one has fired)
        await asyncio.to_thread(
            command.downgrade, alembic_config(database.url, database.schema), "0011"
        )
        engine = create_views_engine(database.url, schema=database.schema)
        try:
            async with engine.connect() as conn:
                left = await conn.execute(sa.text("SELECT count(*) FROM invitation_timers"))
                assert left.scalar() == 0
        finally:
            await engine.dispose()


@contextlib.asynccontextmanager
async def _at_0011(backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A database migrated up to revision 0011 (the previous build's), dropped after."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'swarmdesk.db'}"
        await asyncio.to_thread(upgrade, url, revision="0011")
        yield Database("sqlite", url)
        return
    require_postgres()
    schema = fresh_schema()
    await asyncio.to_thread(upgrade, PG_URL, schema=schema, revision="0011")
    try:
        yield Database("postgres", PG_URL, schema)
    finally:
        conn = await asyncpg.connect(asyncpg_dsn(PG_URL))
        try:
            await conn.execute(drop_schema_sql(schema))
        finally:
            await conn.close()

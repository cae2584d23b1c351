"""Outcomes end to end on both backends, below HTTP: an admin defines an SLA policy; two
SLA engines run (one leads); cases are worked; deadlines fire on a `ManualClock` (nothing
sleeps); the SLA facts land once on each case's stream; what-if of the policy in force
equals what was recorded and writes nothing; the KPI projection equals a replay of the
log, and its answers match values computed by hand."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.auth.tokens import Principal
from app.service.cases import CaseService
from app.service.clock import ManualClock
from app.service.context import CommandContext
from app.service.repository import Repository
from app.service.sla_checkpoint import sla_checkpoint
from app.service.sla_engine import SlaEngine
from app.service.sla_policies import SlaPolicyService
from app.service.timekeeper import Timekeeper
from app.service.what_if import TOPICS, LeanDecoder, log_rows, what_if
from app.store import EventStore
from app.store.codec import create_mapper
from app.store.replay_codec import replay_decoder
from domain.actors import Role
from domain.case import Case
from projections.db import create_views_engine
from projections.envelope import Envelope, Recorded
from projections.kpi_projector import KpiProjector, replay
from projections.kpi_queries import Period, kpi_document
from projections.kpi_tables import kpi_activity, kpi_cases, kpi_sla, sla_clocks
from tests.conftest import Database

ADMIN = Principal("admin", "Admin", Role.ADMIN)
ALICE = Principal("alice", "Alice", Role.AGENT)
BOB = Principal("bob", "Bob", Role.AGENT)
POLICY: dict[str, Any] = {
    "name": "Tight",
    "warn_share": 0.5,
    "targets": [
        {"target": "first_response", "minutes": 10},
        {"target": "next_response", "minutes": 5},
        {"target": "resolution", "minutes": 60},
    ],
}
#: What the SLA tracker and what-if read of an event
LEAN_FIELDS = (
    "timestamp",
    "priority",
    "channel",
    "customer",
    "direction",
    "awaiting",
    "target",
    "cycle",
    "at",
    "due_at",
)
SLA_NAMES = (
    "SlaClockStarted",
    "SlaPaused",
    "SlaResumed",
    "SlaWarned",
    "SlaBreached",
    "SlaMet",
    "SwarmUrgencyRaised",
)


class World:
    def __init__(self, store: EventStore, database: Database) -> None:
        self.store = store
        self.database = database
        self.repository = Repository(store, create_mapper())
        self.cases = CaseService(self.repository)
        self.clock = ManualClock(datetime.now(UTC))
        self.engines = [create_views_engine(database.url, schema=database.schema) for _ in range(2)]
        self.keepers: dict[SlaEngine, Timekeeper] = {}

    def sla(self, n: int) -> SlaEngine:
        """A process's SLA engine, led with its timers (`Timekeeper`: started by `run`)."""
        keeper = Timekeeper(self.engines[n], self.clock, schema=self.database.schema, retry=0.1)
        engine = SlaEngine(
            self.store, keeper.timers, CaseService(self.repository), self.clock, replay_decoder()
        )
        keeper.add(engine)
        self.keepers[engine] = keeper
        return engine

    def run(self, engine: SlaEngine) -> Coroutine[Any, Any, None]:
        return self.keepers[engine].run()

    async def do(self, who: Principal, case_id: uuid.UUID, command: Any) -> None:
        await self.cases.execute(case_id, CommandContext(who), command)

    async def open(self, who: Principal, **fields: Any) -> uuid.UUID:
        result = await self.cases.open(
            CommandContext(who),
            lambda actor, cid: Case.open(
                actor, case_id=cid, customer="Acme", subject="s", **fields
            ),
        )
        return result.case_id

    async def names(self, case_id: uuid.UUID) -> list[str]:
        rows = await self.store.read_stream(case_id)
        mapper = create_mapper()
        return [type(mapper.to_domain_event(r.to_stored_event())).__name__ for r in rows]

    async def settle(self, *engines: SlaEngine) -> None:
        head = await self.store.max_position()
        leader = next(e for e in engines if e.leading)
        assert await leader.wait_for(head, 20)
        for _ in range(200):  # the facts it records move the head again
            await asyncio.sleep(0.02)
            new_head = await self.store.max_position()
            if new_head == head and leader.position >= head:
                return
            head = new_head
            assert await leader.wait_for(head, 20)


@pytest.fixture
async def world(database: Database, store: EventStore) -> AsyncIterator[World]:
    w = World(store, database)
    yield w
    for e in w.engines:
        await e.dispose()


async def _wait_leading(*engines: Any) -> None:
    for _ in range(400):
        if any(e.leading for e in engines):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("no leader")


async def test_sla_facts_kpis_and_what_if(world: World) -> None:
    policies = SlaPolicyService(world.repository)
    await policies.define(CommandContext(ADMIN), POLICY)
    engines = [world.sla(0), world.sla(1)]
    tasks = [asyncio.create_task(world.run(e)) for e in engines]
    try:
        await _wait_leading(*engines)
        a = await world.open(ALICE, priority="high", channel="email", product_area="payments")
        b = await world.open(BOB, priority="low", channel="chat", product_area="identity")
        await world.settle(*engines)
        await world.do(
            ALICE,
            a,
            lambda c, x: c.log_customer_message(
                x, message_id=uuid.uuid4(), direction="outbound", text="On it"
            ),
        )
        await world.do(ALICE, a, lambda c, x: c.await_customer(x, awaiting=True))
        await world.do(
            ALICE,
            a,
            lambda c, x: c.log_customer_message(
                x, message_id=uuid.uuid4(), direction="inbound", text="Logs attached"
            ),
        )
        await world.do(
            ALICE,
            a,
            lambda c, x: c.log_customer_message(
                x, message_id=uuid.uuid4(), direction="outbound", text="Thanks"
            ),
        )
        await world.do(ALICE, a, lambda c, x: c.resolve(x, summary="Fixed"))
        await world.do(ALICE, a, lambda c, x: c.record_satisfaction(x, score=4))
        await world.settle(*engines)
        # 11 minutes later: b's first response warned (at 5 min), then breached (10 min)
        await world.clock.advance(11 * 60)
        for e in engines:
            world.keepers[e].runner.wake()
        for _ in range(200):
            if "SlaBreached" in await world.names(b):
                break
            await asyncio.sleep(0.05)
        await world.settle(*engines)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    names_a = [n for n in await world.names(a) if n in SLA_NAMES]
    assert names_a == [
        "SlaClockStarted",
        "SlaClockStarted",  # first response, resolution
        "SlaMet",  # first response
        "SlaPaused",  # resolution, waiting on the customer
        "SlaResumed",
        "SlaClockStarted",  # the customer wrote: resumed, next response
        "SlaMet",  # next response
        "SlaMet",  # resolution
    ]
    names_b = [n for n in await world.names(b) if n in SLA_NAMES]
    assert names_b == [
        "SlaClockStarted",
        "SlaClockStarted",
        "SlaWarned",
        "SwarmUrgencyRaised",
        "SlaBreached",
        "SwarmUrgencyRaised",
    ]

    # what-if of the policy in force: the same outcomes as recorded; nothing written
    head = await world.store.max_position()
    start, end = date.today() - timedelta(days=1), date.today() + timedelta(days=1)
    result = await what_if(
        log_rows(world.store, topics=TOPICS),
        replay_decoder(),
        POLICY,
        start,
        end,
        world.clock.now(),
    )
    assert result.proposed.by_clock == result.recorded.by_clock
    assert Counter(result.recorded.by_clock.values()) == Counter({True: 3, False: 1})
    assert len(result.recorded.by_clock) == 4  # a: 3 met; b: first response breached
    report = result.report()
    assert report["targets"]["first_response"]["recorded"] == {
        "met": 1,
        "breached": 1,
        "compliance": 0.5,
    }
    assert report["targets"]["first_response"]["breaches_difference"] == 0
    lenient = {**POLICY, "targets": [{"target": "first_response", "minutes": 20}]}
    report = (
        await what_if(
            log_rows(world.store), replay_decoder(), lenient, start, end, world.clock.now()
        )
    ).report()["targets"]
    # b's first response is not due yet under 20 minutes: one breach fewer
    assert report["first_response"]["proposed"] == {"met": 1, "breached": 0, "compliance": 1.0}
    assert report["first_response"]["breaches_difference"] == -1
    assert report["resolution"]["proposed"]["met"] == 0  # no resolution target proposed
    assert await world.store.max_position() == head
    # its lean decoding reads what the full decoder reads, for every case event
    lean, full = LeanDecoder(replay_decoder()), replay_decoder()
    seen = set()
    async for row in log_rows(world.store):
        event = full(row)
        found = lean(row)
        if not type(event).__qualname__.startswith("Case."):
            assert found is None
            continue
        assert found is not None
        assert found[0] == type(event).__name__
        seen.add(found[0])
        for name in LEAN_FIELDS:
            if hasattr(event, name):
                assert getattr(found[1], name) == getattr(event, name), (found[0], name)
    assert {"Opened", "CustomerMessageLogged", "AwaitingCustomer", "SlaMet"} <= seen

    # the KPI projection, run to the head, equals a replay of the whole log
    engine = world.engines[0]
    projector = KpiProjector(
        engine, world.store.subscribe, replay_decoder(), schema=world.database.schema, batch_size=3
    )
    task = asyncio.create_task(projector.run())
    try:
        assert await projector.wait_for(head, 20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    decode = replay_decoder()
    replayed = replay([Envelope(r.position, decode(r)) async for r in log_rows(world.store)])
    async with engine.connect() as conn:
        cases = {r.case_id: r._asdict() for r in (await conn.execute(sa.select(kpi_cases)))}
        sla = {
            (r.case_id, r.target, r.cycle): r._asdict()
            for r in await conn.execute(sa.select(kpi_sla))
        }
        activity = {
            (r.day, r.agent_id): r.expert for r in await conn.execute(sa.select(kpi_activity))
        }
        clocks = (await conn.execute(sa.select(sla_clocks))).all()
    assert {k: {**v, "state": None} for k, v in cases.items()} == {
        k: {**row, "state": None} for k, row in _rows(replayed.cases).items()
    }
    assert sla == {k: {**v} for k, v in replayed.sla.items()}
    assert activity == replayed.activity
    # a's clocks ended with its resolution; b's breached one stays at risk until it ends
    assert sorted((c.case_id, c.target, c.status) for c in clocks) == [
        (str(b), "first_response", "breached"),
        (str(b), "resolution", "running"),
    ]

    # values by hand
    today = date.today()
    answer = await kpi_document(engine, Period(today, today, "day"))
    [day] = answer["series"]
    assert day["intake"]["opened"] == 2
    assert day["intake"]["first_response"]["count"] == 1
    assert day["swarm"]["swarm_rate"] == 0.0
    assert day["resolution"]["resolved"] == 1
    assert day["resolution"]["first_contact_resolution_rate"] == 1.0
    assert day["resolution"]["owner_retained_rate"] == 1.0
    assert day["sla"]["first_response"] == {"met": 1, "breached": 1, "compliance": 0.5}
    assert day["sla"]["resolution"] == {"met": 1, "breached": 0, "compliance": 1.0}
    assert day["satisfaction"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert day["backlog"]["open"] == 1
    assert day["specialists"] == {
        "active_agents": 2,
        "acting_as_experts": 0,
        "specialist_allocation": 0.0,
    }
    # the daily rollups answer as the KPI tables themselves, however split or filtered
    week = today - timedelta(days=today.weekday())
    for period in (
        Period(today, today, "day"),
        Period(week - timedelta(days=14), week + timedelta(days=6), "week"),
        Period(today, today, "day", "priority"),
        Period(today, today, "week", "product_area"),
        Period(today, today, "day", None, {"priority": "high"}),
        Period(today, today, "day", None, {"product_area": "identity", "priority": "low"}),
    ):
        assert await kpi_document(engine, period) == await kpi_document(
            engine, period, rollups=False
        ), period
    by_priority = await kpi_document(
        engine, Period(today, today, "day", "priority", families=("intake",))
    )
    assert {(s["group"], s["intake"]["opened"]) for s in by_priority["series"]} == {
        ("high", 1),
        ("low", 1),
    }


async def _lead(world: World, engine: SlaEngine) -> asyncio.Task[None]:
    """Leading (with its process's timers), and caught up with the log."""
    task = asyncio.create_task(world.run(engine))
    await _wait_leading(engine)
    assert await engine.wait_for(await engine.store.max_position(), 20)
    return task


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_taking_the_lead_resumes_from_the_checkpoint(world: World) -> None:
    """A second leader loads the first one's checkpoint and replays nothing before it;
    the facts decided after it land once; its state equals a replay of the whole log
    (what a database with no checkpoint gets, once)."""
    policies = SlaPolicyService(world.repository)
    await policies.define(CommandContext(ADMIN), POLICY)
    first = world.sla(0)
    task = await _lead(world, first)
    assert first.replayed == 0  # the policy was the whole log
    try:
        a = await world.open(ALICE, priority="high", channel="email")
        b = await world.open(BOB, priority="low", channel="chat")
        await world.settle(first)
        await first.flush()
        checkpointed = first.tracked
    finally:
        await _stop(task)
    async with world.engines[0].connect() as conn:
        keys = set((await conn.execute(sa.select(sla_checkpoint.c.key))).scalars())
    assert keys == {"book", str(a), str(b)}
    # while nobody leads: a is answered and waits on the customer
    await world.do(
        ALICE,
        a,
        lambda c, x: c.log_customer_message(
            x, message_id=uuid.uuid4(), direction="outbound", text="On it"
        ),
    )
    await world.do(ALICE, a, lambda c, x: c.await_customer(x, awaiting=True))
    second = world.sla(1)
    task = await _lead(world, second)
    try:
        assert (second.resumed_from, second.replayed) == (checkpointed, 0)
        await world.settle(second)
        await world.clock.advance(11 * 60)  # b: warned at 5 min, breached at 10
        world.keepers[second].runner.wake()
        for _ in range(200):
            if "SlaBreached" in await world.names(b):
                break
            await asyncio.sleep(0.05)
        await world.settle(second)
        await second.flush()
    finally:
        await _stop(task)
    assert [n for n in await world.names(a) if n in SLA_NAMES] == [
        "SlaClockStarted",
        "SlaClockStarted",
        "SlaMet",
        "SlaPaused",
    ]
    assert [n for n in await world.names(b) if n in SLA_NAMES] == [
        "SlaClockStarted",
        "SlaClockStarted",
        "SlaWarned",
        "SwarmUrgencyRaised",
        "SlaBreached",
        "SwarmUrgencyRaised",
    ]
    # no checkpoint (an older database): the whole log once, to the same state
    async with world.engines[0].begin() as conn:
        await conn.execute(sa.delete(sla_checkpoint))
    third = world.sla(0)
    task = await _lead(world, third)
    try:
        head = await world.store.max_position()
        assert (third.resumed_from, third.replayed) == (0, second.tracked)
        assert second.tracked == head
        await third.flush()
    finally:
        await _stop(task)
    for case_id in (a, b):
        assert third.tracker.case_data(case_id) == second.tracker.case_data(case_id)
    assert third.tracker.book.as_data() == second.tracker.book.as_data()
    async with world.engines[0].connect() as conn:
        keys = set((await conn.execute(sa.select(sla_checkpoint.c.key))).scalars())
    assert keys == {"book", str(a), str(b)}
    assert await world.store.max_position() == head  # the replay recorded nothing again


def _rows(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from projections.kpi_fold import case_row

    return {k: case_row(s) for k, s in states.items()}


@dataclass(frozen=True)
class _Row:
    position: int
    originator_id: uuid.UUID
    event: Any


async def test_rollups_follow_a_case_whose_days_move(database: Database) -> None:
    """A case resolved, reopened and resolved again on later days, rated twice, closed:
    committed in several batches, the daily rollups answer as the KPI tables (a day a
    case left is recomputed too)."""
    alice = Principal("alice", "Alice", Role.AGENT).actor
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
    cases = []
    for n, area in enumerate(("payments", "identity")):
        case = Case.open(alice, customer="Acme", subject="s", product_area=area, priority="high")
        times = [start + timedelta(hours=n)]
        case.log_customer_message(alice, message_id=uuid.uuid4(), direction="outbound", text="x")
        times.append(start + timedelta(hours=n + 1))
        case.resolve(alice, summary="done")
        times.append(start + timedelta(days=1))
        case.record_satisfaction(alice, score=2)
        times.append(start + timedelta(days=1, hours=1))
        case.close(alice)
        times.append(start + timedelta(days=1, hours=2))
        case.reopen(alice, reason="back")
        times.append(start + timedelta(days=3))
        case.resolve(alice, summary="done again")
        times.append(start + timedelta(days=5 + n))
        case.record_satisfaction(alice, score=5)
        times.append(start + timedelta(days=5 + n, hours=1))
        case.close(alice)
        times.append(start + timedelta(days=8))
        events = list(case.collect_events())
        for event, when in zip(events, times, strict=True):
            object.__setattr__(event, "timestamp", when)
        cases.append(events)
    rows: list[Recorded] = [
        _Row(p, e.originator_id, e)
        for p, e in enumerate((e for pair in zip(*cases, strict=True) for e in pair), 1)
    ]
    engine = create_views_engine(database.url, schema=database.schema)
    projector = KpiProjector(engine, _no_log, lambda row: row.event, schema=database.schema)
    expected = 0
    try:
        for cut in (4, 9, 11, len(rows)):  # batches ending mid-story
            expected = await projector.project(rows[expected:cut], expected)
        days = (date(2026, 3, 1), date(2026, 3, 14))
        for period in (
            Period(*days, "day"),
            Period(*days, "week"),
            Period(*days, "day", "product_area"),
            Period(*days, "day", None, {"product_area": "identity"}),
            Period(*days, "week", "owner"),
            Period(date(2026, 3, 4), date(2026, 3, 10), "week", "owner"),
        ):
            answer = await kpi_document(engine, period)
            assert answer == await kpi_document(engine, period, rollups=False), period
        by_day = {
            s["period"]: s for s in (await kpi_document(engine, Period(*days, "day")))["series"]
        }
        assert "resolution" not in by_day["2026-03-03"]  # resolved again later
        assert by_day["2026-03-07"]["resolution"]["resolved"] == 1
        assert by_day["2026-03-08"]["resolution"]["resolved"] == 1
        assert by_day["2026-03-07"]["satisfaction"]["distribution"]["5"] == 1
    finally:
        await engine.dispose()


async def _no_log(position: int) -> AsyncIterator[Any]:
    return
    yield


async def test_a_batch_that_changes_no_kpi_writes_nothing(database: Database) -> None:
    """Further insights of a case's owner change no KPI row: their batch writes nothing,
    not even the stored position, which the projector stores once idle; a new leader
    folding them again from the stored position arrives at the replay's rows."""
    alice = Principal("alice", "Alice", Role.AGENT).actor
    case = Case.open(alice, customer="Acme", subject="s", product_area="payments")
    case.log_customer_message(alice, message_id=uuid.uuid4(), direction="outbound", text="x")
    for n in range(4):
        case.post_insight(alice, insight_id=uuid.uuid4(), kind="finding", text=f"i{n}")
    case.resolve(alice, summary="done")
    events = list(case.collect_events())
    rows: list[Recorded] = [_Row(p, e.originator_id, e) for p, e in enumerate(events, 1)]
    engine = create_views_engine(database.url, schema=database.schema)

    async def tables() -> tuple[Any, ...]:
        async with engine.connect() as conn:
            found = [(await conn.execute(sa.select(t))).all() for t in (kpi_cases, kpi_activity)]
            stored = await conn.scalar(
                sa.text("SELECT position FROM tracking WHERE application_name = 'kpis'")
            )
        return (*found, stored)

    first = KpiProjector(engine, _no_log, lambda row: row.event, schema=database.schema)
    try:
        assert await first.project(rows[:3], 0) == 3  # opened, answered, the first insight
        before = await tables()
        assert before[-1] == 3
        assert await first.project(rows[3:6], 3) == 3  # three more: nothing changes
        assert first.position == 6
        assert await tables() == before  # not a row written, the position neither
        # a new leader from the stored position: the same rows as a replay of the log
        second = KpiProjector(engine, _no_log, lambda row: row.event, schema=database.schema)
        assert await second.project(rows[3:], 3) == len(rows)
        replayed = replay([Envelope(p, e) for p, e in enumerate(events, 1)])
        async with engine.connect() as conn:
            cases = {r.case_id: r._asdict() for r in await conn.execute(sa.select(kpi_cases))}
        assert {k: {**v, "state": None} for k, v in cases.items()} == {
            k: {**row, "state": None} for k, row in _rows(replayed.cases).items()
        }
    finally:
        await engine.dispose()


async def test_a_position_that_changed_nothing_is_stored_once_idle(database: Database) -> None:
    """The projector's loop stores the position its skipped batches reached when no
    event comes for `flush_seconds`: a process reading the stored position catches up."""
    alice = Principal("alice", "Alice", Role.AGENT).actor
    case = Case.open(alice, customer="Acme", subject="s")
    for n in range(3):
        case.post_insight(alice, insight_id=uuid.uuid4(), kind="finding", text=f"i{n}")
    events = list(case.collect_events())
    rows = [_Row(p, e.originator_id, e) for p, e in enumerate(events, 1)]

    async def log(after: int) -> AsyncIterator[Any]:
        for row in rows[after:]:
            yield row
            await asyncio.sleep(0.01)  # one batch each: the insights' change nothing
        await asyncio.Event().wait()

    engine = create_views_engine(database.url, schema=database.schema)
    projector = KpiProjector(
        engine, log, lambda row: row.event, schema=database.schema, linger=0, flush_seconds=0.1
    )
    task = asyncio.create_task(projector.run())
    try:
        assert await projector.wait_for(len(rows), 20)
        stored = 0
        for _ in range(200):
            async with engine.connect() as conn:
                stored = await conn.scalar(
                    sa.text("SELECT position FROM tracking WHERE application_name = 'kpis'")
                )
            if stored == len(rows):
                break
            await asyncio.sleep(0.05)
        assert stored == len(rows)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()

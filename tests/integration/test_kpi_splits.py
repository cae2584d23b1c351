"""KPIs split and filtered by owner and by priority, from the rollups, equal values
computed by hand from the events, on both backends: five cases over four weeks that the
period cuts at both ends, with a hand-off and a priority change. "Owner" is the case's
current owner; a case's priority is its current one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain import Actor, Case, Role
from projections.db import create_views_engine
from projections.envelope import Recorded
from projections.kpi_projector import KpiProjector
from projections.kpi_queries import Period, kpi_document
from tests.conftest import Database

ALICE = Actor(uuid.uuid4(), Role.AGENT, "Alice")
BOB = Actor(uuid.uuid4(), Role.AGENT, "Bob")
A, B = str(ALICE.id), str(BOB.id)
# Wednesday 4 to Wednesday 25 March 2026: weeks of the 2nd (cut), 9th, 16th, 23rd (cut)
PERIOD = (date(2026, 3, 4), date(2026, 3, 25))
W1, W2, W3, W4 = "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def _story(owner: Actor, priority: str, opened: int, steps: list[tuple[int, Any]]) -> list[Any]:
    """A case's events with their times: opened on March `opened`, then each step
    (a day of March, a call on the case)."""
    case = Case.open(
        owner, customer="Acme", subject="s", product_area="payments", priority=priority
    )
    times = [_at(opened)]
    for day, step in steps:
        before = len(case.pending_events)
        step(case)
        times += [_at(day, 11)] * (len(case.pending_events) - before)
    events = list(case.collect_events())
    for event, when in zip(events, times, strict=True):
        object.__setattr__(event, "timestamp", when)
    return events


def _resolve(who: Actor) -> Callable[[Case], None]:
    return lambda c: c.resolve(who, summary="done")


def _history() -> list[Any]:
    a = _story(ALICE, "high", 3, [(10, _resolve(ALICE))])  # opened before the period
    b = _story(
        ALICE,
        "low",
        5,
        [
            (6, lambda c: c.transfer_ownership(ALICE, to_owner_id=BOB.id, handoff_note="yours")),
            (17, _resolve(BOB)),
            (17, lambda c: c.record_satisfaction(BOB, score=5)),
        ],
    )
    c = _story(
        BOB, "urgent", 11, [(12, lambda c: c.change_priority(BOB, priority="high", reason="ok"))]
    )
    d = _story(BOB, "low", 24, [(25, _resolve(BOB))])
    e = _story(ALICE, "normal", 18, [(26, _resolve(ALICE))])  # resolved after the period
    return sorted([*a, *b, *c, *d, *e], key=lambda event: event.timestamp)


@dataclass
class _Row:
    position: int
    originator_id: uuid.UUID
    event: Any


async def _no_log(position: int) -> AsyncIterator[Any]:
    return
    yield


def _by(answer: dict[str, Any], family: str, field: str) -> dict[tuple[str, str | None], Any]:
    return {
        (s["period"], s["group"]): s[family][field]
        for s in answer["series"]
        if family in s and s[family].get(field)
    }


async def test_owner_and_priority_splits_equal_the_events(database: Database) -> None:
    rows: list[Recorded] = [_Row(p, e.originator_id, e) for p, e in enumerate(_history(), 1)]
    engine = create_views_engine(database.url, schema=database.schema)
    projector = KpiProjector(engine, _no_log, lambda row: row.event, schema=database.schema)
    try:
        expected = 0
        for cut in (3, 8, len(rows)):  # several batches: rollups kept incrementally
            expected = await projector.project(rows[expected:cut], expected)

        by_owner = await kpi_document(engine, Period(*PERIOD, "week", "owner"))
        assert _by(by_owner, "intake", "opened") == {(W1, B): 1, (W2, B): 1, (W3, A): 1, (W4, B): 1}
        assert _by(by_owner, "resolution", "resolved") == {(W2, A): 1, (W3, B): 1, (W4, B): 1}
        assert _by(by_owner, "resolution", "handoff_rate") == {(W3, B): 1.0}
        assert _by(by_owner, "satisfaction", "responses") == {(W3, B): 1}
        assert _by(by_owner, "backlog", "open") == {
            (W1, A): 1,  # a
            (W3, A): 1,  # e
            (W4, A): 1,
            (W1, B): 1,  # b
            (W2, B): 2,  # b, c
            (W3, B): 1,  # c
            (W4, B): 1,  # c (d opened and resolved in the cut week)
        }
        bob = await kpi_document(engine, Period(*PERIOD, "week", None, {"owner": B}))
        assert _by(bob, "intake", "opened") == {(W1, None): 1, (W2, None): 1, (W4, None): 1}
        assert _by(bob, "backlog", "open") == {
            (W1, None): 1,
            (W2, None): 2,
            (W3, None): 1,
            (W4, None): 1,
        }

        by_priority = await kpi_document(engine, Period(*PERIOD, "week", "priority"))
        assert _by(by_priority, "intake", "opened") == {
            (W1, "low"): 1,
            (W2, "high"): 1,  # c, urgent when opened
            (W3, "normal"): 1,
            (W4, "low"): 1,
        }
        assert _by(by_priority, "resolution", "resolved") == {
            (W2, "high"): 1,
            (W3, "low"): 1,
            (W4, "low"): 1,
        }
        assert _by(by_priority, "backlog", "open") == {
            (W1, "high"): 1,  # a
            (W2, "high"): 1,  # c
            (W3, "high"): 1,
            (W4, "high"): 1,
            (W1, "low"): 1,  # b
            (W2, "low"): 1,
            (W3, "normal"): 1,  # e
            (W4, "normal"): 1,
        }

        # the rollups answer as the KPI tables, however the period cuts the weeks
        for start, end in (PERIOD, (date(2026, 3, 2), date(2026, 3, 29)), (_d(5), _d(7))):
            for period in (
                Period(start, end, "week", "owner"),
                Period(start, end, "week", None, {"owner": A}),
                Period(start, end, "week", "owner", {"owner": B}),
                Period(start, end, "week", "priority"),
                Period(start, end, "day", "owner"),
                Period(start, end, "week", "owner", {"priority": "low"}),
            ):
                answer = await kpi_document(engine, period)
                assert answer == await kpi_document(engine, period, rollups=False), period
    finally:
        await engine.dispose()


def _d(day: int) -> date:
    return date(2026, 3, 1) + timedelta(days=day - 1)

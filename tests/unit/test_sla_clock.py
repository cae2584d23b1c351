"""SLA clocks (`domain.sla_clock.SlaTracker`): given events, then facts, with due times
computed by hand on a Paris office calendar (Mon-Fri 09:00-17:00): weekends, a pause
while the case waits on the customer, a breach by timer and one found late, tiers,
reopening, and the tracker's own facts coming back through the log changing nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from domain.case_outcomes import SlaFact
from domain.sla_clock import SlaTracker
from domain.sla_policy import PolicyBook

PARIS = ZoneInfo("Europe/Paris")
POLICY_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
CASE = uuid.UUID("22222222-2222-4222-8222-222222222222")
OFFICE = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
DOCUMENT: dict[str, Any] = {
    "name": "Office",
    "warn_share": 0.5,
    "calendar": {"timezone": "Europe/Paris", "weekly": OFFICE, "holidays": ["2026-12-25"]},
    "customer_tiers": {"Gold Co": "gold"},
    "targets": [
        {"target": "first_response", "minutes": 120},
        {"target": "first_response", "minutes": 30, "tier": "gold"},
        {"target": "next_response", "minutes": 60},
        {"target": "resolution", "minutes": 480},
        {"target": "resolution", "minutes": 240, "priority": "urgent", "channel": "phone"},
    ],
}


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc, arg-type]


def iso(*args: int) -> str:
    return paris(*args).astimezone(UTC).isoformat()


def tracker() -> SlaTracker:
    book = PolicyBook()
    book.record(POLICY_ID, DOCUMENT)
    return SlaTracker(book)


def opened(customer: str = "Acme", priority: str = "normal", channel: str = "email") -> Any:
    return SimpleNamespace(priority=priority, channel=channel, customer=customer)


def message(direction: str) -> Any:
    return SimpleNamespace(direction=direction)


def names(facts: list[SlaFact]) -> list[tuple[str, str]]:
    return [
        (f.name, f.fields["urgency"] if f.name == "SwarmUrgencyRaised" else f.fields["target"])
        for f in facts
    ]


def snapshot(t: SlaTracker) -> Any:
    state = t.cases[CASE]
    clocks = [
        (c.target, c.cycle, c.due, c.warn, c.remaining, c.paused, c.warned, c.breached)
        for c in state.running.values()
    ]
    return clocks, dict(state.cycles), state.responded, state.awaiting, state.urgency


def test_the_full_life_of_a_case() -> None:
    t = tracker()
    # Monday 16:00: first response due after 2 business hours = Tuesday 10:00,
    # warned at half (1 h) = Monday 17:00; resolution (8 h) due Tuesday 16:00.
    facts = t.observe("Opened", CASE, opened(), paris(2026, 1, 5, 16, 0))
    assert [f.fields for f in facts] == [
        {
            "target": "first_response",
            "cycle": 1,
            "policy_id": POLICY_ID,
            "minutes": 120,
            "started_at": iso(2026, 1, 5, 16, 0),
            "due_at": iso(2026, 1, 6, 10, 0),
            "warn_at": iso(2026, 1, 5, 17, 0),
        },
        {
            "target": "resolution",
            "cycle": 1,
            "policy_id": POLICY_ID,
            "minutes": 480,
            "started_at": iso(2026, 1, 5, 16, 0),
            "due_at": iso(2026, 1, 6, 16, 0),
            "warn_at": iso(2026, 1, 6, 12, 0),
        },
    ]
    # the warning timer fires at Monday 17:00: the swarm's urgency rises
    warned = t.due(CASE, paris(2026, 1, 5, 17, 0))
    assert names(warned) == [("SlaWarned", "first_response"), ("SwarmUrgencyRaised", "high")]
    assert t.due(CASE, paris(2026, 1, 5, 17, 0)) == []  # once
    # Tuesday 09:30: answered after 1.5 business hours
    facts = t.observe("CustomerMessageLogged", CASE, message("outbound"), paris(2026, 1, 6, 9, 30))
    assert [(f.name, f.fields) for f in facts] == [
        (
            "SlaMet",
            {
                "target": "first_response",
                "cycle": 1,
                "at": iso(2026, 1, 6, 9, 30),
                "due_at": iso(2026, 1, 6, 10, 0),
                "business_seconds": 5400,
            },
        ),
    ]
    # Tuesday 11:00 the customer writes: a next response is due by 12:00
    facts = t.observe("CustomerMessageLogged", CASE, message("inbound"), paris(2026, 1, 6, 11, 0))
    assert [(f.name, f.fields["due_at"]) for f in facts] == [
        ("SlaClockStarted", iso(2026, 1, 6, 12, 0))
    ]
    # 11:30 waiting on the customer: both clocks pause (30 min and 4.5 h left)
    facts = t.observe(
        "AwaitingCustomer", CASE, SimpleNamespace(awaiting=True), paris(2026, 1, 6, 11, 30)
    )
    assert [(f.name, f.fields["target"], f.fields["remaining_seconds"]) for f in facts] == [
        ("SlaPaused", "resolution", 16200),
        ("SlaPaused", "next_response", 1800),
    ]
    assert t.due(CASE, paris(2026, 1, 7, 9, 0)) == []  # paused clocks never breach
    # Wednesday 10:00 the customer answers: the wait ends, clocks resume
    facts = t.observe("CustomerMessageLogged", CASE, message("inbound"), paris(2026, 1, 7, 10, 0))
    assert [(f.name, f.fields["target"], f.fields["due_at"]) for f in facts] == [
        ("SlaResumed", "resolution", iso(2026, 1, 7, 14, 30)),
        ("SlaResumed", "next_response", iso(2026, 1, 7, 10, 30)),
    ]
    # 10:30: the resolution's warning (its remaining half resumed at 10:00) and the
    # next response's breach; the urgency (already high) goes to critical
    fired = t.due(CASE, paris(2026, 1, 7, 10, 30))
    assert names(fired) == [
        ("SlaWarned", "resolution"),
        ("SlaBreached", "next_response"),
        ("SwarmUrgencyRaised", "critical"),
    ]
    assert fired[1].fields["due_at"] == iso(2026, 1, 7, 10, 30)
    # the late answer records nothing more for that clock
    late = t.observe("CustomerMessageLogged", CASE, message("outbound"), paris(2026, 1, 7, 11, 0))
    assert late == []
    # resolved at 14:00, within the resumed deadline (14:30): 7.5 business hours used
    facts = t.observe("Resolved", CASE, SimpleNamespace(), paris(2026, 1, 7, 14, 0))
    assert [(f.name, f.fields["business_seconds"]) for f in facts] == [("SlaMet", 27000)]
    assert list(t.clocks()) == []


def test_a_breach_found_late_by_the_next_event() -> None:
    t = tracker()
    t.observe("Opened", CASE, opened(), paris(2026, 1, 9, 16, 0))  # Friday
    # no timer ran; the answer comes Monday 11:00, after the due time (Monday 10:00)
    facts = t.observe("CustomerMessageLogged", CASE, message("outbound"), paris(2026, 1, 12, 11, 0))
    assert names(facts) == [("SlaBreached", "first_response"), ("SwarmUrgencyRaised", "critical")]
    assert facts[0].fields["due_at"] == iso(2026, 1, 12, 10, 0)


def test_targets_follow_tier_priority_and_channel() -> None:
    t = tracker()
    facts = t.observe(
        "Opened", CASE, opened("Gold Co", "urgent", "phone"), paris(2026, 12, 24, 16, 45)
    )
    # gold: 30 min first response: 15 min on the 24th, the 25th a holiday, then the
    # weekend: Monday 28th 09:15; urgent by phone: 4 h resolution, Monday 12:45
    assert [(f.fields["minutes"], f.fields["due_at"]) for f in facts] == [
        (30, iso(2026, 12, 28, 9, 15)),
        (240, iso(2026, 12, 28, 12, 45)),
    ]


def test_reopening_starts_a_new_resolution_clock_and_closing_ends_them() -> None:
    t = tracker()
    t.observe("Opened", CASE, opened(), paris(2026, 1, 5, 9, 0))
    t.observe("Resolved", CASE, SimpleNamespace(), paris(2026, 1, 5, 10, 0))
    facts = t.observe("Reopened", CASE, SimpleNamespace(), paris(2026, 1, 5, 11, 0))
    assert [(f.fields["target"], f.fields["cycle"]) for f in facts] == [("resolution", 2)]
    assert t.observe("Closed", CASE, SimpleNamespace(), paris(2026, 1, 5, 12, 0)) == []
    assert list(t.clocks()) == []
    assert t.due(CASE, paris(2026, 2, 1, 9, 0)) == []


def test_without_a_policy_in_force_nothing_starts() -> None:
    t = SlaTracker()
    assert t.observe("Opened", CASE, opened(), paris(2026, 1, 5, 9, 0)) == []
    inactive = PolicyBook()
    inactive.record(POLICY_ID, {**DOCUMENT, "active": False})
    assert SlaTracker(inactive).observe("Opened", CASE, opened(), paris(2026, 1, 5, 9, 0)) == []


def test_a_policy_id_read_back_by_asyncpg_is_named_as_a_plain_uuid() -> None:
    """A policy's stream id from a PostgreSQL row is asyncpg's own UUID class, which the
    event codec cannot encode: the facts that name the policy carry a `uuid.UUID`."""
    from asyncpg.pgproto import pgproto

    book = PolicyBook()
    book.record(pgproto.UUID(str(POLICY_ID)), DOCUMENT)
    [started] = SlaTracker(book).observe("Opened", CASE, opened(), paris(2026, 1, 5, 9, 0))[:1]
    assert type(started.fields["policy_id"]) is uuid.UUID
    assert started.fields["policy_id"] == POLICY_ID


def test_recorded_facts_coming_back_change_nothing() -> None:
    t = tracker()
    recorded: list[SlaFact] = []
    recorded += t.observe("Opened", CASE, opened(), paris(2026, 1, 5, 16, 0))
    recorded += t.due(CASE, paris(2026, 1, 5, 17, 0))
    recorded += t.observe(
        "AwaitingCustomer", CASE, SimpleNamespace(awaiting=True), paris(2026, 1, 6, 9, 0)
    )
    before = snapshot(t)
    for fact in recorded:  # the engine reads its own facts back from the log
        assert (
            t.observe(fact.name, CASE, SimpleNamespace(**fact.fields), paris(2026, 1, 6, 9, 1))
            == []
        )
    assert snapshot(t) == before


def test_replaying_the_same_events_gives_the_same_facts() -> None:
    def run() -> list[SlaFact]:
        t = tracker()
        out = t.observe("Opened", CASE, opened(), paris(2026, 3, 27, 16, 0))  # Friday, DST
        out += t.due(CASE, paris(2026, 3, 27, 17, 0))
        out += t.observe(
            "CustomerMessageLogged", CASE, message("outbound"), paris(2026, 3, 30, 9, 30)
        )
        return out

    first = run()
    assert first == run()
    # 2 business hours from Friday 16:00 CET end Monday 10:00 CEST (08:00 UTC)
    assert first[0].fields["due_at"] == datetime(2026, 3, 30, 8, 0, tzinfo=UTC).isoformat()
    assert [f.name for f in first] == [
        "SlaClockStarted",
        "SlaClockStarted",
        "SlaWarned",
        "SwarmUrgencyRaised",
        "SlaMet",
    ]


def _life() -> list[tuple[str, Any, datetime]]:
    """A case's life: every kind of step (`"due"` is a timer firing)."""
    return [
        ("Opened", opened("Gold Co"), paris(2026, 1, 5, 16, 0)),
        ("due", None, paris(2026, 1, 5, 16, 15)),
        ("CustomerMessageLogged", message("outbound"), paris(2026, 1, 6, 9, 5)),
        ("CustomerMessageLogged", message("inbound"), paris(2026, 1, 6, 11, 0)),
        ("AwaitingCustomer", SimpleNamespace(awaiting=True), paris(2026, 1, 6, 11, 30)),
        ("CustomerMessageLogged", message("inbound"), paris(2026, 1, 7, 10, 0)),
        ("due", None, paris(2026, 1, 7, 10, 30)),
        ("PriorityChanged", SimpleNamespace(priority="urgent"), paris(2026, 1, 7, 10, 40)),
        ("Resolved", SimpleNamespace(), paris(2026, 1, 7, 14, 0)),
        ("Reopened", SimpleNamespace(), paris(2026, 1, 8, 9, 0)),
        ("due", None, paris(2026, 1, 9, 9, 0)),
        ("Closed", SimpleNamespace(), paris(2026, 1, 9, 12, 0)),
    ]


def _step(t: SlaTracker, step: tuple[str, Any, datetime]) -> list[SlaFact]:
    name, event, at = step
    return t.due(CASE, at) if name == "due" else t.observe(name, CASE, event, at)


def test_a_checkpoint_taken_anywhere_resumes_to_the_same_facts() -> None:
    """The SLA engine's checkpoint: the state as JSON after any step, restored into a
    new tracker, gives the same facts for the steps after it as never stopping."""
    steps = _life()
    whole = tracker()
    expected = [_step(whole, s) for s in steps]
    assert sum(len(f) for f in expected) >= 12  # every step kind decided something
    for cut in range(len(steps) + 1):
        before = tracker()
        for s in steps[:cut]:
            _step(before, s)
        saved = json.loads(json.dumps(before.book.as_data()))
        state = json.loads(json.dumps(before.case_data(CASE))) if cut else None
        after = SlaTracker(PolicyBook.of_data(saved))
        if state is not None:
            after.restore(CASE, state)
            assert snapshot(after) == snapshot(before)
        assert [_step(after, s) for s in steps[cut:]] == expected[cut:], f"cut at {cut}"

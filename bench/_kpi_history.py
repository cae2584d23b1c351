"""The year of history `bench/kpis.py` measures: an SLA policy, then cases through a
realistic mix with the SLA facts the engine would record, appended in bulk."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.store import EventStore
from app.store.codec import create_mapper
from app.store.types import AppendRequest
from domain import Actor, Case, Role
from domain.sla_clock import SlaTracker
from domain.sla_policy import PolicyBook, SlaPolicy

MAPPER = create_mapper()
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
OFFICE = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
POLICY: dict[str, Any] = {
    "name": "Bench",
    "warn_share": 0.75,
    "calendar": {"timezone": "Europe/Paris", "weekly": OFFICE, "holidays": ["2026-12-25"]},
    "customer_tiers": {"Gold 1": "gold", "Gold 2": "gold"},
    "targets": [
        {"target": "first_response", "minutes": 120},
        {"target": "first_response", "minutes": 30, "tier": "gold"},
        {"target": "next_response", "minutes": 240},
        {"target": "resolution", "minutes": 2400},
        {"target": "resolution", "minutes": 480, "priority": "urgent"},
    ],
}
STRICTER = {
    **POLICY,
    "targets": [{**t, "minutes": max(1, t["minutes"] // 2)} for t in POLICY["targets"]],
}
ADMIN = Actor(uuid.uuid4(), Role.ADMIN, "Admin")
ENGINE = Actor(uuid.uuid4(), Role.ADMIN, "SLA engine")
AREAS = ("payments", "identity", "search", "mobile", "billing", "api")
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")


class Story:
    """One case's events with historical times, and the SLA facts the tracker adds."""

    def __init__(self, rng: random.Random, agents: list[Actor], tracker: SlaTracker) -> None:
        self.rng, self.agents, self.tracker = rng, agents, tracker

    def case(self, at: datetime) -> list[Any]:
        rng = self.rng
        owner = rng.choice(self.agents)
        c = Case.open(
            owner,
            customer=rng.choice(("Acme", "Gold 1", "Initech", "Gold 2")),
            subject="Bench case",
            product_area=rng.choice(AREAS),
            priority=rng.choice(PRIORITIES),
            channel=rng.choice(("email", "chat")),
        )
        times = [at]
        t = at

        def later(minutes: float) -> None:
            nonlocal t
            t += timedelta(minutes=rng.expovariate(1 / minutes))
            times.append(t)

        c.add_context(owner, context_id=uuid.uuid4(), kind="symptom", text="errors")
        later(5)
        c.log_customer_message(owner, message_id=uuid.uuid4(), direction="outbound", text="hi")
        later(90)
        if rng.random() < 0.4:
            c.log_customer_message(owner, message_id=uuid.uuid4(), direction="inbound", text="?")
            later(60)
            c.log_customer_message(owner, message_id=uuid.uuid4(), direction="outbound", text="!")
            later(200)
        if rng.random() < 0.33:
            experts = rng.sample([a for a in self.agents if a != owner], 3)
            c.request_swarm(owner, request_id=uuid.uuid4(), help_needed="help")
            later(10)
            c.invite_expert(
                owner, invitation_id=uuid.uuid4(), expert_id=experts[0].id, reason="you know it"
            )
            later(10)
            if rng.random() < 0.2:
                c.decline_invitation(experts[0], reason="busy")
                later(5)
            for expert in experts[1:]:
                c.join(expert)
                later(20)
                c.acknowledge_briefing(expert, version=c.version)
                later(5)
                insight = uuid.uuid4()
                c.post_insight(expert, insight_id=insight, kind="finding", text="found it")
                later(30)
            proposal = uuid.uuid4()
            c.propose_resolution(experts[1], proposal_id=proposal, summary="fix", cites=[insight])
            later(20)
            c.accept_proposal(owner, proposal_id=proposal)
            later(30)
        if rng.random() < 0.08:
            to = next(a for a in self.agents if a != owner)
            c.transfer_ownership(owner, to_owner_id=to.id, handoff_note="yours")
            later(30)
            owner = to
        if rng.random() < 0.92:
            c.resolve(owner, summary="done")
            later(60)
            if rng.random() < 0.5:
                c.record_satisfaction(owner, score=rng.choice((2, 3, 4, 4, 5, 5)))
                later(10)
            if rng.random() < 0.7:
                c.close(owner)
                times.append(t)
        events = list(c.collect_events())
        for event, when in zip(events, times, strict=False):
            object.__setattr__(event, "timestamp", when)
        return self._with_facts(c.id, events)

    def _with_facts(self, case_id: uuid.UUID, events: list[Any]) -> list[Any]:
        """Interleave the SLA facts the engine would record: the timers' (warnings and
        breaches) at their times, then each event's own."""
        out: list[tuple[Any, datetime]] = []
        tracker = self.tracker
        for event in events:
            for _ in range(20):
                state = tracker.cases.get(case_id)
                pending = [
                    c.warn if not c.warned and c.warn < c.due else c.due
                    for c in (state.running.values() if state else ())
                    if not c.paused and not c.breached
                ]
                due = min((p for p in pending if p <= event.timestamp), default=None)
                if due is None:
                    break
                out += [(fact, due) for fact in tracker.due(case_id, due)]
            out.append((event, event.timestamp))
            facts = tracker.observe(type(event).__name__, case_id, event, event.timestamp)
            out += [(fact, event.timestamp) for fact in facts]
        return [self._event(case_id, item, v, when) for v, (item, when) in enumerate(out, 1)]

    def _event(self, case_id: uuid.UUID, item: Any, version: int, when: datetime) -> Any:
        if not hasattr(item, "fields"):
            object.__setattr__(item, "originator_version", version)
            return item
        cls = getattr(Case, item.name)
        return cls(originator_id=case_id, originator_version=version, timestamp=when, **item.fields)


async def write_history(
    store: EventStore, target: int, seed: int = 16, *, with_policy: bool = True
) -> tuple[int, float]:
    """Append about `target` events (with the policy first, unless `with_policy` is
    false: more history for a log that has it)."""
    rng = random.Random(seed)
    agents = [Actor(uuid.uuid4(), Role.AGENT, f"Agent {i}") for i in range(60)]
    book = PolicyBook()
    policy = SlaPolicy.define(ADMIN, policy_id=uuid.uuid4(), document=POLICY)
    policy_events = list(policy.collect_events())
    object.__setattr__(policy_events[0], "timestamp", YEAR_START - timedelta(days=1))
    book.record(policy.id, policy.document)
    tracker = SlaTracker(book)
    story = Story(rng, agents, tracker)
    started = time.perf_counter()
    written, pending = 0, []
    if with_policy:
        stored = [MAPPER.to_stored_event(e) for e in policy_events]
        await store.append(AppendRequest(events=stored))
        written = len(policy_events)
    per_day = max(1, target // 15 // 365)
    at = YEAR_START
    batch: list[Any] = []
    while written < target:
        at += timedelta(seconds=86400 / per_day * rng.uniform(0.5, 1.5))
        events = story.case(at)
        tracker.cases.pop(events[0].originator_id, None)  # its clocks are done with
        batch += [MAPPER.to_stored_event(e) for e in events]
        written += len(events)
        if len(batch) >= 500:
            pending.append(store.submit(AppendRequest(events=batch)))
            batch = []
            if len(pending) >= 2:
                await pending.pop(0)
            if written % 100_000 < 1000:
                print(f"  written {written:,} events", flush=True)
    if batch:
        pending.append(store.submit(AppendRequest(events=batch)))
    for future in pending:
        await future
    return written, time.perf_counter() - started

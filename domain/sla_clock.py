"""SLA clocks as a pure state machine: case events in, SLA facts out.

`SlaTracker.observe(envelope-like)` takes every event of the log in order (cases and
policies) and answers the facts they cause (`domain.case_outcomes.SlaFact`); the facts
are applied to the tracker at once, and applying a fact twice (the engine sees its own
recorded facts come back through the log) changes nothing. `due(case, now)` answers the
warnings and breaches a timer firing at `now` records. Everything is decided from event
times and the policy in force when a clock starts, so replaying the same log gives the
same facts: the SLA engine replays it on start, and `what-if` replays it under another
policy (`SlaTracker(book=PolicyBook fixed)`, recorded SLA facts ignored).

Triggers (see README "SLA"): `Opened` starts first response and resolution;
an outbound `CustomerMessageLogged` stops first and next response; an inbound one ends a
wait and starts a next-response clock once the first response is done; `AwaitingCustomer`
pauses (true) or resumes (false) every running clock; `Resolved` stops every clock;
`Closed` ends them without a fact; `Reopened` starts a new resolution clock. A clock
stopped at or after its due time is breached (`SlaBreached` if not recorded yet), else met.
Any trigger first records the breaches already due at its time (a timer that was late).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.case_outcomes import SlaFact
from domain.sla_policy import PolicyBook
from domain.sla_terms import Policy, SlaTarget, Urgencies

__all__ = ["CaseClocks", "Clock", "SlaTracker"]

RESPONSES = (SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE)
URGENCY_RANK = {"": 0, "low": 1, "normal": 2, "high": 3, "critical": 4}


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Clock:
    target: SlaTarget
    cycle: int
    policy: Policy
    minutes: int
    due: datetime
    warn: datetime
    remaining: float = 0.0  # business seconds left, while paused
    warn_remaining: float = 0.0
    paused: bool = False
    warned: bool = False
    breached: bool = False
    policy_id: UUID | None = None  # which policy `policy` is (kept in a checkpoint)

    def as_data(self) -> dict[str, Any]:
        return {
            "target": self.target.value,
            "cycle": self.cycle,
            "policy_id": str(self.policy_id),
            "minutes": self.minutes,
            "due": iso(self.due),
            "warn": iso(self.warn),
            "remaining": self.remaining,
            "warn_remaining": self.warn_remaining,
            "paused": self.paused,
            "warned": self.warned,
            "breached": self.breached,
        }


@dataclass
class CaseClocks:
    priority: str
    channel: str
    customer: str
    running: dict[SlaTarget, Clock] = field(default_factory=dict)
    cycles: dict[SlaTarget, int] = field(default_factory=dict)
    responded: bool = False
    awaiting: bool = False
    urgency: str = ""

    def as_data(self) -> dict[str, Any]:
        """The state as JSON-able data (`SlaTracker.restore` takes it back)."""
        return {
            "priority": self.priority,
            "channel": self.channel,
            "customer": self.customer,
            "running": [clock.as_data() for clock in self.running.values()],
            "cycles": {target.value: n for target, n in self.cycles.items()},
            "responded": self.responded,
            "awaiting": self.awaiting,
            "urgency": self.urgency,
        }


class SlaTracker:
    """See the module docstring. `ignore_recorded`: what-if (recorded facts are history
    under another policy, not this one's)."""

    def __init__(self, book: PolicyBook | None = None, *, ignore_recorded: bool = False) -> None:
        self.book = book if book is not None else PolicyBook()
        self.ignore_recorded = ignore_recorded
        self.cases: dict[UUID, CaseClocks] = {}

    # -- the log in ---------------------------------------------------------------
    def observe(self, name: str, case_id: UUID, event: Any, at: datetime) -> list[SlaFact]:
        """The facts one event causes (already applied here)."""
        if name.startswith("SlaPolicy."):
            if not self.ignore_recorded:
                self.book.record(case_id, event.document)
            return []
        if name.startswith("Sla") or name == "SwarmUrgencyRaised":
            if not self.ignore_recorded:
                self.apply(case_id, SlaFact(name, **_fields(event)))
            return []
        if name == "Opened":
            return self._opened(case_id, event, at)
        state = self.cases.get(case_id)
        if state is None:
            return []
        facts = self._late(case_id, state, at)
        if name == "CustomerMessageLogged":
            if event.direction == "outbound":
                facts += self._stop(case_id, state, RESPONSES, at)
                state.responded = True
            else:
                if state.awaiting:
                    facts += self._set_awaiting(case_id, state, False, at)
                if state.responded and SlaTarget.NEXT_RESPONSE not in state.running:
                    facts += self._start(case_id, state, SlaTarget.NEXT_RESPONSE, at)
        elif name == "AwaitingCustomer":
            if bool(event.awaiting) != state.awaiting:
                facts += self._set_awaiting(case_id, state, bool(event.awaiting), at)
        elif name == "Resolved":
            facts += self._stop(case_id, state, tuple(state.running), at)
        elif name == "Closed":
            state.running.clear()
        elif name == "Reopened":
            state.awaiting = False
            facts += self._start(case_id, state, SlaTarget.RESOLUTION, at)
        elif name == "PriorityChanged":
            state.priority = event.priority  # for clocks started from now on
        return facts

    def due(self, case_id: UUID, now: datetime) -> list[SlaFact]:
        """Warnings and breaches due at `now` (a timer fired), applied here."""
        state = self.cases.get(case_id)
        if state is None:
            return []
        facts: list[SlaFact] = []
        for clock in list(state.running.values()):
            if clock.paused or clock.breached:
                continue
            if not clock.warned and clock.warn <= now < clock.due:
                facts.append(_fact("SlaWarned", clock, due_at=iso(clock.due)))
                facts += self._urgency(state, Urgencies.WARNED, clock)
        facts += self._late(case_id, state, now)
        for fact in facts:
            self.apply(case_id, fact)
        return facts

    # -- a checkpoint: the state as data, and back ---------------------------------------
    def case_data(self, case_id: UUID) -> dict[str, Any] | None:
        state = self.cases.get(case_id)
        return None if state is None else state.as_data()

    def restore(self, case_id: UUID, data: dict[str, Any]) -> None:
        """A case's state as `case_data` gave it (its policies already in the book)."""
        state = CaseClocks(
            data["priority"],
            data["channel"],
            data["customer"],
            cycles={SlaTarget(t): int(n) for t, n in data["cycles"].items()},
            responded=data["responded"],
            awaiting=data["awaiting"],
            urgency=data["urgency"],
        )
        for c in data["running"]:
            policy_id = UUID(c["policy_id"])
            policy = self.book.get(policy_id)
            if policy is None:  # as `apply`: a policy this tracker never saw
                continue
            clock = Clock(
                SlaTarget(c["target"]),
                int(c["cycle"]),
                policy,
                int(c["minutes"]),
                parse(c["due"]),
                parse(c["warn"]),
                float(c["remaining"]),
                float(c["warn_remaining"]),
                c["paused"],
                c["warned"],
                c["breached"],
                policy_id,
            )
            state.running[clock.target] = clock
        self.cases[case_id] = state

    def clocks(self) -> Iterator[tuple[UUID, Clock]]:
        for case_id, state in self.cases.items():
            for clock in state.running.values():
                yield case_id, clock

    # -- facts applied (idempotent) ---------------------------------------------------
    def apply(self, case_id: UUID, fact: SlaFact) -> None:
        state = self.cases.get(case_id)
        if state is None:
            return
        f = fact.fields
        if fact.name == "SwarmUrgencyRaised":
            if URGENCY_RANK.get(f["urgency"], 0) > URGENCY_RANK.get(state.urgency, 0):
                state.urgency = f["urgency"]
            return
        target = SlaTarget(f["target"])
        clock = state.running.get(target)
        if fact.name == "SlaClockStarted":
            if state.cycles.get(target, 0) >= f["cycle"]:
                return
            state.cycles[target] = f["cycle"]
            policy_id = f["policy_id"]
            if type(policy_id) is not UUID:
                policy_id = UUID(str(policy_id))
            policy = self.book.get(policy_id)
            if policy is None:  # recorded under a policy this tracker never saw
                return
            state.running[target] = Clock(
                target,
                f["cycle"],
                policy,
                f["minutes"],
                parse(f["due_at"]),
                parse(f["warn_at"]),
                policy_id=policy_id,
            )
            return
        if clock is None or clock.cycle != f["cycle"]:
            return
        if fact.name == "SlaPaused":
            if not clock.paused:
                clock.paused, clock.remaining = True, float(f["remaining_seconds"])
                at = parse(f["at"])
                clock.warn_remaining = clock.policy.calendar.between(at, clock.warn)
        elif fact.name == "SlaResumed":
            clock.paused, clock.due, clock.warn = False, parse(f["due_at"]), parse(f["warn_at"])
        elif fact.name == "SlaWarned":
            clock.warned = True
        elif fact.name == "SlaBreached":
            clock.breached = True
        elif fact.name == "SlaMet":
            del state.running[target]

    # -- deciding ---------------------------------------------------------------------
    def _opened(self, case_id: UUID, event: Any, at: datetime) -> list[SlaFact]:
        state = CaseClocks(event.priority, event.channel, event.customer)
        self.cases[case_id] = state
        facts = self._start(case_id, state, SlaTarget.FIRST_RESPONSE, at)
        return facts + self._start(case_id, state, SlaTarget.RESOLUTION, at)

    def _start(
        self, case_id: UUID, state: CaseClocks, target: SlaTarget, at: datetime
    ) -> list[SlaFact]:
        found = self.book.in_force()
        if found is None:
            return []
        policy_id, policy = found
        tier = policy.tier_of(state.customer)
        minutes = policy.minutes_for(target, state.priority, tier, state.channel)
        if minutes is None:
            return []
        seconds = minutes * 60
        due = policy.calendar.add(at, seconds)
        warn = policy.calendar.add(at, seconds * policy.warn_share)
        fact = SlaFact(
            "SlaClockStarted",
            target=target.value,
            cycle=state.cycles.get(target, 0) + 1,
            policy_id=policy_id,
            minutes=minutes,
            started_at=iso(at),
            due_at=iso(due),
            warn_at=iso(warn),
        )
        self.apply(case_id, fact)
        return [fact]

    def _stop(
        self, case_id: UUID, state: CaseClocks, targets: tuple[SlaTarget, ...], at: datetime
    ) -> list[SlaFact]:
        facts: list[SlaFact] = []
        for target in targets:
            clock = state.running.get(target)
            if clock is None:
                continue
            if clock.breached:
                state.running.pop(target)  # its outcome is recorded: it just ends
                continue
            cal = clock.policy.calendar
            left = clock.remaining if clock.paused else cal.between(at, clock.due)
            if not clock.paused and at >= clock.due:
                fact = _fact("SlaBreached", clock, due_at=iso(clock.due))
                state.running.pop(target)
            else:
                fact = _fact(
                    "SlaMet",
                    clock,
                    at=iso(at),
                    due_at=iso(clock.due),
                    business_seconds=round(clock.minutes * 60 - left),
                )
            self.apply(case_id, fact)
            facts.append(fact)
        return facts

    def _set_awaiting(
        self, case_id: UUID, state: CaseClocks, awaiting: bool, at: datetime
    ) -> list[SlaFact]:
        state.awaiting = awaiting
        facts: list[SlaFact] = []
        for clock in list(state.running.values()):
            if clock.breached:
                continue
            cal = clock.policy.calendar
            if awaiting and not clock.paused:
                left = cal.between(at, clock.due)
                fact = _fact("SlaPaused", clock, at=iso(at), remaining_seconds=round(left))
            elif not awaiting and clock.paused:
                due = cal.add(at, clock.remaining)
                warn = cal.add(at, clock.warn_remaining)
                fact = _fact("SlaResumed", clock, at=iso(at), due_at=iso(due), warn_at=iso(warn))
            else:
                continue
            self.apply(case_id, fact)
            facts.append(fact)
        return facts

    def _late(self, case_id: UUID, state: CaseClocks, at: datetime) -> list[SlaFact]:
        facts: list[SlaFact] = []
        for clock in list(state.running.values()):
            if not clock.paused and not clock.breached and clock.due <= at:
                facts.append(_fact("SlaBreached", clock, due_at=iso(clock.due)))
                facts += self._urgency(state, Urgencies.BREACHED, clock)
        for fact in facts:
            self.apply(case_id, fact)
        return facts

    def _urgency(self, state: CaseClocks, urgency: str, clock: Clock) -> list[SlaFact]:
        if URGENCY_RANK[urgency] <= URGENCY_RANK.get(state.urgency, 0):
            return []
        verb = "due" if urgency == Urgencies.WARNED else "breached"
        return [
            SlaFact(
                "SwarmUrgencyRaised",
                urgency=urgency,
                previous=state.urgency,
                target=clock.target.value,
                reason=f"{clock.target.value} {verb} at {iso(clock.due)}",
            )
        ]


def _fact(name: str, clock: Clock, **fields: Any) -> SlaFact:
    return SlaFact(name, target=clock.target.value, cycle=clock.cycle, **fields)


def _fields(event: Any) -> dict[str, Any]:
    skip = {"originator_id", "originator_version", "timestamp"}
    return {k: v for k, v in vars(event).items() if k not in skip}

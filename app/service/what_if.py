"""SLA what-if: replay history under a proposed policy and compare, per target, with what
was recorded. Reads the log only: it writes nothing (no event, no timer, no row).

The replay is the SLA engine's own tracker (`domain.sla_clock.SlaTracker`) with the
proposed policy fixed in force for every clock and the recorded SLA facts ignored; at
the end of the log, clocks whose due time has passed by `now` count as breached (their
timers would have fired). A clock counts in the period when its outcome falls in it (the
response or resolution time when met, the due time when breached); the recorded side is
the first `SlaMet`/`SlaBreached` of each clock, as the KPI projection counts it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from app.store import EventStore, RecordedEvent
from domain.case_outcomes import SlaFact
from domain.sla_clock import SlaTracker
from domain.sla_policy import PolicyBook
from domain.sla_terms import Policy, SlaTarget

__all__ = ["Outcomes", "WhatIf", "what_if"]

PROPOSED_ID = uuid.UUID("00000000-0000-5000-8000-00000000a11f")  # the proposal's id


@dataclass
class Outcomes:
    """Per clock `(case, target, cycle)`: met (True) or breached, first one wins."""

    start: date
    end: date
    by_clock: dict[tuple[UUID, str, int], bool] = field(default_factory=dict)

    def add(self, case_id: UUID, fact: SlaFact) -> None:
        if fact.name not in ("SlaMet", "SlaBreached"):
            return
        f = fact.fields
        key = (case_id, f["target"], int(f["cycle"]))
        if key in self.by_clock:
            return
        ended = f["at"] if fact.name == "SlaMet" else f["due_at"]
        if self.start <= datetime.fromisoformat(ended).date() <= self.end:
            self.by_clock[key] = fact.name == "SlaMet"

    def summary(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for target in SlaTarget:
            values = [met for (_, t, _), met in self.by_clock.items() if t == target.value]
            met = sum(values)
            out[target.value] = {
                "met": met,
                "breached": len(values) - met,
                "compliance": round(met / len(values), 4) if values else None,
            }
        return out


@dataclass
class WhatIf:
    recorded: Outcomes
    proposed: Outcomes
    events: int = 0
    seconds: float = 0.0

    def report(self) -> dict[str, Any]:
        recorded, proposed = self.recorded.summary(), self.proposed.summary()
        targets: dict[str, Any] = {}
        for target in SlaTarget:
            r, p = recorded[target.value], proposed[target.value]
            flips = {"met_to_breached": 0, "breached_to_met": 0}
            for key, met in self.proposed.by_clock.items():
                was = self.recorded.by_clock.get(key)
                if key[1] == target.value and was is not None and was != met:
                    flips["breached_to_met" if met else "met_to_breached"] += 1
            targets[target.value] = {
                "recorded": r,
                "proposed": p,
                "breaches_difference": p["breached"] - r["breached"],
                **flips,
            }
        return {
            "from": self.recorded.start.isoformat(),
            "to": self.recorded.end.isoformat(),
            "events_replayed": self.events,
            "events_per_second": round(self.events / self.seconds) if self.seconds else None,
            "targets": targets,
        }


#: The events a what-if reads: the clocks' triggers and the recorded outcomes (the rest
#: of the log changes no clock, so it is never read nor decoded)
TOPICS = tuple(
    f"domain.case:Case.{name}"
    for name in (
        "Opened",
        "CustomerMessageLogged",
        "AwaitingCustomer",
        "Resolved",
        "Closed",
        "Reopened",
        "PriorityChanged",
        "SlaMet",
        "SlaBreached",
    )
)


async def log_rows(
    store: EventStore, page: int = 5000, topics: Sequence[str] = ()
) -> AsyncIterator[RecordedEvent]:
    """Every event of the log (of `topics`, when given), in position order, up to the
    head as it is now."""
    head = await store.max_position()
    after = 0
    while after < head:
        rows = await store.read(after, page, until=head, topics=topics)
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1].position


async def what_if(
    rows: AsyncIterator[RecordedEvent],
    decode: Callable[[RecordedEvent], Any],
    document: Mapping[str, Any],
    start: date,
    end: date,
    now: datetime,
) -> WhatIf:
    """Replay `rows` under `document` (validated: `InvalidInput`) and compare."""
    book = PolicyBook()
    book.fix(PROPOSED_ID, Policy.of(document))
    tracker = SlaTracker(book, ignore_recorded=True)
    result = WhatIf(Outcomes(start, end), Outcomes(start, end))
    began = time.perf_counter()
    async for row in rows:
        event = decode(row)
        result.events += 1
        cls = type(event)
        if not cls.__qualname__.startswith("Case."):
            continue
        name, case_id = cls.__name__, row.originator_id
        if name in ("SlaMet", "SlaBreached"):
            result.recorded.add(case_id, SlaFact(name, **_fields(event)))
            continue
        for fact in tracker.observe(name, case_id, event, event.timestamp):
            result.proposed.add(case_id, fact)
    for case_id in list(tracker.cases):
        for fact in tracker.due(case_id, now):
            result.proposed.add(case_id, fact)
    result.seconds = time.perf_counter() - began
    return result


def _fields(event: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k in ("target", "cycle", "at", "due_at")}

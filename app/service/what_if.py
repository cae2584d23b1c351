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

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from app.store import EventStore, RecordedEvent
from domain.case_outcomes import SlaFact
from domain.sla_clock import SlaTracker
from domain.sla_policy import PolicyBook
from domain.sla_terms import Policy, SlaTarget

__all__ = ["LeanDecoder", "Outcomes", "WhatIf", "what_if"]

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
    head as it is now. The next page is read while this one is consumed."""
    head = await store.max_position()

    def read(after: int) -> asyncio.Future[list[RecordedEvent]]:
        return asyncio.ensure_future(store.read(after, page, until=head, topics=topics))

    pending = read(0) if head > 0 else None
    try:
        while pending is not None:
            rows = await pending
            pending = None
            if not rows:
                return
            after = rows[-1].position
            if after < head:
                pending = read(after)
            for row in rows:
                yield row
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


CASE_TOPIC = "domain.case:Case."


class LeanDecoder:
    """`(name, event)` of a case event with only its plain fields and `timestamp`
    decoded (a what-if reads a handful: priority, channel, customer, direction,
    awaiting, target, cycle, at, due_at); the full `decode` for anything else, for an
    event class that upcasts, or for a stored form it does not expect."""

    def __init__(self, decode: Callable[[RecordedEvent], Any]) -> None:
        self.decode = decode
        self.plain: dict[str, bool] = {}  # topic -> no upcasting: lean decoding applies

    def __call__(self, row: RecordedEvent) -> tuple[str, Any] | None:
        topic = row.topic
        if not topic.startswith(CASE_TOPIC):
            return None
        plain = self.plain.get(topic)
        if plain is None:
            plain = self.plain[topic] = getattr(resolve_topic(topic), "class_version", 1) == 1
        if plain:
            try:
                state = orjson.loads(row.state)
                stamp = state["timestamp"]
                if "class_version" not in state and stamp["_type_"] == "datetime_iso":
                    state["timestamp"] = datetime.fromisoformat(stamp["_data_"])
                    return topic[len(CASE_TOPIC) :], SimpleNamespace(**state)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                pass  # the full decoder decides (and names the error)
        event = self.decode(row)
        cls = type(event)
        return (cls.__name__, event) if cls.__qualname__.startswith("Case.") else None


async def what_if(
    rows: AsyncIterator[RecordedEvent],
    decode: Callable[[RecordedEvent], Any],
    document: Mapping[str, Any],
    start: date,
    end: date,
    now: datetime,
) -> WhatIf:
    """Replay `rows` under `document` (validated: `InvalidInput`) and compare. `decode`
    decodes what the what-if's lean decoding leaves to it (see `LeanDecoder`)."""
    book = PolicyBook()
    book.fix(PROPOSED_ID, Policy.of(document))
    tracker = SlaTracker(book, ignore_recorded=True)
    result = WhatIf(Outcomes(start, end), Outcomes(start, end))
    lean = LeanDecoder(decode)
    observe, proposed, recorded = tracker.observe, result.proposed.add, result.recorded.add
    began = time.perf_counter()
    async for row in rows:
        result.events += 1
        found = lean(row)
        if found is None:
            continue
        name, event = found
        case_id = row.originator_id
        if name in ("SlaMet", "SlaBreached"):
            recorded(case_id, SlaFact(name, **_fields(event)))
            continue
        for fact in observe(name, case_id, event, event.timestamp):
            proposed(case_id, fact)
    for case_id in list(tracker.cases):
        for fact in tracker.due(case_id, now):
            result.proposed.add(case_id, fact)
    result.seconds = time.perf_counter() - began
    return result


def _fields(event: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k in ("target", "cycle", "at", "due_at")}

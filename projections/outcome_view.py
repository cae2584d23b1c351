"""Case-view reducers of the outcome events (`domain.outcome_events`).

They add to the case document (members added on first use, so documents built before
these events existed stay valid): `awaiting_customer` (bool), `satisfaction` {score,
comment, source, at}, `swarm_urgency` (the urgency time pressure raised), and
`sla` {target: {cycle, status running|paused|met|breached, minutes, due_at, warn_at,
warned, met_at, remaining_seconds}}: the state of each target's latest clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.case_items import ItemSet
from projections.envelope import Doc, Envelope, Op, add

Reducer = Callable[[Doc, Envelope, ItemSet], list[Op]]


def awaiting_customer(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return [add("/awaiting_customer", bool(env.event.awaiting))]


def satisfaction_recorded(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    value = {"score": e.score, "comment": e.comment, "source": e.source, "at": env.at}
    return [add("/satisfaction", value)]


def swarm_urgency_raised(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return [add("/swarm_urgency", env.event.urgency)]


def _sla(view: Doc, env: Envelope, **changes: Any) -> list[Op]:
    e = env.event
    ops: list[Op] = [] if "sla" in view else [add("/sla", {})]
    current = dict(view.get("sla", {}).get(e.target, {}))
    if current.get("cycle") not in (None, e.cycle) and env.name != "SlaClockStarted":
        return []  # a fact of an earlier cycle: the document shows the latest clock
    current.update(changes)
    ops.append(add(f"/sla/{e.target}", current))
    return ops


def sla_clock_started(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    return _sla(
        view,
        env,
        cycle=e.cycle,
        status="running",
        minutes=e.minutes,
        started_at=e.started_at,
        due_at=e.due_at,
        warn_at=e.warn_at,
        warned=False,
        met_at=None,
        remaining_seconds=None,
    )


def sla_paused(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return _sla(view, env, status="paused", remaining_seconds=env.event.remaining_seconds)


def sla_resumed(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    return _sla(
        view, env, status="running", due_at=e.due_at, warn_at=e.warn_at, remaining_seconds=None
    )


def sla_warned(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return _sla(view, env, warned=True)


def sla_breached(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return _sla(view, env, status="breached")


def sla_met(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return _sla(view, env, status="met", met_at=env.event.at)


OUTCOME_REDUCERS: dict[str, Reducer] = {
    "AwaitingCustomer": awaiting_customer,
    "SatisfactionRecorded": satisfaction_recorded,
    "SwarmUrgencyRaised": swarm_urgency_raised,
    "SlaClockStarted": sla_clock_started,
    "SlaPaused": sla_paused,
    "SlaResumed": sla_resumed,
    "SlaWarned": sla_warned,
    "SlaBreached": sla_breached,
    "SlaMet": sla_met,
}

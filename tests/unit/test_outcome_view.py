"""Case-view reducers of the outcome events (`projections.outcome_view`): every one is
folded (ops applied by `projections.patch` equal `jsonpatch`, the view never mutated),
and the document shows each target's latest clock, the wait, the urgency and the score."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import jsonpatch

from domain import Actor, Case, Role
from domain.case_outcomes import SlaFact
from projections.case_view import case_ops
from projections.envelope import Envelope
from projections.outcome_view import OUTCOME_REDUCERS
from projections.patch import apply_ops

OWNER = Actor(uuid.uuid4(), Role.AGENT, "Olga")
ENGINE = Actor(uuid.uuid4(), Role.ADMIN, "SLA engine")
POLICY = uuid.uuid4()


def clock(name: str, target: str = "resolution", cycle: int = 1, **fields: Any) -> SlaFact:
    return SlaFact(name, target=target, cycle=cycle, **fields)


def history() -> list[Any]:
    c = Case.open(OWNER, customer="ACME", subject="Down")
    start: dict[str, Any] = {
        "policy_id": POLICY,
        "minutes": 60,
        "started_at": "2026-01-05T09:00:00+00:00",
        "due_at": "2026-01-05T10:00:00+00:00",
        "warn_at": "2026-01-05T09:48:00+00:00",
    }
    c.record_sla(ENGINE, clock("SlaClockStarted", **start))
    c.record_sla(ENGINE, clock("SlaClockStarted", target="first_response", **start))
    c.await_customer(OWNER, awaiting=True, note="logs?")
    c.record_sla(ENGINE, clock("SlaPaused", at="2026-01-05T09:10:00+00:00", remaining_seconds=3000))
    c.await_customer(OWNER, awaiting=False)
    c.record_sla(
        ENGINE,
        clock(
            "SlaResumed",
            at="2026-01-05T09:20:00+00:00",
            due_at="2026-01-05T10:10:00+00:00",
            warn_at="2026-01-05T09:58:00+00:00",
        ),
    )
    c.record_sla(ENGINE, clock("SlaWarned", due_at="2026-01-05T10:10:00+00:00"))
    c.record_sla(
        ENGINE,
        SlaFact(
            "SwarmUrgencyRaised",
            urgency="high",
            previous="",
            target="resolution",
            reason="due soon",
        ),
    )
    c.record_sla(
        ENGINE, clock("SlaBreached", target="first_response", due_at="2026-01-05T10:00:00+00:00")
    )
    c.record_sla(
        ENGINE,
        clock(
            "SlaMet",
            at="2026-01-05T10:05:00+00:00",
            due_at="2026-01-05T10:10:00+00:00",
            business_seconds=3300,
        ),
    )
    c.record_sla(ENGINE, clock("SlaMet", cycle=0, at="x", due_at="x", business_seconds=1))
    c.record_satisfaction(OWNER, score=5, comment="great", source="survey")
    return list(c.collect_events())


def test_every_outcome_event_folds_into_the_case_view() -> None:
    view: dict[str, Any] | None = None
    seen = set()
    for n, event in enumerate(history(), 1):
        env = Envelope(n, event)
        seen.add(env.name)
        before = copy.deepcopy(view)
        ops = case_ops(view, env)
        assert view == before
        reference = jsonpatch.apply_patch(copy.deepcopy(view) if view else {}, ops)
        view = apply_ops(view, json.loads(json.dumps(ops)))
        assert view == reference
        assert view["timeline"][-1]["type"] == env.name
    assert set(OUTCOME_REDUCERS) <= seen
    assert view is not None
    assert view["sla"]["resolution"] == {
        "cycle": 1,
        "status": "met",
        "minutes": 60,
        "started_at": "2026-01-05T09:00:00+00:00",
        "due_at": "2026-01-05T10:10:00+00:00",
        "warn_at": "2026-01-05T09:58:00+00:00",
        "warned": True,
        "met_at": "2026-01-05T10:05:00+00:00",
        "remaining_seconds": None,
    }
    assert view["sla"]["first_response"]["status"] == "breached"
    assert view["awaiting_customer"] is False
    assert view["swarm_urgency"] == "high"
    assert view["satisfaction"]["score"] == 5
    assert view["timeline"][3]["by"] == str(OWNER.id)  # AwaitingCustomer by the owner


def test_the_board_ranks_raised_urgency_first_then_recency() -> None:
    from projections.rows import board_rank

    plain: dict[str, Any]
    older_high: dict[str, Any]
    critical: dict[str, Any]
    plain, older_high, critical = (
        {"position": 900},
        {"position": 5, "swarm_urgency": "high"},
        {"position": 1, "swarm_urgency": "critical"},
    )
    ranked = sorted([plain, older_high, critical], key=board_rank, reverse=True)
    assert ranked == [critical, older_high, plain]
    assert board_rank(plain) == 900  # nothing raised: the position, as before

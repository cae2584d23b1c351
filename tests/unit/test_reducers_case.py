"""Case-view reducers, one check per event type; ops applied by `projections.patch`
equal `jsonpatch` (the RFC 6902 reference clients use); reducers never mutate."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jsonpatch
import pytest

from domain import Actor, Case, Role
from projections.case_items import ItemSet
from projections.case_view import (
    CITED_TEXT,
    INSIGHTS_WINDOW,
    PROPOSALS_WINDOW,
    REDUCERS,
    TIMELINE_MAX,
    case_ops,
)
from projections.envelope import Envelope
from projections.outcome_view import OUTCOME_REDUCERS
from projections.patch import apply_ops

OWNER = Actor(uuid.uuid4(), Role.AGENT, "Olga")
EXPERT = Actor(uuid.uuid4(), Role.AGENT, "Ed")
NEWBIE = Actor(uuid.uuid4(), Role.AGENT, "Nia")
SUP = Actor(uuid.uuid4(), Role.SUPERVISOR, "Sue")


def history() -> list[Any]:
    c = Case.open(OWNER, customer="ACME", subject="Down", description="500s")
    c.add_context(OWNER, context_id=uuid.uuid4(), kind="environment", text="k8s")
    c.log_customer_message(OWNER, message_id=uuid.uuid4(), direction="inbound", text="hi")
    c.request_swarm(OWNER, request_id=uuid.uuid4(), help_needed="db", skills_wanted=["pg"])
    c.invite_expert(OWNER, invitation_id=uuid.uuid4(), expert_id=EXPERT.id, reason="pg")
    c.invite_expert(OWNER, invitation_id=uuid.uuid4(), expert_id=NEWBIE.id, reason="x")
    c.decline_invitation(NEWBIE, reason="busy")
    late, due = uuid.uuid4(), datetime(2026, 1, 1, tzinfo=UTC)
    c.invite_expert(OWNER, invitation_id=late, expert_id=NEWBIE.id, reason="y", expires_at=due)
    c.expire_invitation(SUP, invitation_id=late, now=due)
    c.join(EXPERT)
    c.acknowledge_briefing(EXPERT, version=c.version)
    i = uuid.uuid4()
    c.post_insight(EXPERT, insight_id=i, kind="finding", text="pool", mentions=[OWNER.id])
    p1, p2 = uuid.uuid4(), uuid.uuid4()
    c.propose_resolution(EXPERT, proposal_id=p1, summary="a", cites=[i])
    c.reject_proposal(OWNER, proposal_id=p1, reason="no")
    c.propose_resolution(EXPERT, proposal_id=p2, summary="b", cites=[i])
    c.accept_proposal(OWNER, proposal_id=p2)
    c.change_priority(OWNER, priority="urgent", reason="vip")
    c.resolve(OWNER, summary="done")
    c.record_reuse(NEWBIE, for_case_id=uuid.uuid4())
    c.reopen(SUP, reason="again")
    c.transfer_ownership(OWNER, to_owner_id=EXPERT.id, handoff_note="yours")
    c.leave(OWNER)
    c.close(EXPERT, note="bye")
    return list(c.collect_events())


def fold() -> list[tuple[str, dict[str, Any] | None, dict[str, Any]]]:
    """(event name, view before, view after) for every event of `history()`."""
    out: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = []
    view: dict[str, Any] | None = None
    items = ItemSet()
    for n, e in enumerate(history(), 1):
        env = Envelope(n, e)
        before = copy.deepcopy(view)
        ops = case_ops(view, env, items)
        assert view == before  # the reducer did not mutate the view
        reference = jsonpatch.apply_patch(copy.deepcopy(view) if view else {}, ops)
        view = apply_ops(view, json.loads(json.dumps(ops)))
        assert view == reference
        assert view["version"] == e.originator_version
        assert view["position"] == n
        assert view["timeline"][-1]["type"] == env.name
        out.append((env.name, before, copy.deepcopy(view)))
    return out


STEPS = {name: (before, after) for name, before, after in fold()}


def test_every_event_type_is_covered() -> None:
    # the outcome events' reducers are covered by tests/unit/test_outcome_view.py
    assert set(STEPS) == set(REDUCERS) - set(OUTCOME_REDUCERS)


CHECKS: dict[str, Callable[[Any, Any], bool]] = {
    "Opened": lambda b, a: a["status"] == "open" and a["owner"]["id"] == str(OWNER.id),
    "ContextAdded": lambda b, a: a["context"]["environment"][0]["text"] == "k8s",
    "CustomerMessageLogged": lambda b, a: a["customer_messages"][0]["direction"] == "inbound",
    "SwarmRequested": lambda b, a: (
        [r["skills_wanted"] for r in a["swarm_requests"].values()] == [["pg"]]
    ),
    "ExpertInvited": lambda b, a: (
        len(a["invitations"]) == len(b["invitations"]) + 1
        and a["totals"]["invitations"] == b["totals"]["invitations"] + 1
    ),
    "InvitationDeclined": lambda b, a: (  # decided invitations leave the document
        [i["expert_id"] for i in a["invitations"].values()] == [str(EXPERT.id)]
    ),
    "InvitationExpired": lambda b, a: (  # it leaves the document too
        [i["expires_at"] for i in b["invitations"].values()][-1] == "2026-01-01T00:00:00+00:00"
        and [i["expert_id"] for i in a["invitations"].values()] == [str(EXPERT.id)]
    ),
    "ExpertJoined": lambda b, a: (
        a["participants"][str(EXPERT.id)]["via"] == "invitation" and a["invitations"] == {}
    ),
    "BriefingAcknowledged": lambda b, a: a["acknowledgements"] == {str(EXPERT.id): 10},
    "InsightPosted": lambda b, a: (
        [i["text"] for i in a["insights"]] == ["pool"] and a["totals"]["insights"] == 1
    ),
    "ResolutionProposed": lambda b, a: all(
        p["cited_insights"][0]["text"] == "pool" for p in a["proposals"]
    ),
    "ProposalRejected": lambda b, a: "rejected" in [p["status"] for p in a["proposals"]],
    "ProposalAccepted": lambda b, a: "accepted" in [p["status"] for p in a["proposals"]],
    "PriorityChanged": lambda b, a: b["priority"] == "normal" and a["priority"] == "urgent",
    "SolutionReused": lambda b, a: "reuse_count" not in b and a["reuse_count"] == 1,
    "Resolved": lambda b, a: (
        a["status"] == "resolved"
        and a["resolution"]["summary"] == "done"
        and a["swarm_requests"] == {}  # only open requests stay
        and b["totals"]["swarm_requests"] == 1
    ),
    "Reopened": lambda b, a: a["status"] == "open" and a["resolution"] is None,
    "OwnershipTransferred": lambda b, a: (
        a["owner"]["id"] == str(EXPERT.id) and a["participants"][str(OWNER.id)]["role"] == "expert"
    ),
    "ExpertLeft": lambda b, a: a["participants"][str(OWNER.id)]["left_at"] is not None,
    "Closed": lambda b, a: a["status"] == "closed" and a["closure"]["note"] == "bye",
}


@pytest.mark.parametrize("name", sorted(set(REDUCERS) - set(OUTCOME_REDUCERS)))
def test_reducer(name: str) -> None:
    before, after = STEPS[name]
    assert CHECKS[name](before, after)


def test_timeline_keeps_the_last_entries() -> None:
    c = Case.open(OWNER, customer="ACME", subject="Busy")
    for i in range(TIMELINE_MAX + 5):
        c.acknowledge_briefing(OWNER, version=i + 1)
    view: dict[str, Any] | None = None
    for n, e in enumerate(c.collect_events(), 1):
        view = apply_ops(view, case_ops(view, Envelope(n, e)))
    assert view is not None
    assert len(view["timeline"]) == TIMELINE_MAX
    assert view["timeline_total"] == TIMELINE_MAX + 6
    assert view["timeline"][-1]["version"] == TIMELINE_MAX + 6


def _fold_all(events: list[Any]) -> tuple[dict[str, Any], ItemSet]:
    view: dict[str, Any] | None = None
    items = ItemSet()
    for n, e in enumerate(events, 1):
        ops = json.loads(json.dumps(case_ops(view, Envelope(n, e), items)))
        reference = jsonpatch.apply_patch(copy.deepcopy(view) if view else {}, ops)
        view = apply_ops(view, ops)
        assert view == reference  # a client applying the patches keeps the same window
    assert view is not None
    return view, items


def test_windows_keep_the_newest_items_and_rows_keep_them_all() -> None:
    c = Case.open(OWNER, customer="ACME", subject="Busy")
    ids = [uuid.uuid4() for _ in range(INSIGHTS_WINDOW + 7)]
    for n, iid in enumerate(ids):
        c.post_insight(OWNER, insight_id=iid, kind="finding", text=f"insight {n}")
    view, items = _fold_all(list(c.collect_events()))
    assert [i["id"] for i in view["insights"]] == [str(i) for i in ids[-INSIGHTS_WINDOW:]]
    assert view["totals"]["insights"] == len(ids)
    rows = [r for r in items.rows() if r["kind"] == "insight"]
    assert [r["item_id"] for r in sorted(rows, key=lambda r: r["seq"])] == [str(i) for i in ids]


def test_a_proposal_cites_and_decides_beyond_the_windows() -> None:
    c = Case.open(OWNER, customer="ACME", subject="Busy")
    first = uuid.uuid4()
    c.post_insight(OWNER, insight_id=first, kind="finding", text="x" * (CITED_TEXT + 50))
    for _ in range(INSIGHTS_WINDOW):
        c.post_insight(OWNER, insight_id=uuid.uuid4(), kind="finding", text="later")
    old = uuid.uuid4()
    c.propose_resolution(OWNER, proposal_id=old, summary="old", cites=[first])
    for _ in range(PROPOSALS_WINDOW):
        c.propose_resolution(OWNER, proposal_id=uuid.uuid4(), summary="newer")
    c.reject_proposal(OWNER, proposal_id=old, reason="no")
    view, items = _fold_all(list(c.collect_events()))
    assert str(old) not in [p["id"] for p in view["proposals"]]
    proposal = items.get(view["case_id"], "proposal", str(old))
    assert proposal is not None
    assert proposal["status"] == "rejected"
    assert proposal["reason"] == "no"
    cited = proposal["cited_insights"][0]
    assert cited["id"] == str(first)
    assert len(cited["text"]) == CITED_TEXT

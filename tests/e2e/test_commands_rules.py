"""Every kind of domain rule violation, over HTTP, mapped to its status: `NotAllowed` and
`InvalidTransition` -> 403 rule-violated, `NotFoundInCase` -> 404, `InvalidInput` -> 422;
an unknown case -> 404. Each problem names the ids involved and appends nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from domain.agent import agent_id_for
from tests.e2e.commands_support import Api, api_for, assert_problem, unique
from tests.e2e.server import Server

Scenario = Callable[[Api, str, UUID], tuple[str, str, str, Any]]
"""Given (api, owner, case), prepare the case and return (method, path, caller, body)."""


def _resolved(api: Api, owner: str, case: UUID) -> None:
    api.ok("POST", f"/api/cases/{case}/resolve", owner, {"summary": "done"})


def _joined(api: Api, owner: str, case: UUID) -> str:
    expert = unique("expert")
    api.invite(case, owner, expert)
    api.ok("POST", f"/api/cases/{case}/participants", expert)
    return expert


def _proposal(api: Api, owner: str, case: UUID) -> str:
    body = {"summary": "fix"}
    return str(api.ok("POST", f"/api/cases/{case}/proposals", owner, body)["proposal_id"])


def invite_a_participant(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    expert = _joined(api, owner, case)
    body = {"expert_id": str(agent_id_for(expert)), "reason": "again"}
    return "POST", f"/api/cases/{case}/invitations", owner, body


def invite_twice(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    expert = unique("expert")
    api.invite(case, owner, expert)
    body = {"expert_id": str(agent_id_for(expert)), "reason": "again"}
    return "POST", f"/api/cases/{case}/invitations", owner, body


def context_on_resolved(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    _resolved(api, owner, case)
    return "POST", f"/api/cases/{case}/context", owner, {"kind": "symptom", "text": "t"}


def accept_decided(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    pid = _proposal(api, owner, case)
    api.ok("POST", f"/api/cases/{case}/proposals/{pid}/reject", owner, {"reason": "no"})
    return "POST", f"/api/cases/{case}/proposals/{pid}/accept", owner, None


def resolve_citing_open(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    pid = _proposal(api, owner, case)
    return "POST", f"/api/cases/{case}/resolve", owner, {"summary": "s", "proposal_id": pid}


def invite_by_participant(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    expert = _joined(api, owner, case)
    body = {"expert_id": str(uuid.uuid4()), "reason": "r"}
    return "POST", f"/api/cases/{case}/invitations", expert, body


def owner_leaves(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    return "DELETE", f"/api/cases/{case}/participants/me", owner, None


def decline_without_invitation(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    expert = _joined(api, owner, case)
    return "POST", f"/api/cases/{case}/invitations/decline", expert, {}


def accept_unknown_proposal(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    return "POST", f"/api/cases/{case}/proposals/{uuid.uuid4()}/accept", owner, None


def insight_refers_to_unknown(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    body = {"kind": "answer", "text": "t", "refers_to": [str(uuid.uuid4())]}
    return "POST", f"/api/cases/{case}/insights", owner, body


def ack_future_version(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    return "POST", f"/api/cases/{case}/briefing-acks", owner, {"version": 99}


def transfer_to_owner(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    body = {"to_owner_id": str(agent_id_for(owner)), "handoff_note": "n"}
    return "POST", f"/api/cases/{case}/owner", owner, body


def same_priority(api: Api, owner: str, case: UUID) -> tuple[str, str, str, Any]:
    return "POST", f"/api/cases/{case}/priority", owner, {"priority": "normal", "reason": "r"}


CASES: list[tuple[Scenario, int, str]] = [
    (invite_a_participant, 403, "rule-violated"),  # InvalidTransition
    (invite_twice, 403, "rule-violated"),
    (context_on_resolved, 403, "rule-violated"),
    (accept_decided, 403, "rule-violated"),
    (resolve_citing_open, 403, "rule-violated"),
    (invite_by_participant, 403, "rule-violated"),  # NotAllowed
    (owner_leaves, 403, "rule-violated"),
    (decline_without_invitation, 403, "rule-violated"),
    (accept_unknown_proposal, 404, "not-found"),  # NotFoundInCase
    (insight_refers_to_unknown, 404, "not-found"),
    (ack_future_version, 422, "validation-error"),  # InvalidInput
    (transfer_to_owner, 422, "validation-error"),
    (same_priority, 422, "validation-error"),
]


@pytest.mark.parametrize(("scenario", "status", "slug"), CASES, ids=[c[0].__name__ for c in CASES])
def test_rule_violation(server: Server, scenario: Scenario, status: int, slug: str) -> None:
    with api_for(server) as api:
        owner = unique("owner")
        case = api.open_case(owner)
        method, path, caller, body = scenario(api, owner, case)
        before = api.position()
        problem = assert_problem(api.call(method, path, caller, json=body), status, slug)
        assert problem["case_id"] == str(case)
        assert "actor_id" in problem  # who asked, for the audit trail
        assert api.position() == before


def test_unknown_case_is_404(server: Server) -> None:
    with api_for(server) as api:
        missing = uuid.uuid4()
        before = api.position()
        response = api.call(
            "POST",
            f"/api/cases/{missing}/context",
            unique("a"),
            json={"kind": "symptom", "text": "t"},
        )
        assert assert_problem(response, 404, "not-found")["case_id"] == str(missing)
        assert api.position() == before

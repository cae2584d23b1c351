"""The authorization matrix: every case command endpoint x every token role x the
caller's relation to the case (owner, participant, invited, stranger).

The expected status comes from the access rules (DESIGN.md section 4 and 6, `app.service.cases`):
service tokens never command (403); a stranger agent learns nothing (404, the same answer
as for a case that does not exist); otherwise the domain's rules decide (200 or 403).
Every refused command must leave the log exactly as it was; every accepted one appends
exactly one event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from domain.actors import Role
from domain.agent import agent_id_for
from tests.e2e.commands_support import PROBLEM_JSON, Api, api_for, assert_problem, unique
from tests.e2e.server import Server

OWNER, PARTICIPANT, INVITED, STRANGER = "owner", "participant", "invited", "stranger"
RELATIONS = (OWNER, PARTICIPANT, INVITED, STRANGER)
ROLES = (Role.AGENT, Role.SUPERVISOR, Role.SERVICE, Role.ADMIN)

OWNER_ONLY = {"customer-messages", "swarm", "invitations", "accept", "reject", "resolve", "close"}
OWNER_OR_SUPERVISOR = {"owner", "reopen", "priority"}
PARTICIPANTS = {"context", "briefing-acks", "insights", "proposals"}
SPECIAL = {"decline", "join", "leave"}
ENDPOINTS = sorted(OWNER_ONLY | OWNER_OR_SUPERVISOR | PARTICIPANTS | SPECIAL)


@dataclass
class Setup:
    """A case with an owner, a joined participant, an invited expert, an insight and an
    open proposal (resolved first when the endpoint is `reopen`)."""

    case_id: UUID
    subjects: dict[str, str]
    proposal_id: str


def make_case(api: Api, resolved: bool) -> Setup:
    subjects = {rel: unique(rel) for rel in RELATIONS}
    owner, participant = subjects[OWNER], subjects[PARTICIPANT]
    case_id = api.open_case(owner)
    base = f"/api/cases/{case_id}"
    api.invite(case_id, owner, participant)
    api.ok("POST", base + "/participants", participant)
    api.invite(case_id, owner, subjects[INVITED])
    insight = api.ok("POST", base + "/insights", participant, {"kind": "finding", "text": "x"})
    proposal = api.ok(
        "POST", base + "/proposals", participant, {"summary": "s", "cites": [insight["insight_id"]]}
    )
    if resolved:  # withdraws the pending invitation: the invited expert becomes a stranger
        api.ok("POST", base + "/resolve", owner, {"summary": "done"})
    return Setup(case_id, subjects, proposal["proposal_id"])


def request_for(endpoint: str, setup: Setup) -> tuple[str, str, Any]:
    base = f"/api/cases/{setup.case_id}"
    pid = setup.proposal_id
    newcomer = str(agent_id_for(unique("new")))
    return {
        "context": ("POST", base + "/context", {"kind": "symptom", "text": "t"}),
        "customer-messages": ("POST", base + "/customer-messages", {"direction": "inbound", "text": "t"}),  # noqa: E501
        "swarm": ("POST", base + "/swarm", {"help_needed": "h"}),
        "invitations": ("POST", base + "/invitations", {"expert_id": newcomer, "reason": "r"}),
        "decline": ("POST", base + "/invitations/decline", {}),
        "join": ("POST", base + "/participants", None),
        "leave": ("DELETE", base + "/participants/me", None),
        "briefing-acks": ("POST", base + "/briefing-acks", {"version": 1}),
        "insights": ("POST", base + "/insights", {"kind": "finding", "text": "t"}),
        "proposals": ("POST", base + "/proposals", {"summary": "s"}),
        "accept": ("POST", f"{base}/proposals/{pid}/accept", None),
        "reject": ("POST", f"{base}/proposals/{pid}/reject", {"reason": "r"}),
        "resolve": ("POST", base + "/resolve", {"summary": "s"}),
        "reopen": ("POST", base + "/reopen", {"reason": "r"}),
        "close": ("POST", base + "/close", {}),
        "owner": ("POST", base + "/owner", {"to_owner_id": newcomer, "handoff_note": "n"}),
        "priority": ("POST", base + "/priority", {"priority": "high", "reason": "r"}),
    }[endpoint]  # fmt: skip


def expected_status(endpoint: str, role: Role, relation: str) -> int:
    if role is Role.SERVICE:
        return 403
    supervisor = role in (Role.SUPERVISOR, Role.ADMIN)
    if endpoint == "reopen" and relation == INVITED:
        relation = STRANGER  # resolving withdrew the invitation
    if relation == STRANGER and not supervisor:
        return 404
    if endpoint in OWNER_ONLY:
        allowed = relation == OWNER
    elif endpoint in OWNER_OR_SUPERVISOR:
        allowed = relation == OWNER or supervisor
    elif endpoint in PARTICIPANTS:
        allowed = relation in (OWNER, PARTICIPANT)
    elif endpoint in ("join", "decline"):
        allowed = relation == INVITED
    else:  # leave
        allowed = relation == PARTICIPANT
    return 200 if allowed else 403


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_matrix(server: Server, endpoint: str) -> None:
    """All 16 role x relation cells of one endpoint. A case is reused while commands are
    refused (they change nothing, which is asserted) and replaced after each success."""
    mismatches: list[str] = []
    with api_for(server) as api:
        setup: Setup | None = None
        position = 0
        for role in ROLES:
            for relation in RELATIONS:
                if setup is None:
                    setup = make_case(api, resolved=endpoint == "reopen")
                    position = api.position()
                expected = expected_status(endpoint, role, relation)
                problem, position = check_cell(
                    api, setup, (endpoint, role, relation), expected, position
                )
                if problem:
                    mismatches.append(f"{role.value}/{relation}: {problem}")
                if expected == 200:
                    setup = None
    assert not mismatches, "\n".join(mismatches)


def check_cell(
    api: Api, setup: Setup, cell: tuple[str, Role, str], expected: int, before: int
) -> tuple[str | None, int]:
    """(None if the cell behaves as expected, else what went wrong; the new position).
    `before` is the log position before the command (nobody else writes meanwhile)."""
    endpoint, role, relation = cell
    method, path, body = request_for(endpoint, setup)
    subject = setup.subjects[relation]
    response = api.call(method, path, subject, role=role, json=body)
    after = api.position()
    if response.status_code != expected:
        return f"expected {expected}, got {response.status_code}: {response.text}", after
    if expected == 200:
        if response.json()["case_id"] != str(setup.case_id) or after != before + 1:
            return f"accepted but appended {after - before} events: {response.text}", after
        return None, after
    if after != before:
        return f"refused ({expected}) but appended {after - before} events", after
    if response.headers["content-type"] != PROBLEM_JSON:
        return f"not problem+json: {response.headers['content-type']}", after
    if expected == 404:  # no leak: exactly what an unknown case answers
        unknown = api.call(
            method,
            path.replace(str(setup.case_id), str(uuid.uuid4())),
            subject,
            role=role,
            json=body,
        )
        if unknown.status_code != 404 or set(unknown.json()) != set(response.json()):
            return f"404 differs from an unknown case's: {response.text} vs {unknown.text}", after
    return None, after


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_open_and_profile_by_role(server: Server, role: Role) -> None:
    with api_for(server) as api:
        subject = unique("who")
        before = api.position()
        opened = api.call("POST", "/api/cases", subject, role, {"customer": "c", "subject": "s"})
        profile = api.call("PUT", "/api/agents/me", subject, role, {"capacity": 2})
        if role is Role.SERVICE:
            assert_problem(opened, 403, "forbidden")
            assert_problem(profile, 403, "forbidden")
            assert api.position() == before
        else:
            assert opened.status_code == 201, opened.text
            assert profile.status_code == 200, profile.text
            assert api.position() == before + 2

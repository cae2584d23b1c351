"""Every command's happy path over real HTTP, on both backends; effects read back from
the store (event names and versions), not from the API under test."""

from __future__ import annotations

from uuid import UUID

from domain.actors import Role
from domain.agent import agent_id_for
from tests.e2e.commands_support import api_for, stream_events, unique
from tests.e2e.server import Server


def test_open_answers_201_with_location(server: Server) -> None:
    with api_for(server) as api:
        owner = unique("owner")
        before = api.position()
        response = api.call(
            "POST",
            "/api/cases",
            owner,
            json={"customer": "Acme", "subject": "Login loop", "priority": "high"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        case_id = UUID(body["case_id"])
        assert response.headers["location"] == f"/api/cases/{case_id}"
        assert body["version"] == 1
        assert body["position"] == before + 1
        assert stream_events(server, case_id) == ["Opened"]


def test_every_case_command_in_one_swarm(server: Server) -> None:
    with api_for(server) as api:
        owner, ben, chen, dara, sup = (unique(n) for n in ("ana", "ben", "chen", "dara", "sup"))
        case_id = api.open_case(owner)
        base = f"/api/cases/{case_id}"
        steps: list[tuple[str, str, str, object, Role, str | None]] = [
            (
                "POST",
                "/context",
                owner,
                {"kind": "symptom", "text": "402"},
                Role.AGENT,
                "context_id",
            ),
            (
                "POST",
                "/customer-messages",
                owner,
                {"direction": "inbound", "text": "hi"},
                Role.AGENT,
                "message_id",
            ),
            (
                "POST",
                "/swarm",
                owner,
                {"help_needed": "3DS", "skills_wanted": ["3ds"]},
                Role.AGENT,
                "request_id",
            ),
            (
                "POST",
                "/invitations",
                owner,
                {"expert_id": str(agent_id_for(ben)), "reason": "r"},
                Role.AGENT,
                "invitation_id",
            ),
            (
                "POST",
                "/invitations",
                owner,
                {"expert_id": str(agent_id_for(chen)), "reason": "r"},
                Role.AGENT,
                "invitation_id",
            ),
            ("POST", "/invitations/decline", chen, {"reason": "busy"}, Role.AGENT, None),
            ("POST", "/participants", ben, None, Role.AGENT, None),
            ("POST", "/participants", dara, {"expert_name": "Dara"}, Role.AGENT, None),
            ("POST", "/briefing-acks", ben, {"version": 8}, Role.AGENT, None),
        ]
        versions = []
        for method, path, who, body, role, id_field in steps:
            answer = api.ok(method, base + path, who, body, role=role)
            assert answer["case_id"] == str(case_id)
            versions.append(answer["version"])
            if id_field:
                UUID(answer[id_field])
        insight = api.ok("POST", base + "/insights", ben, {"kind": "finding", "text": "retry"})
        insight_id = insight["insight_id"]
        api.ok(
            "POST",
            base + "/insights",
            dara,
            {
                "kind": "question",
                "text": "why",
                "refers_to": [insight_id],
                "mentions": [str(agent_id_for(ben))],
            },
        )
        rejected = api.ok("POST", base + "/proposals", dara, {"summary": "replay off"})[
            "proposal_id"
        ]
        accepted = api.ok(
            "POST",
            base + "/proposals",
            ben,
            {"summary": "fix", "steps": ["deploy"], "cites": [insight_id]},
        )["proposal_id"]
        api.ok("POST", f"{base}/proposals/{rejected}/reject", owner, {"reason": "no"})
        api.ok("POST", f"{base}/proposals/{accepted}/accept", owner)
        api.ok("DELETE", base + "/participants/me?note=thanks", dara)
        api.ok(
            "POST",
            base + "/priority",
            sup,
            {"priority": "urgent", "reason": "EU"},
            role=Role.SUPERVISOR,
        )
        api.ok(
            "POST",
            base + "/owner",
            owner,
            {"to_owner_id": str(agent_id_for(ben)), "handoff_note": "leave"},
        )
        api.ok("POST", base + "/resolve", ben, {"summary": "deployed", "proposal_id": accepted})
        api.ok("POST", base + "/reopen", sup, {"reason": "again"}, role=Role.SUPERVISOR)
        api.ok("POST", base + "/resolve", ben, {"summary": "deployed again"})
        last = api.ok("POST", base + "/close", ben)
        assert versions == list(range(2, 11))
        events = stream_events(server, case_id)
        assert len(events) == last["version"] == 23
        assert events == [
            "Opened",
            "ContextAdded",
            "CustomerMessageLogged",
            "SwarmRequested",
            "ExpertInvited",
            "ExpertInvited",
            "InvitationDeclined",
            "ExpertJoined",
            "ExpertJoined",
            "BriefingAcknowledged",
            "InsightPosted",
            "InsightPosted",
            "ResolutionProposed",
            "ResolutionProposed",
            "ProposalRejected",
            "ProposalAccepted",
            "ExpertLeft",
            "PriorityChanged",
            "OwnershipTransferred",
            "Resolved",
            "Reopened",
            "Resolved",
            "Closed",
        ]


def test_put_my_profile_registers_then_updates(server: Server) -> None:
    with api_for(server) as api:
        subject = unique("bea")
        first = api.ok("PUT", "/api/agents/me", subject, {"skills": {"Payments": 5}})
        assert first["agent_id"] == str(agent_id_for(subject))
        assert first["version"] == 1
        second = api.ok("PUT", "/api/agents/me", subject, {"availability": "busy", "capacity": 1})
        assert second["version"] == 2
        assert second["position"] > first["position"]
        assert stream_events(server, agent_id_for(subject)) == ["Registered", "ProfileUpdated"]

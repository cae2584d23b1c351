"""Who can help, over HTTP on a real server (both backends): profiles put through the API,
the ranked suggestions with their factors, exclusions, the covering set, the next
suggestion after a decline; the agent's contribution and reputation; bad input."""

from __future__ import annotations

from typing import Any

from domain import agent_id_for
from tests.e2e.commands_support import api_for, assert_problem, unique
from tests.e2e.server import Server


def _profile(api: Any, subject: str, **fields: Any) -> int:
    body = {"name": subject.title(), "timezone": "UTC", "availability": "available"} | fields
    return int(api.ok("PUT", "/api/agents/me", subject, body)["position"])


def test_suggestions_rank_explain_exclude_and_cover(server: Server) -> None:
    tag = unique("skill")  # a skill only this test's agents have
    pay, tds = f"{tag}-payments", f"{tag}-3ds"
    owner, ada, bo, cy, full = (unique(n) for n in ("owner", "ada", "bo", "cy", "full"))
    with api_for(server) as api:
        _profile(api, owner, skills={pay: 5})  # a candidate, but the owner
        _profile(api, ada, skills={pay: 5, tds: 4}, capacity=4)
        _profile(api, bo, skills={pay: 3}, interests=[tds], availability="busy")
        _profile(api, cy, skills={tds: 2})
        last = _profile(api, full, skills={pay: 5, tds: 5}, capacity=0)
        case_id = api.open_case(owner)
        body = {"help_needed": "3DS loops", "skills_wanted": [pay, tds]}
        last = api.ok("POST", f"/api/cases/{case_id}/swarm", owner, body)["position"]
        url = f"/api/cases/{case_id}/suggestions?min_position={last}"
        got = api.ok("GET", url, owner)
        assert got["wanted"] == [pay, tds]
        assert got["wanted_from"] == "swarm_request"
        ids = [s["agent_id"] for s in got["suggestions"]]
        assert ids[:3] == [str(agent_id_for(s)) for s in (ada, bo, cy)]
        first = got["suggestions"][0]
        assert first["factors"]["skills"] == {"value": 0.9, "weight": 4.0, "contribution": 3.6}
        assert first["score"] == round(sum(f["contribution"] for f in first["factors"].values()), 6)
        assert {"agent_id": str(agent_id_for(full)), "reason": "at_capacity"} in got["excluded"]
        assert {"agent_id": str(agent_id_for(owner)), "reason": "owner"} in got["excluded"]
        assert got["cover"] == {
            "agent_ids": [str(agent_id_for(ada))],
            "uncovered": [],
            "method": "exact",
        }
        # ada is invited and declines: the next suggestion leads
        api.invite(case_id, owner, ada)
        api.ok("POST", f"/api/cases/{case_id}/invitations/decline", ada, {"reason": "busy"})
        last = api.position()
        got = api.ok("GET", f"/api/cases/{case_id}/suggestions?min_position={last}", owner)
        assert got["suggestions"][0]["agent_id"] == str(agent_id_for(bo))
        assert {"agent_id": str(agent_id_for(ada)), "reason": "declined"} in got["excluded"]
        assert got["cover"]["agent_ids"] == [str(agent_id_for(cy))]
        assert got["cover"]["uncovered"] == [pay]  # bo is busy: not available for the cover
        # ada's profile shows the decline; a supervisor sees the suggestions too
        detail = api.ok("GET", f"/api/agents/{agent_id_for(ada)}?min_position={last}", owner)
        assert detail["contribution"]["declines"] == 1
        assert detail["contribution"]["invitations"] == 1
        assert detail["reputation"] == {"points": 0.0, "score": 0.0}
        assert detail["skills"] == {pay: 5, tds: 4}
        sup = api.call("GET", url, "sup", role="supervisor")
        assert sup.status_code == 200


def test_suggestions_bad_input(server: Server) -> None:
    owner, invitee, stranger = unique("owner"), unique("invitee"), unique("stranger")
    with api_for(server) as api:
        _profile(api, owner)
        case_id = api.open_case(owner, product_area="Billing")
        api.invite(case_id, owner, invitee)
        last = api.position()
        url = f"/api/cases/{case_id}/suggestions?min_position={last}"
        got = api.ok("GET", url, owner)
        assert got["wanted"] == ["billing"]
        assert got["wanted_from"] == "product_area"
        assert_problem(api.call("GET", url, invitee), 403)
        assert_problem(api.call("GET", url, stranger), 404)
        missing = "/api/cases/00000000-0000-4000-8000-000000000000/suggestions"
        assert_problem(api.call("GET", missing, owner), 404)
        assert_problem(api.call("GET", f"{url}&limit=0", owner), 422)
        assert_problem(
            api.call("GET", "/api/agents/00000000-0000-4000-8000-00000000abcd", owner), 404
        )
        assert_problem(api.call("GET", "/api/agents/not-a-uuid", owner), 422)
        # bad profile fields and a too-short expiry change nothing
        before = api.position()
        for bad in (
            {"working_hours": "9-17"},
            {"quiet_hours": "25:00-07:00"},
            {"working_days": ["funday"]},
            {"channels": ["pigeon"]},
            {"email": "not an address"},
            {"timezone": "Mars/Olympus"},
        ):
            assert_problem(api.call("PUT", "/api/agents/me", owner, json=bad), 422)
        body = {"expert_id": str(agent_id_for(stranger)), "reason": "x", "expires_in_seconds": 5}
        assert_problem(api.call("POST", f"/api/cases/{case_id}/invitations", owner, json=body), 422)
        assert api.position() == before

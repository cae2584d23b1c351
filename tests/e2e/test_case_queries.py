"""Queries against a real server: access rules, the briefing, at_version, min_position,
lists, swarm board, inbox, agents. Data is appended straight to the server's store."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.store import create_store
from domain import Actor, Role, agent_id_for
from tests.e2e.server import Server
from tests.views_support import agent, append, briefing_case


def _actor(subject: str, role: Role = Role.AGENT) -> Actor:
    return Actor(agent_id_for(subject), role, subject.title())


async def _seed(server: Server) -> tuple[Any, int, dict[str, str]]:
    names = {k: f"{k}-{uuid.uuid4().hex[:8]}" for k in ("owner", "expert", "other", "stranger")}
    case = briefing_case(_actor(names["owner"]), _actor(names["expert"]), _actor(names["other"]))
    store = create_store(server.database_url, schema=server.schema)
    await store.start()
    try:
        last = await append(store, case)
        last = await append(store, agent(f"Ada {uuid.uuid4().hex[:6]}"))
    finally:
        await store.close()
    return case, last, names


async def test_case_view_access_and_history(server: Server) -> None:
    case, last, names = await _seed(server)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        url = f"/api/cases/{case.id}"
        r = await http.get(
            url, params={"min_position": last}, headers=server.headers(names["owner"])
        )
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["version"] == case.version
        assert doc["position"] <= last
        assert doc["problem"]["subject"] == "Checkout fails"
        assert len(doc["context"]["symptom"]) == 1
        # a stranger learns nothing, not even that the case exists
        r = await http.get(url, headers=server.headers(names["stranger"]))
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await http.get(f"/api/cases/{uuid.uuid4()}", headers=server.headers(names["owner"]))
        assert r.status_code == 404
        # the pending invitee and a supervisor read it
        for who, role in ((names["other"], Role.AGENT), ("sup", Role.SUPERVISOR)):
            assert (await http.get(url, headers=server.headers(who, role))).status_code == 200
        # at_version: as it stood when the expert joined (version 7)
        r = await http.get(url, params={"at_version": 7}, headers=server.headers(names["owner"]))
        assert r.status_code == 200
        then = r.json()
        assert then["version"] == 7
        assert then["insights"] == []
        assert str(agent_id_for(names["expert"])) in then["participants"]
        r = await http.get(url, params={"at_version": 99}, headers=server.headers(names["owner"]))
        assert r.status_code == 404
        r = await http.get(url, params={"at_version": 0}, headers=server.headers(names["owner"]))
        assert r.status_code == 422
        # events of the case, for its readers only
        r = await http.get(
            f"{url}/events", params={"after": 9}, headers=server.headers(names["expert"])
        )
        assert [e["version"] for e in r.json()] == [10, 11]
        assert [e["type"] for e in r.json()] == ["ResolutionProposed", "ProposalAccepted"]
        r = await http.get(f"{url}/events", headers=server.headers(names["stranger"]))
        assert r.status_code == 404
        # new since the expert's acknowledgement (of version 8)
        r = await http.get(f"{url}/new", headers=server.headers(names["expert"]))
        assert r.json()["acknowledged_version"] == 8
        assert [t["version"] for t in r.json()["timeline"]] == [9, 10, 11]


async def test_lists_inbox_board_and_read_your_writes(server: Server) -> None:
    case, last, names = await _seed(server)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        owner = server.headers(names["owner"])
        r = await http.get(
            "/api/cases", params={"owner": "me", "min_position": last}, headers=owner
        )
        assert [c["case_id"] for c in r.json()["items"]] == [str(case.id)]
        r = await http.get(
            "/api/cases", params={"participant": "me"}, headers=server.headers(names["expert"])
        )
        assert [c["case_id"] for c in r.json()["items"]] == [str(case.id)]
        r = await http.get(
            "/api/cases", params={"participant": "me"}, headers=server.headers(names["other"])
        )  # only invited
        assert r.json()["items"] == []
        r = await http.get("/api/cases", headers=server.headers(names["stranger"]))
        assert r.json()["items"] == []
        r = await http.get(
            "/api/cases",
            params={"status": "open", "limit": 200},
            headers=server.headers("sup", Role.SUPERVISOR),
        )
        assert str(case.id) in [c["case_id"] for c in r.json()["items"]]
        r = await http.get("/api/cases", params={"status": "nope"}, headers=owner)
        assert r.status_code == 422
        # inbox of the invited + mentioned agent
        r = await http.get("/api/me/inbox", headers=server.headers(names["other"]))
        items = r.json()["items"]
        assert [(i["kind"], i["case_id"]) for i in items] == [
            ("invitation", str(case.id)),
            ("mention", str(case.id)),
        ]
        # the expert's proposal was accepted: a decision in their inbox
        r = await http.get("/api/me/inbox", headers=server.headers(names["expert"]))
        assert [i["decision"] for i in r.json()["items"] if i["kind"] == "decision"] == ["accepted"]
        # the swarm board shows the open request to any agent
        r = await http.get(
            "/api/swarms", params={"limit": 200}, headers=server.headers(names["stranger"])
        )
        board = [s for s in r.json()["items"] if s["case_id"] == str(case.id)]
        assert [s["skills_wanted"] for s in board] == [["pg"]]
        r = await http.get("/api/agents", params={"limit": 500}, headers=owner)
        assert r.status_code == 200
        assert any(a["skills"] == {"pg": 4} for a in r.json()["items"])
        # read-your-writes: a position far ahead waits, bounded, then answers 503
        r = await http.get(
            "/api/me/inbox", params={"min_position": last + 10_000}, headers=owner, timeout=20
        )
        assert r.status_code == 503
        assert r.json()["type"].endswith("view-behind")
        # no token: 401
        assert (await http.get("/api/cases")).status_code == 401

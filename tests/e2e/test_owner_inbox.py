"""The case owner hears of an invitation declined, on a real server (both backends): the
owner's `/ws/inbox` receives the item live (a patch after its snapshot, in order), `GET
/api/me/inbox` shows the same item, and its `suggestions` link answers the next
suggestion (the decliner excluded). The expired case is in `test_invitation_expiry`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from domain import agent_id_for
from tests.e2e.commands_support import unique
from tests.e2e.push_support import Follower, ws_connect
from tests.e2e.server import Server


async def _ok(http: httpx.AsyncClient, server: Server, method: str, path: str, who: str,
              body: Any = None) -> Any:  # fmt: skip
    response = await http.request(method, path, json=body, headers=server.headers(who))
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_the_owner_hears_of_a_decline_live_and_over_http(server: Server) -> None:
    asyncio.run(_decline(server))


async def _decline(server: Server) -> None:
    tag = unique("skill")
    owner, ada, bo = unique("owner"), unique("ada"), unique("bo")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        for who, level in ((owner, 1), (ada, 5), (bo, 3)):
            await _ok(http, server, "PUT", "/api/agents/me", who,
                      {"name": who.title(), "skills": {tag: level}})  # fmt: skip
        case = await _ok(http, server, "POST", "/api/cases", owner,
                         {"customer": "ACME", "subject": "Card declined"})  # fmt: skip
        case_id = case["case_id"]
        await _ok(http, server, "POST", f"/api/cases/{case_id}/swarm", owner,
                  {"help_needed": "3DS", "skills_wanted": [tag]})  # fmt: skip
        body = {"expert_id": str(agent_id_for(ada)), "reason": "you know 3DS"}
        invited = await _ok(http, server, "POST", f"/api/cases/{case_id}/invitations", owner, body)
        follower = Follower()
        async with ws_connect(server, "/ws/inbox", owner) as ws:
            follower.apply(await ws.recv())  # the snapshot
            before = len((follower.doc or {}).get("items", []))
            declined = await _ok(http, server, "POST", f"/api/cases/{case_id}/invitations/decline",
                                 ada, {"reason": "on call all week"})  # fmt: skip
            await follower.read_until(ws, declined["position"])
        items = follower.doc["items"]
        assert len(items) == before + 1
        item = items[-1]
        expected = {
            "id": invited["invitation_id"],
            "kind": "invitation_declined",
            "case_id": case_id,
            "subject": "Card declined",
            "position": declined["position"],
            "expert_id": str(agent_id_for(ada)),
            "reason": "on call all week",
            "link": f"/cases/{case_id}",
            "suggestions": f"/api/cases/{case_id}/suggestions",
        }
        assert {k: item[k] for k in expected} == expected
        # the HTTP view holds the same item
        inbox = await _ok(http, server, "GET",
                          f"/api/me/inbox?min_position={declined['position']}", owner)  # fmt: skip
        assert inbox["items"][-1] == item
        # the invitee's own item says declined, and only the owner got the new kind
        theirs = await _ok(http, server, "GET",
                           f"/api/me/inbox?min_position={declined['position']}", ada)  # fmt: skip
        assert [(i["kind"], i["status"]) for i in theirs["items"]] == [("invitation", "declined")]
        # the link answers the next suggestion: bo, with ada excluded as declined
        after = f"?min_position={declined['position']}"
        nxt = await _ok(http, server, "GET", f"{item['suggestions']}{after}", owner)
        assert nxt["suggestions"][0]["agent_id"] == str(agent_id_for(bo))
        assert {"agent_id": str(agent_id_for(ada)), "reason": "declined"} in nxt["excluded"]

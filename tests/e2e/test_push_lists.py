"""The live lists (`/ws/mycases`, `/ws/cases`, `/ws/swarms`) on a real server with real
WebSocket clients, both backends: what each list shows follows every change, a client
resumes with `?after=` exactly as on a case, and the pushed document always equals a
fresh snapshot of the list."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import websockets

from domain.actors import Role
from domain.agent import agent_id_for
from projections.list_queries import load_list
from tests.e2e.push_support import Follower, open_case, views_engine, ws_connect
from tests.e2e.server import Server


def subject() -> str:
    return f"agent-{uuid.uuid4().hex[:10]}"


async def post(
    http: httpx.AsyncClient,
    server: Server,
    who: str,
    path: str,
    body: dict[str, Any] | None = None,
    role: Role = Role.AGENT,
) -> int:
    r = await http.post(path, json=body or {}, headers=server.headers(who, role))
    assert r.status_code in (200, 201), r.text
    return int(r.json()["position"])


async def stored_list(server: Server, view: str, key: str) -> tuple[int, dict[str, Any]]:
    engine = views_engine(server)
    try:
        return await load_list(engine, view, key)
    finally:
        await engine.dispose()


async def test_my_cases_follow_a_case_handed_to_me_and_its_closing(server: Server) -> None:
    alice, bob = subject(), subject()
    bob_id = str(agent_id_for(bob))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, opened = await open_case(http, server, alice)
        base = f"/api/cases/{case_id}"
        mine, theirs = Follower(), Follower()
        async with (
            ws_connect(server, "/ws/mycases", alice) as a,
            ws_connect(server, "/ws/mycases", bob) as b,
        ):
            mine.apply(await a.recv())
            await mine.read_until(a, opened)  # the views may not have reached it yet
            theirs.apply(await b.recv())
            assert mine.doc["cases"][case_id]["relation"] == "owner"
            assert case_id not in theirs.doc["cases"]
            handed = await post(
                http, server, alice, base + "/owner", {"to_owner_id": bob_id, "handoff_note": "n"}
            )
            await theirs.read_until(b, handed)
            entry = theirs.doc["cases"][case_id]
            assert (entry["relation"], entry["owner"]["id"]) == ("owner", bob_id)
            assert entry["latest"]["type"] == "OwnershipTransferred"
            await mine.read_until(a, handed)
            assert mine.doc["cases"][case_id]["relation"] == "participant"
            urgent = await post(
                http, server, bob, base + "/priority", {"priority": "urgent", "reason": "EU"}
            )
            await theirs.read_until(b, urgent)
            assert theirs.doc["cases"][case_id]["priority"] == "urgent"
            await post(http, server, bob, base + "/resolve", {"summary": "done"})
            closed = await post(http, server, bob, base + "/close")
            await theirs.read_until(b, closed)
            await mine.read_until(a, closed)
            assert case_id not in theirs.doc["cases"]
            assert case_id not in mine.doc["cases"]
    for who, follower in ((alice, mine), (bob, theirs)):
        position, doc = await stored_list(server, "mycases", str(agent_id_for(who)))
        assert (position, doc) == (follower.position, follower.doc)


async def test_the_board_shows_a_raised_hand_until_the_case_is_resolved(server: Server) -> None:
    owner, watcher = subject(), subject()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
        base = f"/api/cases/{case_id}"
        board = Follower()
        async with ws_connect(server, "/ws/swarms", watcher) as ws:
            board.apply(await ws.recv())
            r = await http.post(
                base + "/swarm",
                json={"help_needed": "3DS fails", "skills_wanted": ["payments"]},
                headers=server.headers(owner),
            )
            assert r.status_code == 200, r.text
            request_id, raised = r.json()["request_id"], int(r.json()["position"])
            await board.read_until(ws, raised)
            entry = board.doc["requests"][request_id]
            assert (entry["case_id"], entry["help_needed"]) == (case_id, "3DS fails")
            resolved = await post(http, server, owner, base + "/resolve", {"summary": "ok"})
            await board.read_until(ws, resolved)
            assert request_id not in board.doc["requests"]
    assert (board.position, board.doc) == await stored_list(server, "swarms", "open")


async def test_every_case_list_is_for_supervisors_and_resumes_without_a_gap(
    server: Server,
) -> None:
    owner, boss = subject(), subject()
    with pytest.raises(websockets.ConnectionClosed) as refused:
        async with ws_connect(server, "/ws/cases", owner) as ws:
            await ws.recv()
    assert refused.value.rcvd is not None
    assert refused.value.rcvd.code == 4403
    boss_headers = server.headers(boss, Role.SUPERVISOR)
    url = f"{server.ws_url}/ws/cases"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        follower = Follower()
        async with websockets.connect(url, additional_headers=boss_headers, compression=None) as ws:
            follower.apply(await ws.recv())
            case_id, opened = await open_case(http, server, owner)
            await follower.read_until(ws, opened)
            assert follower.doc["cases"][case_id]["status"] == "open"
            cut_at = follower.position
            assert ws.transport is not None
            ws.transport.abort()  # the network drops: no close handshake
        base = f"/api/cases/{case_id}"
        missed = [
            await post(http, server, owner, base + "/priority", {"priority": p, "reason": "r"})
            for p in ("high", "urgent")
        ]
        missed.append(await post(http, server, owner, base + "/resolve", {"summary": "ok"}))
        async with websockets.connect(
            f"{url}?after={cut_at}", additional_headers=boss_headers, compression=None
        ) as ws:
            first = follower.apply(await ws.recv())
            assert (first["type"], first["prev"]) == ("patch", cut_at)
            await follower.read_until(ws, missed[-1])
            assert case_id not in follower.doc["cases"]  # resolved: no longer open
            reopened = await post(http, server, owner, base + "/reopen", {"reason": "again"})
            await follower.read_until(ws, reopened)
            entry = follower.doc["cases"][case_id]
            assert (entry["status"], entry["priority"]) == ("open", "urgent")
            assert entry["latest"]["type"] == "Reopened"
    assert follower.snapshots == 1
    # every change it missed, replayed (other cases of this shared server may change too)
    assert set(missed) <= set(follower.patches)
    assert (follower.position, follower.doc) == await stored_list(server, "cases", "all")

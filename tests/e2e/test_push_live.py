"""Live push on a real server with real WebSocket clients (both backends)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
import websockets

from domain.agent import agent_id_for
from tests.e2e.push_support import Follower, add_context, open_case, stored_view, ws_connect
from tests.e2e.server import Server


def subject() -> str:
    return f"agent-{uuid.uuid4().hex[:10]}"


async def test_snapshot_then_every_patch_once_in_order(server: Server) -> None:
    owner = subject()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, opened = await open_case(http, server, owner)
        async with (
            ws_connect(server, f"/ws/cases/{case_id}", owner) as a,
            ws_connect(server, f"/ws/cases/{case_id}", owner) as b,
        ):
            one, two = Follower(), Follower()
            for ws, follower in ((a, one), (b, two)):
                first = follower.apply(await ws.recv())
                assert first["type"] == "snapshot"
                assert first["position"] >= opened
            positions = [await add_context(http, server, owner, case_id, f"n{i}") for i in range(5)]
            for ws, follower in ((a, one), (b, two)):
                await follower.read_until(ws, positions[-1])
                assert follower.patches == positions
    stored = await stored_view(server, "case", case_id)
    assert stored is not None
    assert one.doc == stored[1] == two.doc
    assert one.position == stored[0] == positions[-1]


async def test_cut_mid_stream_then_resume_has_no_gap_and_no_duplicate(server: Server) -> None:
    owner = subject()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
        follower = Follower()
        async with ws_connect(server, f"/ws/cases/{case_id}", owner) as ws:
            follower.apply(await ws.recv())
            positions = [await add_context(http, server, owner, case_id, f"a{i}") for i in range(6)]
            await follower.read_until(ws, positions[2])
            cut_at = follower.position
            assert ws.transport is not None
            ws.transport.abort()  # the network drops: no close handshake
        assert cut_at is not None
        positions += [await add_context(http, server, owner, case_id, f"b{i}") for i in range(4)]
        async with ws_connect(server, f"/ws/cases/{case_id}?after={cut_at}", owner) as ws:
            first = follower.apply(await ws.recv())
            assert first["type"] == "patch"
            assert first["prev"] == cut_at
            await follower.read_until(ws, positions[-1])
            live = await add_context(http, server, owner, case_id, "live")
            await follower.read_until(ws, live)
    assert follower.snapshots == 1
    assert follower.patches == [*positions, live]
    stored = await stored_view(server, "case", case_id)
    assert stored is not None
    assert follower.doc == stored[1]


async def test_resume_from_an_unknown_position_gets_a_fresh_snapshot(server: Server) -> None:
    owner = subject()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
        other_case, other_position = await open_case(http, server, owner)
        last = await add_context(http, server, owner, case_id)
        for after in (other_position, last + 10_000, 0):
            async with ws_connect(server, f"/ws/cases/{case_id}?after={after}", owner) as ws:
                follower = Follower()
                assert follower.apply(await ws.recv())["type"] == "snapshot", after
                await follower.read_until(ws, last)  # the views may lag the command
                assert follower.snapshots == 1
        async with ws_connect(server, f"/ws/cases/{case_id}?after={last}", owner) as ws:
            # up to date: nothing until the next change (a heartbeat may come: the
            # session's shared server beats every 15 s for every socket at once)
            with pytest.raises(TimeoutError):
                await _anything_but_heartbeats(ws, 0.3)
            follower = Follower(doc=follower.doc, position=last)
            nxt = await add_context(http, server, owner, case_id)
            await follower.read_until(ws, nxt)
            assert follower.patches == [nxt]
    assert other_case != case_id


@pytest.mark.parametrize(
    ("path", "headers", "code"),
    [
        ("/ws/cases/{case}", {}, 4401),
        ("/ws/cases/{case}", {"Authorization": "Bearer forged"}, 4401),
        ("/ws/cases/{case}?access_token={token}", {}, 4401),  # valid, but in the URL
        ("/ws/inbox", {}, 4401),
        ("/ws/cases/{case}", "stranger", 4404),
        ("/ws/cases/{missing}", "owner", 4404),
        ("/ws/cases/not-a-uuid", "owner", 4422),
        ("/ws/cases/{case}?after=-1", "owner", 4422),
        ("/ws/cases/{case}?after=abc", "owner", 4422),
    ],
)
async def test_refused_before_anything_is_sent(
    server: Server, path: str, headers: dict[str, str] | str, code: int
) -> None:
    owner = subject()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
    if headers == "owner":
        headers = server.headers(owner)
    elif headers == "stranger":
        headers = server.headers(subject())
    assert isinstance(headers, dict)
    url = server.ws_url + path.format(case=case_id, missing=uuid.uuid4(), token=server.token(owner))
    async with websockets.connect(url, additional_headers=headers) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()  # the first thing the server sends is the close
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    assert closed.value.rcvd.reason


async def test_a_supervisor_may_watch_any_case(server: Server) -> None:
    owner = subject()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
    url = f"{server.ws_url}/ws/cases/{case_id}"
    headers = server.headers(subject(), "supervisor")
    async with websockets.connect(url, additional_headers=headers) as ws:
        message = json.loads(await ws.recv())
    assert message["type"] == "snapshot"
    assert message["view"]["case_id"] == case_id


async def test_inbox_pushes_an_invitation_live(server: Server) -> None:
    owner, expert = subject(), subject()
    expert_id = str(agent_id_for(expert))
    follower = Follower()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
        async with ws_connect(server, "/ws/inbox", expert) as ws:
            first = follower.apply(await ws.recv())
            assert first == {"type": "snapshot", "position": 0, "view": None}
            r = await http.post(
                f"/api/cases/{case_id}/invitations",
                json={"expert_id": expert_id, "reason": "you know the database"},
                headers=server.headers(owner),
            )
            assert r.status_code == 200, r.text
            await follower.read_until(ws, int(r.json()["position"]))
    stored = await stored_view(server, "inbox", expert_id)
    assert stored is not None
    assert follower.doc == stored[1]
    assert [item["kind"] for item in follower.doc["items"]] == ["invitation"]


async def _anything_but_heartbeats(ws: Any, seconds: float) -> None:
    """Wait up to `seconds` for a frame that is not a heartbeat (TimeoutError if none)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), seconds))
        assert frame["type"] == "heartbeat", frame

"""Read access follows membership live: when a reader stops being allowed to read a case
(an expert leaves, an invitation is declined), their open socket on that case is closed
with 4403 before that change, or any later one, reaches them; readers who still may read
get every patch."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import websockets

from domain.agent import agent_id_for
from tests.e2e.commands_support import unique
from tests.e2e.push_support import add_context, open_case, ws_connect
from tests.e2e.server import Server


async def _frames_until_closed(socket: Any, limit: float = 10) -> tuple[list[dict[str, Any]], int]:
    """Every frame until the server closes the socket, and the close code."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(limit):
        with contextlib.suppress(websockets.ConnectionClosed):  # the server closes it
            async for message in socket:
                frames.append(json.loads(message))
    await socket.wait_closed()
    code = socket.close_code
    assert code is not None
    return frames, int(code)


async def _frames_until(socket: Any, position: int) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while not frames or frames[-1].get("position", 0) < position:
            frame = json.loads(await socket.recv())
            if frame["type"] != "heartbeat":
                frames.append(frame)
    return frames


async def _post(http: httpx.AsyncClient, server: Server, who: str, path: str, **kw: Any) -> Any:
    answer = await http.post(path, headers=server.headers(who), **kw)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_an_expert_who_leaves_is_closed_before_the_next_patch(server: Server) -> None:
    owner, leaving, staying = unique("owner"), unique("leaving"), unique("staying")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
        await _post(http, server, owner, f"/api/cases/{case_id}/swarm", json={"help_needed": "db"})
        for expert in (leaving, staying):
            await _post(http, server, expert, f"/api/cases/{case_id}/participants")
        async with (
            ws_connect(server, f"/ws/cases/{case_id}", leaving) as gone,
            ws_connect(server, f"/ws/cases/{case_id}", staying) as still,
        ):
            assert json.loads(await gone.recv())["type"] == "snapshot"
            assert json.loads(await still.recv())["type"] == "snapshot"
            left = await http.delete(
                f"/api/cases/{case_id}/participants/me", headers=server.headers(leaving)
            )
            assert left.status_code == 200, left.text
            after = await add_context(http, server, owner, case_id, "a secret finding")
            frames, code = await _frames_until_closed(gone)
            assert code == 4403
            assert all(f.get("position", 0) < left.json()["position"] for f in frames), frames
            assert "a secret finding" not in json.dumps(frames)
            seen = await _frames_until(still, after)  # the other expert gets both patches
            assert [f["position"] for f in seen if f["type"] == "patch"][-1] == after
            assert "a secret finding" in json.dumps(seen)


async def test_an_invitee_who_declines_is_closed(server: Server) -> None:
    owner, invitee = unique("owner"), unique("invitee")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
        await _post(
            http,
            server,
            owner,
            f"/api/cases/{case_id}/invitations",
            json={"expert_id": str(agent_id_for(invitee)), "reason": "you know the db"},
        )
        async with ws_connect(server, f"/ws/cases/{case_id}", invitee) as socket:
            assert json.loads(await socket.recv())["type"] == "snapshot"
            await _post(
                http,
                server,
                invitee,
                f"/api/cases/{case_id}/invitations/decline",
                json={"reason": "on call elsewhere"},
            )
            await add_context(http, server, owner, case_id, "after the decline")
            frames, code = await _frames_until_closed(socket)
    assert code == 4403
    assert "after the decline" not in json.dumps(frames)

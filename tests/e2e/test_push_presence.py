"""Presence in a case room: case sockets opened with ``?presence=1`` are told who has such
a socket open (on join and on leave); sockets without it are neither counted nor told,
and presence frames never disturb the patch sequence (`prev`)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from domain.agent import agent_id_for
from tests.e2e.commands_support import unique
from tests.e2e.push_support import Follower, add_context, open_case, ws_connect
from tests.e2e.server import Server


async def _presence(socket: ClientConnection, follower: Follower | None = None) -> list[str]:
    """The ids of the next presence frame (snapshots and patches on the way applied)."""
    async with asyncio.timeout(10):
        while True:
            frame: dict[str, Any] = json.loads(await socket.recv())
            if frame["type"] == "presence":
                return [person["id"] for person in frame["here"]]
            if follower is not None:
                follower.apply(json.dumps(frame))


async def test_presence_readers_see_who_is_in_the_room(server: Server) -> None:
    owner = unique("pres-owner")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        case_id, _ = await open_case(http, server, owner)
        room = f"/ws/cases/{case_id}?presence=1"
        me = str(agent_id_for(owner))
        # the owner twice (two tabs) counts once; a socket without presence not at all
        async with (
            ws_connect(server, room, owner) as first,
            ws_connect(server, f"/ws/cases/{case_id}", owner) as quiet,
        ):
            follower = Follower()
            assert await _presence(first, follower) == [me]
            async with ws_connect(server, room, owner) as second:
                assert await _presence(second) == [me]
                assert await _presence(first, follower) == [me]
            assert await _presence(first, follower) == [me]  # one tab left
            position = await add_context(http, server, owner, case_id)
            await follower.read_until(first, position)  # prev unbroken by presence frames
            quiet_follower = Follower()
            await quiet_follower.read_until(quiet, position)  # told nothing of presence

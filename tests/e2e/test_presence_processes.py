"""Presence across two server processes on one PostgreSQL database: a case room shows who
is in it on either process, someone who leaves on one drops out on the other, and a
process killed without a word drops out of every room within three announcement
intervals (`app.realtime.push.presence_relay`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from domain.agent import agent_id_for
from tests.e2e.commands_support import unique
from tests.e2e.push_support import open_case, ws_connect
from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.postgres

INTERVAL = "0.5"  # seconds between announcements: a silent process is gone after 1.5 s


@pytest.fixture
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    with (
        running_server(
            "postgres", tmp_path_factory.mktemp("pa"), SWARMDESK_PUSH_PRESENCE_SECONDS=INTERVAL
        ) as first,
        running_server(
            "postgres",
            tmp_path_factory.mktemp("pb"),
            share=first,
            SWARMDESK_PROJECTOR="false",
            SWARMDESK_PUSH_PRESENCE_SECONDS=INTERVAL,
        ) as second,
    ):
        yield first, second


async def until_here(socket: ClientConnection, ids: set[str], seconds: float = 10) -> None:
    """Read presence frames until one names exactly `ids` (fails after `seconds`)."""
    seen: list[list[str]] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frame: dict[str, Any] = json.loads(await socket.recv())
                if frame["type"] == "presence":
                    seen.append([person["id"] for person in frame["here"]])
                    if set(seen[-1]) == ids:
                        return
    except TimeoutError:
        raise AssertionError(f"never told {sorted(ids)}; told {seen}") from None


async def test_a_room_shows_who_is_in_it_on_any_process(two: tuple[Server, Server]) -> None:
    a, b = two
    owner, expert = unique("pp-owner"), unique("pp-expert")
    me, them = str(agent_id_for(owner)), str(agent_id_for(expert))
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, a, owner)
        asked = await http.post(
            f"/api/cases/{case_id}/swarm", json={"help_needed": "x"}, headers=a.headers(owner)
        )
        assert asked.status_code == 200, asked.text
        joined = await http.post(
            f"/api/cases/{case_id}/participants", json={}, headers=a.headers(expert)
        )
        assert joined.status_code == 200, joined.text
    room = f"/ws/cases/{case_id}?presence=1"
    async with ws_connect(a, room, owner) as mine:
        await until_here(mine, {me})
        async with ws_connect(b, room, expert) as theirs:
            await until_here(theirs, {me, them})  # B was told of A's owner
            await until_here(mine, {me, them})  # and A of B's expert
        await until_here(mine, {me})  # the expert closed the room on B
        async with ws_connect(b, room, expert) as theirs:
            await until_here(mine, {me, them})
            b.stop(kill=True)  # B dies without a word
            await until_here(mine, {me}, seconds=15)

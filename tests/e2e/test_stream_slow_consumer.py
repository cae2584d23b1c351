"""A WebSocket tail consumer that stops reading is closed with 4008 and its exact resume
position; resuming from it continues with no gap and no duplicate."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import websockets

from app.store import AppendRequest, create_store
from app.store.codec import create_mapper
from domain.actors import Actor, Role
from domain.case import Case
from tests.e2e.server import Server, running_server

BIG = "y" * 9_000  # ~9 KB per event: a stalled socket's kernel buffers fill quickly


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def impatient(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server whose tails buffer 4 frames and give up on a full queue after 0.3 s."""
    with running_server(
        request.param,
        tmp_path_factory.mktemp("impatient"),
        SWARMDESK_STREAM_QUEUE="4",
        SWARMDESK_STREAM_STALL_SECONDS="0.3",
        SWARMDESK_PROJECTOR="false",
    ) as server:
        yield server


async def load_big_case(server: Server, events: int) -> int:
    owner = Actor(uuid.uuid4(), Role.AGENT, "Olga")
    case = Case.open(owner, customer="Acme", subject="Large attachments")
    for _ in range(events - 1):
        case.add_context(owner, context_id=uuid.uuid4(), kind="environment", text=BIG)
    mapper = create_mapper()
    stored = [mapper.to_stored_event(e) for e in case.collect_events()]
    async with create_store(server.database_url, schema=server.schema) as store:
        for i in range(0, len(stored), 100):
            await store.append(AppendRequest(stored[i : i + 100]))
        return await store.max_position()


def tiny_socket(server: Server) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    return sock


async def read_to_close(ws: websockets.ClientConnection) -> tuple[list[int], Any]:
    positions: list[int] = []
    try:
        while True:
            message = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            positions.append(int(message["position"]))
    except websockets.ConnectionClosed as closed:
        return positions, closed.rcvd


async def test_stalled_tail_is_closed_with_its_exact_resume_position(impatient: Server) -> None:
    head = await load_big_case(impatient, 600)  # ~5.4 MB of events
    headers = impatient.headers("stream-svc", "service")
    url = f"{impatient.ws_url}/ws/events?after=0"
    async with websockets.connect(
        url,
        additional_headers=headers,
        sock=tiny_socket(impatient),
        max_queue=1,
        max_size=None,
        compression=None,
    ) as stalled:
        await asyncio.sleep(2.0)  # read nothing while the server's queue stays full
        positions, rcvd = await read_to_close(stalled)
    assert rcvd is not None
    assert rcvd.code == 4008
    assert positions, "the consumer got what was on the wire before the close"
    assert positions == list(range(1, len(positions) + 1))
    assert rcvd.reason == f"resume after position {positions[-1]}"
    assert positions[-1] < head
    async with websockets.connect(
        f"{impatient.ws_url}/ws/events?after={positions[-1]}",
        additional_headers=headers,
        max_size=None,
    ) as resumed:
        while positions[-1] < head:
            positions.append(
                int(orjson.loads(await asyncio.wait_for(resumed.recv(), 10))["position"])
            )
    assert positions == list(range(1, head + 1))

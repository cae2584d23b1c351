"""Per-socket budgets on a real server: a socket that does not drain within its time
budget is closed with 4008 ``resume after=N`` and counted, whether its peer reads late
(it gets the close frame) or never (the connection is aborted); a client frame larger
than the cap closes the socket (1009); healthy sockets are untouched."""

from __future__ import annotations

import asyncio
import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.e2e.push_support import DirectCase, Follower, ws_connect
from tests.e2e.server import Server, running_server

BIG = "z" * 9_000  # each patch ~9 KB: a socket that does not read stops draining fast
STALL, GRACE = 1.0, 4.0


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose sockets may stall 1 s; a forced close waits 4 s for the peer."""
    workdir: Path = tmp_path_factory.mktemp("budgets")
    with running_server(
        "sqlite",
        workdir,
        SWARMDESK_PUSH_STALL_SECONDS=str(STALL),
        SWARMDESK_PUSH_CLOSE_GRACE_SECONDS=str(GRACE),
        SWARMDESK_PUSH_QUEUE_LIMIT="100000",  # only the time budget closes them here
        SWARMDESK_PUSH_QUEUE_BYTES=str(64 << 20),
    ) as server:
        yield server


def tiny_socket(server: Server) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    return sock


async def fell_behind(server: Server) -> float:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        text = (await http.get("/metrics")).text
    found = re.search(r"^swarmdesk_push_fell_behind(?:_total)? (\S+)", text, re.M)
    assert found is not None, text[:500]
    return float(found.group(1))


async def flood(direct: DirectCase) -> int:
    """About 3 MB of patches, more than the socket buffers hold; the last position."""
    direct.add_context(330, BIG)
    return await direct.flush()


async def test_a_late_reader_gets_resume_and_a_healthy_one_keeps_up(budgeted: Server) -> None:
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    direct = DirectCase(budgeted, owner)
    opened = await direct.flush()
    path = f"/ws/cases/{direct.case_id}"
    before = await fell_behind(budgeted)
    late, healthy = Follower(), Follower()
    async with (
        ws_connect(budgeted, path, owner, max_size=None) as fast,
        websockets.connect(
            budgeted.ws_url + path,
            additional_headers=budgeted.headers(owner),
            sock=tiny_socket(budgeted),
            max_queue=1,  # the client library stops reading the socket: it stalls
            compression=None,
            max_size=None,
        ) as slow,
    ):
        await healthy.read_until(fast, opened)
        await late.read_until(slow, opened)
        last = await flood(direct)
        await healthy.read_until(fast, last, seconds=30)
        await asyncio.sleep(STALL * 3)  # over budget: closed (the frame waits on the wire)
        try:
            while True:
                late.apply(await asyncio.wait_for(slow.recv(), 10))
        except websockets.ConnectionClosed as closed:
            rcvd = closed.rcvd
    assert rcvd is not None
    assert rcvd.code == 4008
    assert rcvd.reason == f"resume after={late.position}"
    assert late.position is not None
    assert late.position < last
    assert await fell_behind(budgeted) >= before + 1
    async with ws_connect(budgeted, f"{path}?after={late.position}", owner, max_size=None) as ws:
        await late.read_until(ws, last, seconds=30)  # resumed: no gap, no duplicate
    assert late.doc == healthy.doc


async def test_a_socket_that_never_reads_is_aborted(budgeted: Server) -> None:
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    direct = DirectCase(budgeted, owner)
    await direct.flush()
    before = await fell_behind(budgeted)
    request = (
        f"GET /ws/cases/{direct.case_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: {budgeted.headers(owner)['Authorization']}\r\n\r\n"
    )
    with tiny_socket(budgeted) as sock:
        sock.sendall(request.encode())
        # patches until the socket stops draining (the kernel's send buffer may first
        # take several MB) and the time budget runs out
        deadline = time.monotonic() + 120
        while await fell_behind(budgeted) < before + 1:
            assert time.monotonic() < deadline, "never counted as fallen behind"
            direct.add_context(100, BIG)
            await direct.flush()
            await asyncio.sleep(STALL * 2)
        await asyncio.sleep(GRACE + 1)  # nobody answered the close: the server aborted
        ended = False
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await asyncio.wait_for(loop.sock_recv(sock, 1 << 16), 5)
                if not data:
                    ended = True
                    break
        except ConnectionResetError:
            ended = True
    assert ended


async def test_a_client_frame_over_the_cap_closes_the_socket(budgeted: Server) -> None:
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    direct = DirectCase(budgeted, owner)
    opened = await direct.flush()
    follower = Follower()
    async with ws_connect(budgeted, f"/ws/cases/{direct.case_id}", owner) as ws:
        await follower.read_until(ws, opened)
        await ws.send("x" * 100)  # small frames are read and ignored
        await ws.send("x" * 16_384)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _read_to_end(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def _read_to_end(ws: websockets.ClientConnection) -> None:
    while True:
        await asyncio.wait_for(ws.recv(), 10)

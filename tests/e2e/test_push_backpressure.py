"""A client that stops reading is cut off with 4008 and never delays the others."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.e2e.push_support import (
    DirectCase,
    Follower,
    add_context,
    open_case,
    stored_view,
    wait_stored,
    ws_connect,
)
from tests.e2e.server import Server, running_server

BIG = "x" * 9_000  # each patch carries ~9 KB, so a stalled socket fills quickly


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def tight(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server whose clients may lag only 8 frames, replaying at most 20 changes."""
    workdir = tmp_path_factory.mktemp("tight")
    with running_server(
        request.param,
        workdir,
        SWARMDESK_PUSH_QUEUE_LIMIT="8",
        SWARMDESK_PUSH_REPLAY_LIMIT="20",
    ) as server:
        yield server


def tiny_socket(server: Server) -> socket.socket:
    """A connected socket with a small receive buffer, so a non-reader stalls fast."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    return sock


async def read_to_close(
    ws: websockets.ClientConnection, follower: Follower
) -> websockets.ConnectionClosed:
    """Apply every message until the server closes; return how it closed."""
    try:
        while True:
            follower.apply(await asyncio.wait_for(ws.recv(), 10))
    except websockets.ConnectionClosed as closed:
        return closed


async def test_stalled_reader_is_closed_with_resume_and_others_keep_up(tight: Server) -> None:
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    direct = DirectCase(tight, owner)
    opened = await direct.flush()
    path = f"/ws/cases/{direct.case_id}"
    stalled_view, healthy = Follower(), Follower()
    async with (
        ws_connect(tight, path, owner) as fast,
        websockets.connect(
            tight.ws_url + path,
            additional_headers=tight.headers(owner),
            sock=tiny_socket(tight),
            max_queue=1,
            compression=None,
        ) as stalled,
    ):
        await healthy.read_until(fast, opened)
        await stalled_view.read_until(stalled, opened)
        lags = []
        for _ in range(8):  # ~6 MB in all, more than the kernel buffers of one socket
            direct.add_context(80, BIG)
            last = await direct.flush()
            began = time.monotonic()
            await healthy.read_until(fast, last, seconds=10)
            lags.append(time.monotonic() - began)
        assert len(healthy.patches) == 8 * 80
        assert max(lags) < 5, lags  # the stalled socket never held the healthy one up
        # now the stalled client reads: what was on the wire, then 4008
        closed = await read_to_close(stalled, stalled_view)
    rcvd = closed.rcvd
    assert rcvd is not None
    assert rcvd.code == 4008
    assert rcvd.reason == f"resume after={stalled_view.position}"
    assert stalled_view.position is not None
    assert stalled_view.position < last
    # resuming: more than REPLAY_LIMIT (20) changes behind, so a fresh snapshot
    resume = f"{path}?after={stalled_view.position}"
    async with ws_connect(tight, resume, owner, max_size=None) as again:
        assert stalled_view.apply(await again.recv())["type"] == "snapshot"
        await stalled_view.read_until(again, last)
    stored = await stored_view(tight, "case", direct.case_id)
    assert stored is not None
    assert stalled_view.doc == stored[1] == healthy.doc


async def test_a_short_lag_is_replayed_and_a_long_one_gets_a_snapshot(tight: Server) -> None:
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=tight.base_url, timeout=10) as http:
        case_id, opened = await open_case(http, tight, owner)
        path = f"/ws/cases/{case_id}"
        follower = Follower()
        async with ws_connect(tight, path, owner) as ws:
            follower.apply(await ws.recv())
            await follower.read_until(ws, opened)
        start = follower.position
        short = [await add_context(http, tight, owner, case_id, f"s{i}") for i in range(20)]
        async with ws_connect(tight, f"{path}?after={start}", owner) as ws:
            await follower.read_until(ws, short[-1])
        assert follower.snapshots == 1
        assert follower.patches == short
        resume_at = follower.position
        long = [await add_context(http, tight, owner, case_id, f"l{i}") for i in range(21)]
        await wait_stored(tight, "case", case_id, long[-1])  # all 21 are replayable now
        async with ws_connect(tight, f"{path}?after={resume_at}", owner) as ws:
            assert follower.apply(await ws.recv())["type"] == "snapshot"
            await follower.read_until(ws, long[-1])
        assert follower.snapshots == 2
        stored = await stored_view(tight, "case", case_id)
        assert stored is not None
        assert follower.doc == stored[1]

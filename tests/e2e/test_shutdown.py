"""SIGTERM with 50 SSE streams, 50 long polls and 50 sockets open: every one ends (the
streams cleanly, the polls with an answer, the sockets with 1012) and `swarmdesk serve`
exits 0 within the grace (`SWARMDESK_SHUTDOWN_GRACE_SECONDS`, 10 s by default)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from app.store.migrate import upgrade
from tests.e2e.push_support import open_case
from tests.e2e.server import Server, free_port, server_env

GRACE = 10.0
EACH = 50


@pytest.fixture
def lone_server(tmp_path: Path) -> Iterator[Server]:
    """A server of this test's own (it is stopped by the test)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'swarmdesk.db'}"
    upgrade(url)
    server = Server("sqlite", url, None, free_port(), server_env(url, None, tmp_path))
    server.log_path = tmp_path / "server.log"
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=True)


async def _sse(client: httpx.AsyncClient, headers: dict[str, str], opened: list[int]) -> str:
    async with client.stream("GET", "/api/events/stream?after=0", headers=headers) as answer:
        assert answer.status_code == 200
        opened.append(1)
        async for _ in answer.aiter_bytes():
            pass
    return "ended"


async def _poll(client: httpx.AsyncClient, headers: dict[str, str], head: int) -> int:
    answer = await client.get(f"/api/events?after={head}&wait=30", headers=headers)
    return answer.status_code


async def _socket(server: Server, path: str, subject: str, role: str, opened: list[int]) -> int:
    headers = server.headers(subject, role)
    async with websockets.connect(f"{server.ws_url}{path}", additional_headers=headers) as ws:
        opened.append(1)
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else -1  # -1: no close frame
    return 0


def _gauge(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return -1.0


async def test_sigterm_ends_streams_polls_and_sockets_then_exits_0(lone_server: Server) -> None:
    server = lone_server
    svc = server.headers("shutdown-svc", "service")
    limits = httpx.Limits(max_connections=4 * EACH, max_keepalive_connections=0)
    timeout = httpx.Timeout(60)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=timeout) as c:
        case_id, head = await open_case(c, server, "shutdown-owner")
        streams: list[int] = []
        sockets: list[int] = []
        sse = [asyncio.create_task(_sse(c, svc, streams)) for _ in range(EACH)]
        polls = [asyncio.create_task(_poll(c, svc, head)) for _ in range(EACH)]
        paths = [(f"/ws/cases/{case_id}", "shutdown-owner", "agent")] * (EACH // 2)
        paths += [("/ws/events?after=0", "shutdown-svc", "service")] * (EACH // 2)
        socks = [asyncio.create_task(_socket(server, p, s, r, sockets)) for p, s, r in paths]
        async with asyncio.timeout(30):
            while len(streams) < EACH or len(sockets) < EACH:  # noqa: ASYNC110 - counted
                await asyncio.sleep(0.05)
            metrics = (await c.get("/metrics")).text
        assert _gauge(metrics, "swarmdesk_stream_tails") == EACH + EACH // 2
        assert _gauge(metrics, "swarmdesk_push_clients") == EACH // 2
        await asyncio.sleep(1.0)  # the long polls are waiting at the head
        assert not any(task.done() for task in [*sse, *polls, *socks])

        assert server.process is not None
        began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(server.process.wait, GRACE + 20)
        elapsed = time.monotonic() - began
        ended = await asyncio.gather(*sse, *polls, *socks, return_exceptions=True)
    print(f"SIGTERM to exit with {3 * EACH} open: {elapsed:.2f} s")
    assert code == 0, server.log()
    assert elapsed < GRACE, f"{elapsed:.1f} s"
    assert ended[:EACH] == ["ended"] * EACH  # streams ended cleanly
    assert ended[EACH : 2 * EACH] == [200] * EACH  # each poll got its (empty) answer
    assert ended[2 * EACH :] == [1012] * EACH  # sockets: service restart
    assert "timeout graceful shutdown exceeded" not in server.log()

"""`lighten` on a real uvicorn ``websockets-sansio`` server with a real client: the
protocol's queue, event and parser are swapped, and the socket still receives, sends,
answers pings and sees the client's close."""

from __future__ import annotations

import asyncio
from typing import Any

import websockets
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import Protocol

from app.realtime.push.session import Receive, Send
from app.server.lean import LeanEvent, LeanQueue, lighten
from tests.e2e.server import uvicorn_in_process


class IdleEcho:
    """Accepts, lightens, then idles as `Session.serve` does, echoing what arrives."""

    def __init__(self) -> None:
        self.lightened = asyncio.Event()
        self.disconnect: dict[str, Any] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        ready = lighten(scope, send)
        assert ready is not None
        self.lightened.set()
        while True:
            await ready()
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnect = message
                return
            await send({"type": "websocket.send", "text": "echo:" + message["text"]})


async def test_lightened_socket_keeps_working() -> None:
    app = IdleEcho()
    async with uvicorn_in_process(app) as (server, port):
        async with websockets.connect(f"ws://127.0.0.1:{port}/x", compression=None) as ws:
            await asyncio.wait_for(app.lightened.wait(), 5)
            (protocol,) = server.server_state.connections
            assert isinstance(protocol, WebSocketsSansIOProtocol)
            assert type(protocol.queue) is LeanQueue  # type: ignore[comparison-overlap]
            assert type(protocol.writable) is LeanEvent
            assert protocol.writable.is_set()
            assert protocol.request is None
            assert protocol.response is None
            assert protocol.conn.parser.gi_code is Protocol.parse.__code__
            assert protocol.scope == {}
            for text in ("one", "two" * 1000):
                await ws.send(text)
                assert await asyncio.wait_for(ws.recv(), 5) == "echo:" + text
            await asyncio.wait_for(await ws.ping(), 5)
            assert not protocol.read_paused
        for _ in range(500):
            if app.disconnect is not None:
                break
            await asyncio.sleep(0.01)
        assert app.disconnect == {"type": "websocket.disconnect", "code": 1000, "reason": ""}

"""`CorkedHttpToolsProtocol` on a real uvicorn server with real clients: a response sent
without a pause goes out in one socket write (uvicorn's own protocol needs two), a body
streamed across loop turns arrives whole and in order, a closing response is flushed
before the close, and a WebSocket upgrade still works on the real transport."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import websockets
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.realtime.push.session import Receive, Send
from app.server.protocol import Corked, CorkedHttpToolsProtocol
from tests.e2e.server import uvicorn_in_process

WRITES: list[int] = []  # socket writes per connection, in connection order


class Counting:
    """The real transport, counting its `write` calls (the socket stays real)."""

    def __init__(self, real: asyncio.Transport, slot: int) -> None:
        self._real, self._slot = real, slot

    def write(self, data: bytes) -> None:
        WRITES[self._slot] += 1
        self._real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def counted(base: type[HttpToolsProtocol]) -> type[HttpToolsProtocol]:
    class CountedProtocol(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.Transport) -> None:
            WRITES.append(0)
            super().connection_made(Counting(transport, len(WRITES) - 1))

    return CountedProtocol


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": "echo:" + message["text"]})
        return
    path = scope["path"]
    headers = [(b"content-type", b"application/json")]
    if path == "/stream":  # the body in three parts, each after a pause
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for part in (b'{"a":', b"[1,2,3]", b"}"):
            await asyncio.sleep(0.01)
            await send({"type": "http.response.body", "body": bytearray(part), "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/close":
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


@contextlib.asynccontextmanager
async def serving(protocol: type[HttpToolsProtocol]) -> AsyncIterator[str]:
    async with uvicorn_in_process(app, http=counted(protocol)) as (_, port):
        yield f"127.0.0.1:{port}"


async def writes_for_five_responses(protocol: type[HttpToolsProtocol]) -> int:
    WRITES.clear()
    async with serving(protocol) as host, httpx.AsyncClient(base_url=f"http://{host}") as client:
        for _ in range(5):
            response = await client.post("/cmd", json={})
            assert (response.status_code, response.json()) == (201, {"ok": True})
    assert len(WRITES) == 1  # one keep-alive connection
    return WRITES[0]


async def test_a_response_is_one_write_where_uvicorn_makes_two() -> None:
    assert await writes_for_five_responses(CorkedHttpToolsProtocol) == 5
    assert await writes_for_five_responses(HttpToolsProtocol) == 10


async def test_a_streamed_body_arrives_whole_and_a_closing_response_is_flushed() -> None:
    async with (
        serving(CorkedHttpToolsProtocol) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        streamed = await client.get("/stream")
        assert streamed.json() == {"a": [1, 2, 3]}
        closing = await client.get("/close")
        assert closing.json() == {"ok": True}
        assert closing.headers["connection"] == "close"


async def test_a_websocket_upgrade_gets_the_real_transport() -> None:
    async with (
        serving(CorkedHttpToolsProtocol) as host,
        websockets.connect(f"ws://{host}/ws", compression=None) as ws,
    ):
        await ws.send("hi")
        assert await asyncio.wait_for(ws.recv(), 5) == "echo:hi"


async def test_corked_writes_keep_order_and_copy_what_may_change() -> None:
    loop = asyncio.get_running_loop()
    received = bytearray()
    done = asyncio.Event()

    class Sink(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            received.extend(data)
            if received.endswith(b"!"):
                done.set()

    server = await loop.create_server(Sink, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    corked = Corked(transport, loop)
    buffer = bytearray(b"two ")
    corked.write(b"one ")
    corked.write(buffer)
    buffer[:] = b"XXXX"  # changed after the write: the held copy is what goes out
    assert corked.get_write_buffer_size() == 8
    corked.writelines([b"three ", memoryview(b"four!")])
    await asyncio.wait_for(done.wait(), 5)
    assert bytes(received) == b"one two three four!"
    corked.close()
    server.close()
    await server.wait_closed()

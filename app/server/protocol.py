"""uvicorn's httptools protocol, with each response written in one system call.

uvicorn writes a response as it receives the ASGI messages: the status line and headers
on ``http.response.start``, then the body on ``http.response.body``, each one
``transport.write``, and uvloop sends each write at once. On these machines a system
call is dear (py-spy ``--native`` put about a fifth of the server's time in ``write``),
and a command's answer is two writes of a few hundred bytes. `CorkedHttpToolsProtocol`
gives the protocol a transport that holds what is written (`Corked`) until the response
is complete, and writes it then as one block: a response whose messages are sent without
waiting in between, as every JSON response is, leaves in one ``write``, at the moment the
last of them is sent. Whatever is still held at the end of a loop turn (a body streamed
over several turns, say) is written then. Nothing is reordered.

A connection upgraded to a WebSocket gets the real transport back before the WebSocket
protocol sees it: pushes are written as they are sent, as before.

`swarmdesk serve` uses it (``http=`` of uvicorn's config); `bench/http_commands.py` counts
its effect.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class Corked:
    """A transport that writes the bytes of one loop turn with one `write` of `real`'s.

    Everything else is `real`'s own; `close` writes what is held first, `abort` drops it
    (as an abort drops `real`'s own buffer)."""

    __slots__ = ("_held", "_loop", "real")

    def __init__(self, real: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.real = real
        self._held: list[bytes] | None = None
        self._loop = loop

    def write(self, data: bytes | bytearray | memoryview) -> None:
        chunk = data if type(data) is bytes else bytes(data)  # held: copy what may change
        if not chunk:
            return
        if self._held is None:
            self._held = [chunk]
            self._loop.call_soon(self.flush)
        else:
            self._held.append(chunk)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Write what is held now (also called at the end of the turn it was written in)."""
        held, self._held = self._held, None
        if held and not self.real.is_closing():
            self.real.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self.real.close()

    def abort(self) -> None:
        self._held = None
        self.real.abort()

    def write_eof(self) -> None:
        self.flush()
        self.real.write_eof()

    def get_write_buffer_size(self) -> int:
        held = self._held
        return self.real.get_write_buffer_size() + (sum(map(len, held)) if held else 0)

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading...
        return getattr(self.real, name)


class CorkedHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` writing through `Corked` (see the module's docstring)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        corked = Corked(transport, asyncio.get_running_loop())
        super().connection_made(corked)  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        corked: Any = self.transport
        if type(corked) is Corked:  # the response is whole: out now, not at the turn's end
            corked.flush()
        super().on_response_complete()

    def handle_websocket_upgrade(self) -> None:
        corked: Any = self.transport
        if type(corked) is Corked:  # the WebSocket protocol writes to the socket itself
            corked.flush()
            self.transport = corked.real
        super().handle_websocket_upgrade()

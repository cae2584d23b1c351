"""Closing a push socket whose peer stopped reading, without waiting for it to drain.

uvicorn's ``websockets-sansio`` protocol writes a frame only once the transport is
writable, so an ASGI ``websocket.close`` sent to a peer that never reads waits for ever,
and the transport's buffer (up to its high-water mark plus the frame that crossed it)
stays allocated until a keepalive gives up. `close_stalled` writes the close frame after
what is already buffered (a peer that reads late still gets the reason: ``resume
after=N``), tells the application the connection ended, and aborts the transport if the
peer has not answered the close within `grace` seconds, which frees its buffer.

It touches the protocol reached as the owner of the bound ``send`` method (no middleware
wraps the push sockets' ``send``: `app.realtime.push.asgi`): ``conn`` (the websockets
sans-I/O connection), ``transport``, ``close_sent``, ``close_timer``, ``queue``, ``loop``.
`probe` checks them (the `stalled_close` tweak of `app.server.tweaks`); off, or with any
other server, it returns False and the caller falls back to a stock close.
"""

from __future__ import annotations

from typing import Any

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import (
        WebSocketsSansIOProtocol as _SansIO,
    )
except ImportError:  # pragma: no cover - uvicorn without websockets installed
    _SansIO = None  # type: ignore[assignment,misc]

ATTRIBUTES = ("conn", "transport", "close_sent", "close_timer", "queue", "loop")


def close_stalled(send: Any, code: int, reason: str, grace: float) -> bool:
    """Close the connection of `send` now (see the module docstring); False when this
    server's protocol is not the one known here (nothing was done then)."""
    protocol = getattr(send, "__self__", None)
    if _SansIO is None or not isinstance(protocol, _SansIO):
        return False
    if not all(hasattr(protocol, name) for name in ATTRIBUTES):
        return False
    transport = protocol.transport
    if protocol.close_sent or transport.is_closing():
        transport.abort()
        return True
    protocol.conn.send_close(code, reason)
    transport.write(b"".join(protocol.conn.data_to_send()))
    protocol.close_sent = True
    protocol.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
    if protocol.close_timer is not None:
        protocol.close_timer.cancel()
    protocol.close_timer = protocol.loop.call_later(grace, transport.abort)
    return True

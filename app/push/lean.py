"""Shedding per-connection memory an idle push socket no longer needs.

An idle push connection should cost the server as little as possible (target: 16 KiB).
After the WebSocket handshake the ASGI server still holds what it parsed for it: the
scope's header list and, in uvicorn's ``websockets-sansio`` protocol, the handshake's
`Request` and `Response` objects with their header maps (about 4 KiB per connection
together), none of which is used again once the handshake is answered. `release_handshake`
empties those header maps (the `Request` itself stays referenced by the `websockets`
parser's suspended frame) and drops the protocol's references. It is best-effort and
safe with any server: it touches only a uvicorn sansio protocol object reached as the
owner of the bound ``send`` method (so only when no middleware wraps ``send``, as with
`app.push.asgi`), only the two attributes that protocol reads solely while answering
the handshake, and only once ``handshake_complete`` is set; with any other server or
a wrapped ``send`` it only drops the scope's headers and path parameters.
"""

from __future__ import annotations

from typing import Any

try:  # the only server whose internals we trim; absent or different: nothing to trim
    from uvicorn.protocols.websockets.websockets_sansio_impl import (
        WebSocketsSansIOProtocol as _SansIO,
    )
except ImportError:  # pragma: no cover - uvicorn without websockets installed
    _SansIO = None  # type: ignore[assignment,misc]


def release_handshake(scope: dict[str, Any], send: Any) -> None:
    """Drop handshake-only data after ``websocket.accept`` was sent (see module docstring).

    Call only once the scope's headers and path parameters have been read (authentication
    and the target document are settled).
    """
    scope["headers"] = []
    scope.pop("path_params", None)  # parsed into the session's target already
    protocol = getattr(send, "__self__", None)
    if _SansIO is not None and isinstance(protocol, _SansIO) and protocol.handshake_complete:
        for name in ("request", "response"):
            message = getattr(protocol, name, None)
            headers = getattr(message, "headers", None)
            if headers is not None and hasattr(headers, "clear"):
                headers.clear()  # the request also stays referenced by websockets' parser
            if message is not None:
                setattr(protocol, name, None)

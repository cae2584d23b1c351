"""Limits on a request's head while uvicorn reads it: a header-read timeout, and the
size and count of header fields, for heads that arrive in pieces (a complete head is
checked by the edge too, `app.edge_layers.HeaderLimit`, for any server).

uvicorn's httptools protocol has no such limits: a client may send headers one byte a
second for ever, or 16 MB of them, and each connection holds its buffer meanwhile.
`guarded(base, edge)` makes a subclass of `base` (uvicorn's `HttpToolsProtocol` or our
`CorkedHttpToolsProtocol`) that
- closes the connection (after a `408`) when a request's head is not complete within
  `header_timeout_seconds` of its first byte (of the connection, for the first request);
- answers `431` and closes when the URL and header fields pass `max_header_bytes`, or
  the fields number more than `max_headers`, before the head is complete.
It overrides only httptools' parser callbacks and the asyncio protocol methods uvicorn's
class implements (`connection_made`, `data_received`, `connection_lost`), each calling
the original first or last; `swarmdesk serve` uses it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import EdgeSettings

TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
TOO_LARGE_RESPONSE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n"
    b"content-length: 0\r\n\r\n"
)


class HeadGuard(HttpToolsProtocol):
    """The guard's behaviour; `guarded` sets the limits on a subclass."""

    head_timeout: float = 0.0
    max_head_bytes: float = float("inf")
    max_headers: float = float("inf")
    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _head_raw = 0  # bytes received while the head is not complete
    _head_fields = 0
    _in_head = True
    _head_refused = False

    def _arm(self) -> None:
        if self.head_timeout and self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.write(TIMEOUT_RESPONSE)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_refused:
            return
        super().data_received(data)
        if self._in_head:  # httptools holds a header's value until it ends: count bytes
            self._head_raw += len(data)
            if self._head_raw > self.max_head_bytes:
                self._head_refused = True
        if self._head_refused and not self.transport.is_closing():
            self._disarm()
            self.transport.write(TOO_LARGE_RESPONSE)
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = self._head_fields = self._head_raw = 0
        self._in_head = True
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes > self.max_head_bytes:
            self._head_refused = True
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        self._head_fields += 1
        if self._head_bytes > self.max_head_bytes or self._head_fields > self.max_headers:
            self._head_refused = True
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()


def guarded(base: type[HttpToolsProtocol], edge: EdgeSettings) -> type[HttpToolsProtocol]:
    """`base` with the head guard (limits from `edge`; 0 turns one off)."""
    attributes: dict[str, Any] = {
        "head_timeout": edge.header_timeout_seconds,
        "max_head_bytes": edge.max_header_bytes or float("inf"),
        "max_headers": edge.max_headers or float("inf"),
    }
    name = f"Guarded{base.__name__}"
    made: type[HttpToolsProtocol] = type(name, (HeadGuard, base), attributes)
    _MADE[name] = made  # pickled by name for `--workers N` (see `__getattr__`)
    return made


_MADE: dict[str, type[HttpToolsProtocol]] = {}


def __getattr__(name: str) -> type[HttpToolsProtocol]:
    """A guarded protocol class by name: the one made here, or, in a worker process that
    unpickles uvicorn's config (`--workers N` spawns them), the same one made afresh
    from the same settings."""
    if name in _MADE:
        return _MADE[name]
    if name.startswith("Guarded"):
        from app.server.protocol import CorkedHttpToolsProtocol
        from app.settings import Settings

        bases = {cls.__name__: cls for cls in (CorkedHttpToolsProtocol, HttpToolsProtocol)}
        base = bases.get(name.removeprefix("Guarded"))
        if base is not None:
            return guarded(base, Settings().edge)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

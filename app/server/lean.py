"""Shedding per-connection memory an idle push socket no longer needs.

An idle push connection should cost the server as little as possible (target: 16 KiB;
`bench/push.py` measures it, ``--trace`` shows where the bytes are). Once the WebSocket
handshake is answered, uvicorn's ``websockets-sansio`` protocol object still holds:

- the handshake's `Request` and `Response` with their header maps, and the ``websockets``
  parser generator that parsed the request (it keeps the `Request` alive);
- an `asyncio.Queue` for received messages and an `asyncio.Event` for write flow control:
  four ``collections.deque`` of 760 bytes each (a deque allocates a 64-slot block even
  when empty), about 4 KiB per connection for queues that hold at most one message;
- the ASGI scope (headers, a copy of the lifespan state, extension dicts).

`lighten` releases or replaces all of these with equivalents that allocate only while
they hold something (`LeanQueue`, `LeanEvent`). It is best-effort and guarded: it touches
a uvicorn sansio protocol reached as the owner of the bound ``send`` method (so only when
no middleware wraps ``send``, as with `app.realtime.push.asgi`), only once ``handshake_complete``
is set, only attributes whose types are exactly the ones this module knows, and only
when nothing waits on them; with any other server it only drops the scope's headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

try:  # the only server whose internals we trim; absent or different: nothing to trim
    from uvicorn.protocols.websockets.websockets_sansio_impl import (
        WebSocketsSansIOProtocol as _SansIO,
    )
    from websockets.protocol import OPEN, Protocol
    from websockets.server import ServerProtocol
except ImportError:  # pragma: no cover - uvicorn without websockets installed
    _SansIO = None  # type: ignore[assignment,misc]


class LeanQueue:
    """The part of `asyncio.Queue` (unbounded) uvicorn's protocol uses, same semantics.

    Holds nothing but two ``None`` slots while empty and unwatched. `ready` gives a
    future that completes once ``get`` would not wait, so a caller can idle on one
    future instead of a chain of suspended coroutines.
    """

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._waiters: list[asyncio.Future[None]] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():  # every waiter re-checks; a spare wake-up is harmless
            if not waiter.done():
                waiter.set_result(None)

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.pop(0)
        if not self._items:
            self._items = None
        return item

    def ready(self) -> asyncio.Future[None]:
        """A future done once the queue holds an item (already done when it does)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._items:
            waiter.set_result(None)
        elif self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        return waiter

    async def get(self) -> Any:
        while not self._items:
            waiter = self.ready()
            try:
                await waiter
            finally:
                waiter.cancel()  # no-op once done; drops it from a later wake-up
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)
        return self.get_nowait()


class LeanEvent:
    """`asyncio.Event` (``is_set``, ``set``, ``clear``, ``wait``) without an idle deque."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._value = value
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if not self._value:
            self._value = True
            waiters, self._waiters = self._waiters, None
            for waiter in waiters or ():
                if not waiter.done():
                    waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)


Ready = Callable[[], Awaitable[None]]


def lighten(scope: dict[str, Any], send: Any) -> Ready | None:
    """Release handshake-only data and swap the protocol's queue and event for lean ones.

    Call from the connection's task right after ``websocket.accept`` was sent, once the
    scope has been read (authentication and the target document are settled), while no
    ``receive`` is pending. Returns the lean queue's `LeanQueue.ready` when it swapped
    the queue (await it before ``receive()`` to idle on a single future), else None.
    """
    protocol = getattr(send, "__self__", None)
    if _SansIO is None or not isinstance(protocol, _SansIO) or not protocol.handshake_complete:
        scope["headers"] = []  # another server may still read the rest of its scope
        scope.pop("path_params", None)
        return None
    scope.clear()  # this one reads its scope only until the handshake is complete
    _drop_handshake(protocol)
    _restart_parser(getattr(protocol, "conn", None))
    writable = getattr(protocol, "writable", None)
    if type(writable) is asyncio.Event and not getattr(writable, "_waiters", True):
        protocol.writable = LeanEvent(writable.is_set())  # type: ignore[assignment]
    queue = getattr(protocol, "queue", None)
    if type(queue) is not asyncio.Queue or getattr(queue, "_getters", True):
        return None
    lean = LeanQueue()
    while not queue.empty():
        lean.put_nowait(queue.get_nowait())
    protocol.queue = lean  # type: ignore[assignment]
    return lean.ready


def _drop_handshake(protocol: Any) -> None:
    for name in ("request", "response"):
        message = getattr(protocol, name, None)
        headers = getattr(message, "headers", None)
        if headers is not None and hasattr(headers, "clear"):
            headers.clear()
        if message is not None:
            setattr(protocol, name, None)


def _restart_parser(conn: Any) -> None:
    """Replace the handshake parser, idle at a frame boundary, by a fresh frame parser.

    `ServerProtocol.parse` parses the request, then delegates to `Protocol.parse` for
    frames; its suspended frame keeps the `Request`. When that delegate waits at the top
    of its loop (nothing buffered, no partial frame), a fresh `Protocol.parse` started
    in the OPEN state is indistinguishable from it.
    """
    if type(conn) is not ServerProtocol or conn.state is not OPEN:
        return
    if conn.reader.buffer or conn.reader.eof or conn.parser_exc is not None:
        return
    parser = conn.parser
    handshake = getattr(parser, "gi_code", None)
    frames = getattr(parser, "gi_yieldfrom", None)
    waiting = getattr(frames, "gi_yieldfrom", None)
    if (
        handshake is not ServerProtocol.parse.__code__
        or getattr(frames, "gi_code", None) is not Protocol.parse.__code__
        or getattr(waiting, "gi_code", None) is not type(conn.reader).at_eof.__code__
    ):
        return
    fresh = Protocol.parse(conn)
    next(fresh)  # runs to the same wait: at_eof() on the empty buffer
    conn.parser = fresh
    parser.close()

"""Draining on SIGTERM: the open-ended responses end, so the server can stop in time.

uvicorn, told to stop, closes its listeners, sends 1012 to every WebSocket and waits for
the HTTP responses in progress; an SSE stream never ends by itself, and a long poll
holds its request up to `wait` seconds. `Shutdown` is the process's "we are stopping"
flag: the SSE stream and the long poll look at it on each turn of their loops (at least
once a second: the tail's idle tick, the feed's poll interval) and end, the stream
cleanly (the client's EventSource resumes from its last id elsewhere), the poll with
what it has. What is still running when the grace (`SWARMDESK_SHUTDOWN_GRACE_SECONDS`,
uvicorn's `timeout_graceful_shutdown`) runs out is cancelled by uvicorn.

`watch_signals` chains a handler in front of the server's own SIGTERM/SIGINT handlers
(uvicorn installs them before the lifespan starts); where there is none to chain to
(another server, not the main thread) it installs nothing and the stock behaviour
stays. Only the public `signal` API is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    """Set once, when the process begins to stop; `draining` is a plain attribute read."""

    __slots__ = ("_event", "draining")

    def __init__(self) -> None:
        self.draining = False
        self._event = asyncio.Event()

    def begin(self) -> None:
        """Start draining (idempotent); call on the event loop's thread."""
        if not self.draining:
            self.draining = True
            self._event.set()
            log.info("draining: ending streams and long polls")

    async def wait(self) -> None:
        await self._event.wait()


@contextlib.contextmanager
def watch_signals(shutdown: Shutdown) -> Iterator[bool]:
    """While inside, SIGTERM and SIGINT also begin `shutdown` (then reach the server's
    own handler); yields whether it could chain (False: stock behaviour)."""
    loop = asyncio.get_running_loop()
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in SIGNALS:
            handler = signal.getsignal(sig)
            if callable(handler):
                signal.signal(sig, _chained(loop, shutdown, handler))
                previous[sig] = handler
    except ValueError:  # not the main thread
        pass
    try:
        yield bool(previous)
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError):
                if getattr(signal.getsignal(sig), "swarmdesk_drain", False):
                    signal.signal(sig, handler)


def _chained(
    loop: asyncio.AbstractEventLoop,
    shutdown: Shutdown,
    then: Callable[[int, FrameType | None], Any],
) -> Callable[[int, FrameType | None], None]:
    def handle(sig: int, frame: FrameType | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(shutdown.begin)
        then(sig, frame)

    handle.swarmdesk_drain = True  # type: ignore[attr-defined]
    return handle

"""One subscriber's bounded outbox, driving the ASGI ``send`` inline.

Fan-out must cost as little as possible per delivery and a slow reader must never delay
anyone else. So the hub does not wake a task per client: it calls `Client.push`, which
runs the ASGI ``send`` coroutine inline. With uvicorn that coroutine completes without
suspending while the socket's write buffer is below its high-water mark (the common
case: one call, no task switch). When it does suspend (the peer is not reading), the
client keeps that coroutine and resumes it from the future it awaits; meanwhile later
frames wait in a queue of at most `limit` frames. Past that, the client drops its queue,
leaves its channel and, once the socket takes data again, closes with
``RESUME_CODE`` and the reason ``resume after=N``: N is the last position handed to
the socket, so reconnecting with ``?after=N`` continues with no gap and no duplicate.

Budgets, so a socket's memory is bounded whatever its peer does: at most `limit` frames
and `byte_limit` bytes queued (beyond: fallen behind), and a send may stay suspended
at most `stall_seconds` (`stalled`; the hub's sweep then calls `abandon`). A socket
that fell behind while its send is suspended never drains, so `abandon` does not wait
for it: the close frame is written after what the socket holds and the connection is
aborted if the peer does not answer it (`app.server.stalled`, when that server tweak
is active; else a stock close, which waits for the socket).

Frames carry the log position they bring the client to (0 for heartbeats). Before
`go_live` (while the endpoint sends the snapshot or the replay) frames only queue;
`go_live` then drops every queued frame at or below the position already sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from enum import Enum
from typing import Any, cast

from app.realtime.push.protocol import PREV_UNKNOWN, RESUME_CODE, resume_reason
from app.server.inline import Sending, start_send

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]  # ASGI send: in practice a coroutine
#: (send, code, reason, grace) -> closed: see `app.server.stalled.close_stalled`.
ForceClose = Callable[[Any, int, str, float], bool]


class State(Enum):
    STARTING = "starting"  # snapshot or replay in flight: frames queue
    LIVE = "live"
    RESUME = "resume"  # fell behind: will close with RESUME_CODE once the socket drains
    CLOSING = "closing"  # the close is being sent
    GONE = "gone"  # disconnected or closed


class Client:
    """A connection subscribed to one channel; see the module docstring."""

    __slots__ = (
        "_blocked",
        "_closing",
        "_send",
        "_unsent",
        "actor",
        "byte_limit",
        "channel",
        "force_close",
        "inline",
        "last",
        "limit",
        "pending",
        "presence",
        "queued_bytes",
        "recheck",
        "sending_since",
        "state",
    )

    def __init__(
        self,
        send: Send,
        channel: Any,
        limit: int,
        *,
        inline: bool = True,
        actor: Any = None,
        byte_limit: int = 1 << 20,
        force_close: ForceClose | None = None,
    ) -> None:
        self._send = send
        self.actor = actor  # who reads (its access is checked again when members change)
        self.recheck = False  # members changed while it started: check its access again
        self.presence = False  # counted in, and told, who is in the room (`presence`)
        self._closing: tuple[int, str] | None = None  # a close other than resume
        self.inline = inline  # drive sends inline (`app.server.inline`), else as tasks
        self.channel = channel  # the hub's Channel (typed loosely to avoid a cycle)
        self.limit = limit
        self.byte_limit = byte_limit
        self.queued_bytes = 0  # the text length of the frames in `pending`
        #: Closes the connection without waiting for the socket (`app.server.stalled`).
        self.force_close = force_close
        self.sending_since: float | None = None  # when the send under way suspended
        self.last = 0  # position of the last frame handed to the socket
        self.state = State.STARTING
        self.pending: list[tuple[int, str, bool]] = []
        self._blocked: Sending | None = None
        self._unsent = 0  # `last` before the frame of a suspended send (not yet written)

    # -- called by the hub -------------------------------------------------------
    def push(self, position: int, frame: str, fill_prev: bool = False) -> bool:
        """Queue or send one frame; False when this client just fell behind.

        With `fill_prev`, the frame's ``"prev":null`` is replaced, when it is sent, by
        the position this client had reached (see `app.realtime.push.hub` for why that is right).
        """
        if self.state is State.LIVE and self._blocked is None and not self.pending:
            if position == 0 or position > self.last:
                self._start(position, frame, fill_prev)
            return True
        if self.state is not State.STARTING and self.state is not State.LIVE:
            return True
        if len(self.pending) >= self.limit or self.queued_bytes + len(frame) > self.byte_limit:
            self.pending = []
            self.queued_bytes = 0
            self.state = State.RESUME  # closes when the socket drains, or at go_live
            return False
        self.pending.append((position, frame, fill_prev))
        self.queued_bytes += len(frame)
        return True

    def stalled(self, now: float, budget: float) -> bool:
        """True when a send has been suspended (the peer not reading) over `budget` s."""
        since = self.sending_since
        return since is not None and now - since > budget and self.state is not State.GONE

    def abandon(self, grace: float) -> None:
        """Close now a connection whose socket does not drain (see the module docstring):
        ``resume after=N`` (or the revocation's close), whatever is queued dropped."""
        if self.state is State.GONE:
            return
        blocked, self._blocked = self._blocked, None
        if blocked is not None:
            blocked.cancel()  # it waits for the socket to become writable: nothing written
            self.last = self._unsent
        code, reason = self._closing or (RESUME_CODE, resume_reason(self.last))
        self.pending = []
        self.queued_bytes = 0
        self.sending_since = None
        if self.force_close is not None and self.force_close(self._send, code, reason, grace):
            self.state = State.GONE
            return
        log.warning("push: closing a stalled socket the stock way (waits for the socket)")
        self._closing = (code, reason)  # stock: a close that waits for the socket
        self.state = State.RESUME
        self._close_for_resume()

    # -- called by the endpoint --------------------------------------------------
    async def send_text(self, position: int, frame: str) -> None:
        """Send during start-up (snapshot, replay), awaiting the socket like any sender
        (a send suspended too long is `stalled` too)."""
        self.sending_since = asyncio.get_running_loop().time()
        try:
            await self._send({"type": "websocket.send", "text": frame})
        finally:
            self.sending_since = None
        self.last = max(self.last, position)

    def go_live(self) -> None:
        """Flush what queued during start-up (dropping what the client already has)."""
        if self.state is State.STARTING:
            self.state = State.LIVE
            self._drain()
        elif self.state is State.RESUME and self._blocked is None:
            self._close_for_resume()

    def revoke(self, code: int, reason: str) -> None:
        """Close with `code` now (after a send under way), sending nothing more."""
        if self.state is State.GONE or self.state is State.CLOSING:
            return
        self.pending = []
        self.queued_bytes = 0
        self._closing = (code, reason)
        self.state = State.RESUME  # the same path as a resume close: when the socket drains
        if self._blocked is None:
            self._close_for_resume()

    def gone(self) -> None:
        """The connection ended: stop sending and drop everything queued."""
        self.state = State.GONE
        self.pending = []
        self.queued_bytes = 0
        self.sending_since = None
        blocked, self._blocked = self._blocked, None
        if blocked is not None:
            blocked.cancel()

    # -- the inline driver -------------------------------------------------------
    def _start(self, position: int, frame: str, fill_prev: bool) -> None:
        if fill_prev:
            frame = frame.replace(PREV_UNKNOWN, f'"prev":{self.last}', 1)
        self._unsent = self.last
        if position:
            self.last = position
        message = {"type": "websocket.send", "text": frame}
        self._drive(cast(Coroutine[Any, Any, None], self._send(message)))

    def _close_for_resume(self) -> None:
        code, reason = self._closing or (RESUME_CODE, resume_reason(self.last))
        self._unsent = self.last
        self.state = State.CLOSING
        message = {"type": "websocket.close", "code": code, "reason": reason}
        self._drive(cast(Coroutine[Any, Any, None], self._send(message)))

    def _drive(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` until it completes or suspends; a suspended send blocks the queue."""
        try:
            self._blocked = start_send(coro, self._sent, inline=self.inline)
        except (OSError, RuntimeError, asyncio.CancelledError) as exc:  # disconnected
            log.debug("push send failed: %s", exc)
            self.gone()
            return
        if self._blocked is not None:
            self.sending_since = asyncio.get_running_loop().time()

    def _sent(self, error: BaseException | None) -> None:
        """A suspended send finished: go on with the queue (or stop, on an error)."""
        if self.state is State.GONE:
            return
        self._blocked = None
        self.sending_since = None
        if error is not None:
            log.debug("push send failed: %s", error)
            self.gone()
            return
        self._drain()

    def _drain(self) -> None:
        """Send queued frames in order while the socket takes them without waiting."""
        index = 0
        while self._blocked is None and self.state is State.LIVE and index < len(self.pending):
            position, frame, fill_prev = self.pending[index]
            index += 1
            self.queued_bytes -= len(frame)
            if position == 0 or position > self.last:
                self._start(position, frame, fill_prev)
        if self.state is State.LIVE or self.state is State.STARTING:
            del self.pending[:index]
        if self.state is State.RESUME and self._blocked is None:
            self._close_for_resume()

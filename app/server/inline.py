"""Driving an ASGI ``send`` coroutine inline, from a plain callback, for push fan-out.

The hub delivers a change to every client from one callback; waking a task per client
would cost a task switch per delivery. `start_send` runs the coroutine right there: with
uvicorn it completes without suspending while the socket's buffer is below its high-water
mark, the common case. When it suspends, the coroutine is resumed from the future it
awaits; `on_done(error)` is called once it finishes.

Private name relied on: an asyncio future's ``_asyncio_future_blocking`` flag, which a
coroutine sets when it yields the future and the driver must clear (as `asyncio.Task`
does). `probe()` checks it is there; without it every send runs as a task (stock
behaviour: correct, one task switch per delivery).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

Done = Callable[[BaseException | None], None]
_FLAG = "_asyncio_future_blocking"


def probe() -> str | None:
    """None when inline driving works here, else why not."""
    if not hasattr(asyncio.Future, _FLAG):
        return f"asyncio.Future has no {_FLAG}"
    return None


class Sending:
    """A send that suspended; `cancel` abandons it (the connection is gone)."""

    __slots__ = ("_coro", "_done", "_task")

    def __init__(self, coro: Coroutine[Any, Any, None], done: Done) -> None:
        self._coro: Coroutine[Any, Any, None] | None = coro
        self._done = done
        self._task: asyncio.Future[None] | None = None

    def cancel(self) -> None:
        coro, self._coro = self._coro, None
        if self._task is not None:
            self._task.cancel()
        elif coro is not None:
            coro.close()

    def _step(self, _future: object = None) -> None:
        coro = self._coro
        if coro is None:
            return
        try:
            awaited = coro.send(None)
        except StopIteration:
            self._finish(None)
            return
        except (OSError, RuntimeError, asyncio.CancelledError) as exc:
            self._finish(exc)
            return
        _wait(awaited, self._step)

    def _finish(self, error: BaseException | None) -> None:
        self._coro = None
        self._done(error)


def _wait(awaited: Any, resume: Callable[[object], None]) -> None:
    if isinstance(awaited, asyncio.Future):
        setattr(awaited, _FLAG, False)  # as asyncio.Task does for the future it awaits
        awaited.add_done_callback(resume)
    else:  # a bare yield: try again on the next loop iteration
        asyncio.get_running_loop().call_soon(resume, None)


def start_send(
    coro: Coroutine[Any, Any, None], done: Done, *, inline: bool = True
) -> Sending | None:
    """Run `coro` until it completes (None) or suspends (a `Sending`; `done` is called
    when it finishes). Raises what the coroutine raises before its first suspension."""
    if not inline:
        sending = Sending(coro, done)
        task = asyncio.ensure_future(coro)
        sending._task = task

        def finished(task: asyncio.Future[None]) -> None:
            if not task.cancelled():
                done(task.exception())

        task.add_done_callback(finished)
        return sending
    try:
        awaited = coro.send(None)
    except StopIteration:
        return None
    sending = Sending(coro, done)
    _wait(awaited, sending._step)
    return sending

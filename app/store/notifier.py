"""In-process wake-ups for readers following the log."""

from __future__ import annotations

import asyncio
import contextlib


class Notifier:
    """Tells waiting readers that the log has grown.

    `latest` is the highest position known to be committed. A wake-up is only a hint:
    readers re-read the log after waking, and wake up on a timer anyway.
    """

    def __init__(self) -> None:
        self.latest = 0
        self._event = asyncio.Event()

    def notify(self, position: int) -> None:
        if position > self.latest:
            self.latest = position
        self.poke()

    def poke(self) -> None:
        """Wake every waiting reader without claiming a new position."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_beyond(self, position: int, timeout: float) -> None:  # noqa: ASYNC109
        """Return when the log may hold positions after `position`, or after `timeout`."""
        if self.latest > position:
            return
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

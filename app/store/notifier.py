"""In-process wake-ups for readers following the log, with this process's latest
committed batches, so that a reader at the head need not read them back."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence

from app.store.types import RecordedEvent

#: Rows of the latest committed batches kept for readers at the head (about 300 KiB of
#: events at most); a reader further behind reads the database.
RECENT_ROWS = 1024


class Notifier:
    """Tells waiting readers that the log has grown.

    `latest` is the highest position known to be committed. A wake-up is only a hint:
    readers re-read the log after waking, and wake up on a timer anyway.

    `recent(after, limit)` answers from the batches this process committed (handed to
    `notify` after their commit) when they hold position ``after + 1`` and on: the
    rows from there while they are contiguous. Positions are global and contiguous,
    so what it answers is exactly what the log holds there; when another process
    committed in between, the positions do not join and it answers None (read the
    database).
    """

    def __init__(self) -> None:
        self.latest = 0
        self._event = asyncio.Event()
        self._recent: deque[RecordedEvent] = deque(maxlen=RECENT_ROWS)

    def notify(self, position: int, rows: Sequence[RecordedEvent] = ()) -> None:
        if rows:
            recent = self._recent
            if recent and recent[-1].position + 1 != rows[0].position:
                recent.clear()  # another process committed in between: start afresh
            recent.extend(rows)
        if position > self.latest:
            self.latest = position
        self.poke()

    def recent(self, after: int, limit: int) -> list[RecordedEvent] | None:
        """Rows ``after + 1`` ... (at most `limit`) from recent batches, or None."""
        recent = self._recent
        if not recent or not recent[0].position <= after + 1 <= recent[-1].position:
            return None
        start = after + 1 - recent[0].position  # the deque holds contiguous positions
        return [recent[i] for i in range(start, min(len(recent), start + limit))]

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

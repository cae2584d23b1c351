"""A watchdog for the projector: the log grows while the projection does not.

Every `every` seconds it compares the log's head with the position the leading projector
has committed. When the projector lags and has not advanced for `stall` seconds, it is
stuck (a hung batch, a connection frozen mid-statement, a bug): the watchdog logs it,
reports it (`stuck`, and the lag, for `/readyz`) and restarts the projector's follower,
which starts again from its tracked position (nothing is applied twice: the tracking
compare-and-set is the fence).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from projections.projector import Projector

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(
        self,
        projector: Projector,
        head: Callable[[], Awaitable[int]],
        *,
        stall: float = 30.0,
        every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.projector = projector
        self.head = head
        self.stall = stall
        self.every = every
        self.clock = clock
        self.lag = 0  # the log's head minus the projected position, at the last check
        self.stuck = False
        self._position = -1
        self._since = 0.0  # when the projected position last moved (or lag began)

    async def check(self) -> None:
        """One look: update `lag` and `stuck`; restart a projector stuck too long."""
        head = await self.head()
        projector, now = self.projector, self.clock()
        position = projector.position
        self.lag = max(0, head - position)
        if not projector.leading or self.lag == 0 or position != self._position:
            self._position, self._since, self.stuck = position, now, False
            return
        if now - self._since < self.stall:
            return
        self.stuck = True
        log.error(
            "projector stuck at position %d for %.0f s while the log is at %d; restarting it",
            position,
            now - self._since,
            head,
        )
        projector.restart()
        self._since = now  # give the new attempt its own `stall` seconds

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store is down: the projector has its own retries
                log.warning("projector watchdog: the log's head is unreadable", exc_info=True)

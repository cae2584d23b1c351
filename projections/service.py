"""What the app gets in `container.extras["views"]`: the engine, the projector (or None
when this process does not run one) and read-your-writes waiting."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from projections.projector import Projector
from projections.watchdog import Watchdog
from projections.writer import read_tracking

POLL = 0.02


@dataclass
class Views:
    engine: AsyncEngine
    projector: Projector | None = None
    #: An asyncpg pool on the same database (PostgreSQL) for the hottest reads.
    pool: Any = None
    #: Watches the projector running here (None without one): lag and stuck state.
    watchdog: Watchdog | None = None

    async def position(self) -> int:
        """The position the stored views have reached (the projector's tracking row)."""
        async with self.engine.connect() as conn:
            return await read_tracking(conn)

    async def wait_for_position(self, position: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True once the views have reached `position`; False after `timeout` seconds.

        Wakes on the local projector's commits, and polls the tracking row every 20 ms
        (another process may be the one projecting)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.projector is not None and self.projector.position >= position:
                return True
            if await self.position() >= position:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.projector is not None and self.projector.leading:
                if await self.projector.wait_for(position, min(left, 0.25)):
                    return True
            else:
                await asyncio.sleep(min(left, POLL))

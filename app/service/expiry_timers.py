"""Durable timers of invitation expiry: due times kept in the database (the
`invitation_timers` table), fired by one leader at a time.

Built beside `app.service.timers` (the SLA timers, landed at the same time); the two
should converge on that one (one runner per process with every kind's handler):
`schedule(conn, id, kind, key, due, payload)` writes a timer in the caller's transaction
(idempotent: a timer already there is kept); `cancel(conn, id)` removes one. `Timers.tick()`
fires every timer due at `clock()` (oldest first) through the handler registered for its
kind, then deletes it. A handler answers whether the timer is settled: True (done, or no
longer applicable) deletes it, False keeps it for the next tick (a transient failure).
A handler that raises keeps it too, and the error is logged.

Exactly once: handlers must make their effect idempotent (the invitation's handler runs a
domain command whose rule refuses a second expiry, under optimistic concurrency, with an
idempotency key), so a timer fired twice - two leaders for a moment, or a kill -9 between
the effect and the delete - still has one effect. After a restart, due timers fire at
the first tick. The clock is injected: tests move it instead of sleeping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.service.follower import insert_new
from app.service.tables import invitation_timers as timers

log = logging.getLogger("swarmdesk.timers")

Clock = Callable[[], datetime]
Handler = Callable[[str, Mapping[str, Any]], Awaitable[bool]]  # (key, payload) -> settled


def system_clock() -> datetime:
    return datetime.now(UTC)


async def schedule(
    engine: AsyncEngine,
    conn: AsyncConnection,
    timer_id: str,
    kind: str,
    key: str,
    due: datetime,
    payload: Mapping[str, Any],
) -> None:
    row = {
        "id": timer_id,
        "kind": kind,
        "key": key,
        "due_at": due.timestamp(),
        "payload": json.dumps(dict(payload)),
    }
    await conn.execute(insert_new(engine, timers, [row]))


async def cancel(conn: AsyncConnection, timer_id: str) -> None:
    await conn.execute(sa.delete(timers).where(timers.c.id == timer_id))


class Timers:
    """Fires due timers through the handlers by kind (see the module docstring)."""

    def __init__(
        self,
        engine: AsyncEngine,
        handlers: Mapping[str, Handler],
        clock: Clock = system_clock,
        batch: int = 100,
    ) -> None:
        self.engine = engine
        self.handlers = dict(handlers)
        self.clock = clock
        self.batch = batch
        self.fired = 0  # timers settled by this process (a metric)

    async def pending(self) -> list[dict[str, Any]]:
        """Every timer still to fire, soonest first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(timers).order_by(timers.c.due_at, timers.c.id))
            return [dict(r._mapping) for r in rows]

    async def tick(self) -> int:
        """Fire what is due now; the number of timers settled."""
        now = self.clock().timestamp()
        settled = 0
        while True:
            async with self.engine.connect() as conn:
                query = (
                    sa.select(timers)
                    .where(timers.c.due_at <= now)
                    .order_by(timers.c.due_at, timers.c.id)
                    .limit(self.batch)
                )
                rows = [dict(r._mapping) for r in await conn.execute(query)]
            done = 0
            for row in rows:
                if await self._fire(row):
                    async with self.engine.begin() as conn:
                        await cancel(conn, row["id"])
                    done += 1
            settled += done
            if len(rows) < self.batch or done == 0:
                self.fired += settled
                return settled

    async def _fire(self, row: Mapping[str, Any]) -> bool:
        handler = self.handlers.get(row["kind"])
        if handler is None:
            log.warning("no handler for timer kind %s; kept", row["kind"])
            return False
        try:
            return await handler(row["key"], json.loads(row["payload"]))
        except Exception:
            log.exception("timer %s failed; it will be retried", row["id"])
            return False

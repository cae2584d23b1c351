"""Durable timers that fire once: kept in the database, fired by one leader at a time.

Reusable by anything that must act at a time (SLA deadlines, invitation expiry, ...):

    timers = Timers(engine)                        # the `timers` table (migration 0008)
    await timers.schedule("sla:<case>:resolution:1:breach", "sla", due_at, {"...": 1})
    runner = TimerRunner(timers, clock, {"sla": handle})
    await runner.run(engine, schema)               # leads (advisory lock "timers"), fires

Contract:
- `schedule(key, ...)` is an upsert: a pending (or cancelled) timer with that key moves
  to the new time and payload, pending again; a key that has fired is never scheduled
  again. So a caller may schedule the same timer as often as it likes (after a restart,
  say), and cancel and schedule it again (a paused deadline resumed).
- A due timer is handed to its kind's handler, then marked fired. Fired means: the
  handler returned. A leader that dies (kill -9, a lost database connection) between
  the two leaves it pending, and the next leader hands it over again: delivery is at
  least once, so a handler makes its effect idempotent with `Timer.idempotency_key`
  (the event store's idempotency keys do exactly that: the second append appends
  nothing), and the effect then happens exactly once.
- Only a leader fires (`run` takes the named leadership of `projections.leader`, or the
  caller holds its own and calls `serve`). A timer moved while its handler ran stays
  pending at its new time. A handler that raises is retried after `retry_seconds`.
- The clock is injected (`app.service.clock`): tests use `ManualClock` and never sleep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.service.clock import Clock
from projections.leader import lead_forever

__all__ = ["Timer", "TimerRunner", "Timers", "timers_table"]

log = logging.getLogger(__name__)

metadata = sa.MetaData()
timers_table = sa.Table(
    "timers",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("due_at", sa.Float(), nullable=False),  # Unix seconds
    sa.Column("payload", sa.Text(), nullable=False),  # JSON
    sa.Column("state", sa.Text(), nullable=False),  # pending | fired | cancelled
    sa.Column("fired_at", sa.Float(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
)

PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"


@dataclass(frozen=True, slots=True)
class Timer:
    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int = 0

    @property
    def idempotency_key(self) -> str:
        """What a handler keys its effect with (same for every delivery of this timer)."""
        return f"timer:{self.key}"


Handler = Callable[[Timer], Awaitable[None]]


def _ts(when: datetime) -> float:
    return when.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Timers:
    """The timers table: schedule, cancel, and what is due."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        #: Called after every schedule (a local runner wakes up to recompute its sleep).
        self.on_schedule: Callable[[], None] | None = None

    async def schedule(
        self, key: str, kind: str, due_at: datetime, payload: Mapping[str, Any] | None = None
    ) -> None:
        await self.schedule_many(kind, [(key, due_at, payload or {})])

    async def schedule_many(
        self, kind: str, timers: Sequence[tuple[str, datetime, Mapping[str, Any]]]
    ) -> None:
        """`schedule` for each `(key, due_at, payload)` of one kind, in one transaction."""
        if not timers:
            return
        insert = (postgresql if self.engine.dialect.name == "postgresql" else sqlite).insert
        async with self.engine.begin() as conn:
            for start in range(0, len(timers), 1000):
                rows = [
                    {
                        "key": key,
                        "kind": kind,
                        "due_at": _ts(due_at),
                        "payload": json.dumps(dict(payload), sort_keys=True),
                        "state": PENDING,
                        "attempts": 0,
                    }
                    for key, due_at, payload in timers[start : start + 1000]
                ]
                statement = insert(timers_table).values(rows)
                statement = statement.on_conflict_do_update(
                    index_elements=["key"],
                    set_={
                        "kind": statement.excluded.kind,
                        "due_at": statement.excluded.due_at,
                        "payload": statement.excluded.payload,
                        "state": PENDING,
                    },
                    where=timers_table.c.state != FIRED,
                )
                await conn.execute(statement)
        if self.on_schedule is not None:
            self.on_schedule()

    async def cancel(self, key: str) -> bool:
        """True when a pending timer was cancelled."""
        async with self.engine.begin() as conn:
            done = await conn.execute(
                timers_table.update()
                .where(timers_table.c.key == key, timers_table.c.state == PENDING)
                .values(state=CANCELLED)
            )
        return bool(done.rowcount)

    async def get(self, key: str) -> tuple[Timer, str] | None:
        """The timer and its state (tests, tools)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(timers_table).where(timers_table.c.key == key))
            ).first()
        return None if row is None else (_timer(row), row.state)

    async def due(self, now: datetime, limit: int = 100) -> list[Timer]:
        t = timers_table.c
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(timers_table)
                .where(t.state == PENDING, t.due_at <= _ts(now))
                .order_by(t.due_at, t.key)
                .limit(limit)
            )
            return [_timer(row) for row in rows]

    async def next_due(self) -> datetime | None:
        t = timers_table.c
        async with self.engine.connect() as conn:
            found = await conn.scalar(sa.select(sa.func.min(t.due_at)).where(t.state == PENDING))
        return None if found is None else _dt(float(found))

    async def mark_fired(self, timer: Timer, now: datetime) -> bool:
        """Fired, unless it was moved (or cancelled) meanwhile."""
        t = timers_table.c
        async with self.engine.begin() as conn:
            done = await conn.execute(
                timers_table.update()
                .where(t.key == timer.key, t.state == PENDING, t.due_at == _ts(timer.due_at))
                .values(state=FIRED, fired_at=_ts(now))
            )
        return bool(done.rowcount)

    async def postpone(self, timer: Timer, until: datetime) -> None:
        """After a failed delivery: due again at `until`, one more attempt counted."""
        t = timers_table.c
        async with self.engine.begin() as conn:
            await conn.execute(
                timers_table.update()
                .where(t.key == timer.key, t.state == PENDING, t.due_at == _ts(timer.due_at))
                .values(due_at=_ts(until), attempts=t.attempts + 1)
            )


def _timer(row: Any) -> Timer:
    return Timer(row.key, row.kind, _dt(float(row.due_at)), json.loads(row.payload), row.attempts)


class TimerRunner:
    """Fires due timers through their kind's handler (see the module docstring)."""

    def __init__(
        self,
        timers: Timers,
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        batch: int = 100,
        retry_seconds: float = 5.0,
    ) -> None:
        self.timers = timers
        self.clock = clock
        self.handlers = dict(handlers)
        self.batch = batch
        self.retry_seconds = retry_seconds
        self.fired = 0  # handlers that returned (a metric)
        self.failed = 0
        self._wake = asyncio.Event()
        timers.on_schedule = self.wake

    def wake(self) -> None:
        self._wake.set()

    async def fire_due(self) -> int:
        """Hand every timer due now to its handler; how many fired."""
        count = 0
        while True:
            now = self.clock.now()
            due = await self.timers.due(now, self.batch)
            for timer in due:
                handler = self.handlers.get(timer.kind)
                if handler is None:  # another build's kind: leave it for that build
                    log.warning("no handler for timer kind %r (%s)", timer.kind, timer.key)
                    await self.timers.postpone(timer, _later(now, 3600))
                    continue
                try:
                    await handler(timer)
                except Exception:
                    self.failed += 1
                    log.exception("timer %s failed; retried in %ss", timer.key, self.retry_seconds)
                    await self.timers.postpone(timer, _later(now, self.retry_seconds))
                    continue
                await self.timers.mark_fired(timer, self.clock.now())
                self.fired += 1
                count += 1
            if len(due) < self.batch:
                return count

    async def serve(self) -> None:
        """Fire forever (the caller leads)."""
        while True:
            self._wake.clear()
            await self.fire_due()
            await self.clock.sleep_until(await self.timers.next_due(), self._wake)

    async def run(self, engine: AsyncEngine, schema: str | None, name: str = "timers") -> None:
        """Lead `name` and serve; lead again after losing it; until cancelled."""
        await lead_forever(engine, schema, name, self.serve, retry=self.retry_seconds)


def _later(now: datetime, seconds: float) -> datetime:
    return _dt(_ts(now) + seconds)

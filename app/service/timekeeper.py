"""One timer runner per process, for every part that acts at a time.

A *timer part* schedules durable timers from the log and handles their kinds: the SLA
engine (`app.service.sla_engine`, kind "sla") and invitation expiry
(`app.service.expiry`, kind "invitation-expiry"). `Timekeeper` holds the one `Timers`
table and the one `TimerRunner` of the process with every part's handlers, and leads
them together under the leadership "timers" (`projections.leader.lead_forever`): one
PostgreSQL connection (or lock file) for all of them, where each part used to lead its
own. While this process leads:

1. each part's `prepare()` runs, in the order added (the SLA engine replays the log to
   its tracked position and schedules its running clocks), then
2. the runner fires due timers while each part's `follow()` follows the log (scheduling
   and cancelling timers). A part that fails (or a runner that does) ends the
   leadership: everything stops and starts over after `retry` seconds, from `prepare`.

A part's state (the SLA engine's tracker) lives only while its process leads, and its
timers are fired only by the runner that leads with it: that is why the parts and the
runner share one leadership. The runner reads only the kinds it handles, so a process
configured without a part (no SLA engine where the projector is off) leaves that part's
timers pending for one that has it; processes that may lead the timers should run the
same parts (the same `SWARMDESK_OUTCOMES_ENABLED` / `SWARMDESK_PROJECTOR_ENABLED`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from app.service.clock import Clock
from app.service.timers import Handler, TimerRunner, Timers
from projections.leader import lead_forever

__all__ = ["NAME", "Timekeeper", "TimerPart"]

log = logging.getLogger(__name__)

NAME = "timers"


class TimerPart(Protocol):
    """What the timekeeper leads (see the module docstring)."""

    def timer_handlers(self) -> Mapping[str, Handler]:
        """The kinds this part schedules, each with its handler."""

    async def prepare(self) -> None:
        """Once per leadership, before any timer fires."""

    async def follow(self) -> None:
        """While leading, until cancelled; raising ends the leadership."""

    def set_leading(self, leading: bool) -> None:
        """Told when this process starts and stops leading the timers."""


class Timekeeper:
    """The process's timers and their runner (see the module docstring)."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        schema: str | None = None,
        retry: float = 1.0,
        retry_seconds: float = 5.0,
    ) -> None:
        self.engine = engine
        self.schema = schema
        self.retry = retry
        self.clock = clock
        self.timers = Timers(engine)
        self.runner = TimerRunner(self.timers, clock, {}, retry_seconds=retry_seconds)
        self.parts: list[TimerPart] = []
        self.leading = False

    def add(self, part: TimerPart) -> None:
        """Lead `part` with the runner, which fires its kinds (a kind has one part)."""
        for kind, handler in part.timer_handlers().items():
            self.runner.register(kind, handler)
        self.parts.append(part)

    @property
    def kinds(self) -> Sequence[str]:
        return sorted(self.runner.handlers)

    async def run(self) -> None:
        """Lead "timers", run the parts and the runner, lead again after any failure;
        until cancelled."""
        await lead_forever(
            self.engine, self.schema, NAME, self._while_leading, retry=self.retry,
            leading=self._leading,
        )  # fmt: skip

    def _leading(self, leading: bool) -> None:
        self.leading = leading
        for part in self.parts:
            part.set_leading(leading)

    async def _while_leading(self) -> None:
        for part in self.parts:
            await part.prepare()
        tasks = [asyncio.create_task(self.runner.serve(), name="timers-runner")]
        tasks += [
            asyncio.create_task(part.follow(), name=f"timers-{type(part).__name__}")
            for part in self.parts
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        error = next((r for r in results if isinstance(r, Exception)), None)
        raise error or RuntimeError("a timer part stopped: leading the timers again")

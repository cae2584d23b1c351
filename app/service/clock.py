"""The time as the service sees it, injectable so that tests never sleep.

`Clock.now()` is an aware UTC `datetime`; `Clock.sleep_until(when, wake)` returns when
`when` is reached or `wake` is set, whichever comes first. `SystemClock` is the real one;
`ManualClock` stands still until a test moves it with `advance` or `set`, which wakes
every sleeper whose time has come (no real waiting anywhere).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event) -> None:
        """Until `when` (None: until woken) or `wake` is set."""


class SystemClock:
    def __init__(self, max_sleep: float = 60.0, skew: float = 0.0) -> None:
        self.max_sleep = max_sleep  # a bound, so a clock jump is noticed within it
        self.skew = timedelta(seconds=skew)  # ahead of the system's time (tests)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.skew

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event) -> None:
        seconds = self.max_sleep
        if when is not None:
            seconds = min(max((when - self.now()).total_seconds(), 0.0), self.max_sleep)
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), seconds)


class ManualClock:
    """A clock a test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._sleepers: list[tuple[datetime | None, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    async def advance(self, seconds: float) -> None:
        await self.set(self._now + timedelta(seconds=seconds))

    async def set(self, when: datetime) -> None:
        """Move to `when`; sleepers whose time has come wake (and run) before it returns."""
        self._now = when
        due = [f for t, f in self._sleepers if t is not None and t <= when]
        self._sleepers = [(t, f) for t, f in self._sleepers if f not in due]
        for future in due:
            if not future.done():
                future.set_result(None)
        await asyncio.sleep(0)

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event) -> None:
        if wake.is_set() or (when is not None and when <= self._now):
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((when, future))
        waker: asyncio.Future[None] = asyncio.ensure_future(_woken(wake))
        try:
            await asyncio.wait((future, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            self._sleepers = [(t, f) for t, f in self._sleepers if f is not future]


async def _woken(wake: asyncio.Event) -> None:
    await wake.wait()

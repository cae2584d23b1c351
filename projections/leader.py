"""Leadership: one projector (one timer runner, ...) per database.

PostgreSQL: `pg_try_advisory_lock(key)` on a dedicated connection held for as long as
the projector runs; the key derives from the schema, so test schemas do not contend.
When the holder dies its session ends, the lock is released, and a waiting process
(retrying every `retry` seconds, also while the database cannot be reached) takes
over. The holder checks its connection every `check` seconds: when it is gone (a
database restart ends the session, and the lock with it), the `lost` event the
context yields is set, so the holder stops at once.
SQLite: an exclusive, non-blocking `flock` on `<database file>.views.lock`, released by
the OS when the holder dies (never lost while held).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


def lock_key(schema: str | None, name: str = "views") -> int:
    digest = hashlib.blake2b(f"swarmdesk-{name}:{schema or ''}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.asynccontextmanager
async def leadership(
    engine: AsyncEngine,
    schema: str | None,
    retry: float = 1.0,
    check: float = 1.0,
    *,
    name: str = "views",
) -> AsyncIterator[asyncio.Event]:
    """Wait (retrying) until this process leads; leads until the context exits or the
    event it yields is set (the leadership was lost). `name`: what is led (the views,
    the SLA engine, ...): each name has its own lock."""
    if engine.dialect.name == "postgresql":
        async with _pg_lock(engine, lock_key(schema, name), retry, check) as lost:
            yield lost
        return
    database = engine.url.database or ""
    async with _file_lock(f"{database}.{name}.lock", retry):
        yield asyncio.Event()


@contextlib.asynccontextmanager
async def _pg_lock(
    engine: AsyncEngine, key: int, retry: float, check: float
) -> AsyncIterator[asyncio.Event]:
    while True:  # a database that cannot be reached is one more reason to wait
        try:
            conn = await engine.connect()
        except Exception as exc:
            log.warning("projector cannot try to lead (%s); again in %g s", exc, retry)
            await asyncio.sleep(retry)
            continue
        try:
            got = await conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            if got.scalar():
                await conn.commit()
                break
            await conn.rollback()
        except Exception as exc:
            log.warning("projector cannot try to lead (%s); again in %g s", exc, retry)
            with contextlib.suppress(Exception):
                await conn.invalidate()
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.close()
            raise
        with contextlib.suppress(Exception):
            await conn.close()
        await asyncio.sleep(retry)
    lost = asyncio.Event()
    stop = asyncio.Event()

    async def watch() -> None:
        # never cancelled mid-query (that would leave the connection unusable): it is
        # told to stop between checks, and a check that hangs counts as the lock lost
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), check)
            if stop.is_set():
                return
            try:
                await asyncio.wait_for(conn.execute(sa.text("SELECT 1")), max(5.0, 5 * check))
                await conn.commit()
            except Exception:  # the session (and so the lock) is gone, or frozen
                lost.set()
                return

    watcher = asyncio.create_task(watch(), name="projector-leadership-check")
    try:
        yield lost
    finally:
        stop.set()
        await asyncio.wait({watcher})
        if lost.is_set():  # a connection in an unknown state never goes back to the pool
            with contextlib.suppress(Exception):
                await conn.invalidate()
        else:
            with contextlib.suppress(Exception):
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
        with contextlib.suppress(Exception):
            await conn.close()


@contextlib.asynccontextmanager
async def _file_lock(path: str, retry: float) -> AsyncIterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(retry)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def lead_forever(
    engine: AsyncEngine,
    schema: str | None,
    name: str,
    body: Callable[[], Coroutine[Any, Any, None]],
    *,
    retry: float = 1.0,
    leading: Callable[[bool], None] = lambda _: None,
) -> None:
    """Lead `name`, run `body` while leading, and lead again when the leadership is
    lost or `body` fails (logged, after `retry` seconds); until cancelled. `leading` is
    told when this process starts and stops leading."""
    while True:
        try:
            async with leadership(engine, schema, retry, name=name) as lost:
                leading(True)
                tasks = [
                    asyncio.create_task(body(), name=f"{name}-body"),
                    asyncio.create_task(lost.wait(), name=f"{name}-leadership"),
                ]
                try:
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    leading(False)
                    for task in tasks:
                        task.cancel()
                    results = await asyncio.gather(*tasks, return_exceptions=True)
                error = next((r for r in results if isinstance(r, Exception)), None)
                if error is not None:
                    raise error
        except Exception:
            log.exception("%s failed or lost its leadership; leading again", name)
            await asyncio.sleep(retry)


class Follower:
    """A follower of the log that others may wait for: `wait_for` waits until `position`
    reaches a given position (`_advanced` is notified whenever it moves); `leading` says
    whether this process leads it. The SLA engine (led with the timers, by
    `app.service.timekeeper`) and the KPI projection (`LeadingFollower`)."""

    position: int
    leading: bool
    _advanced: asyncio.Condition

    async def wait_for(self, position: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True once `position` (what was read and decided) reaches the given one."""
        async with self._advanced:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._advanced.wait_for(lambda: self.position >= position), timeout
                )
        return self.position >= position


class LeadingFollower(Follower):
    """A `Follower` led by name, one process at a time (`lead_forever`): `run` leads
    `lead_name` and runs `_while_leading` until cancelled."""

    lead_name: ClassVar[str]
    engine: AsyncEngine
    schema: str | None
    retry: float

    async def run(self) -> None:
        """Lead, work, lead again after any failure; until cancelled."""
        await lead_forever(
            self.engine,
            self.schema,
            self.lead_name,
            self._while_leading,
            retry=self.retry,
            leading=self._leading,
        )

    def _leading(self, leading: bool) -> None:
        self.leading = leading

    async def _while_leading(self) -> None:
        raise NotImplementedError

"""Durable timers (`app.service.timers`) on both backends: due timers fire once, moved
ones at their new time, fired ones never again; two runners on one database fire each
timer once; a runner killed with SIGKILL mid-handler is replaced by the next leader,
which fires what is due, and the effect (keyed by `Timer.idempotency_key`) happens once.
The clock is a `ManualClock` wherever the test decides the time: nothing sleeps."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.service.clock import ManualClock, SystemClock
from app.service.timers import Timer, TimerRunner, Timers
from projections.db import create_views_engine
from tests.conftest import Database

ROOT = Path(__file__).resolve().parents[2]


async def eventually(check: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
    """Poll `check` (without asserting: the caller asserts what it needs)."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.05) + 1):
        if check() or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


async def _effects_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("CREATE TABLE IF NOT EXISTS timer_effects (key TEXT PRIMARY KEY, n INT)")
        )


async def test_due_timers_fire_once_in_due_order(database: Database) -> None:
    engine = create_views_engine(database.url, schema=database.schema)
    clock = ManualClock()
    timers = Timers(engine)
    calls: list[str] = []

    async def handle(timer: Timer) -> None:
        calls.append(timer.key)

    runner = TimerRunner(timers, clock, {"t": handle})
    t0 = clock.now()
    await timers.schedule("b", "t", t0 + timedelta(minutes=2), {"n": 2})
    await timers.schedule("a", "t", t0 + timedelta(minutes=1), {"n": 1})
    await timers.schedule("c", "t", t0 + timedelta(minutes=10))
    await timers.schedule("gone", "t", t0 + timedelta(minutes=1))
    assert await timers.cancel("gone")
    assert await runner.fire_due() == 0
    await clock.advance(120)
    assert await runner.fire_due() == 2
    assert calls == ["a", "b"]
    # moved: "c" to later; a fired timer is never scheduled again
    await timers.schedule("c", "t", t0 + timedelta(minutes=30))
    await timers.schedule("a", "t", t0 + timedelta(minutes=3))
    await clock.advance(20 * 60)
    assert await runner.fire_due() == 0
    await clock.advance(10 * 60)
    assert await runner.fire_due() == 1
    assert calls == ["a", "b", "c"]
    found = await timers.get("a")
    assert found is not None
    assert found[1] == "fired"
    assert (await timers.get("gone") or (None, ""))[1] == "cancelled"
    assert await timers.next_due() is None
    # a cancelled timer may be scheduled again (a paused deadline resumed)
    await timers.schedule("gone", "t", clock.now() + timedelta(minutes=1))
    await clock.advance(60)
    assert await runner.fire_due() == 1
    assert calls == ["a", "b", "c", "gone"]
    await engine.dispose()


async def test_a_failing_handler_is_retried_later(database: Database) -> None:
    engine = create_views_engine(database.url, schema=database.schema)
    clock = ManualClock()
    timers = Timers(engine)
    attempts: list[int] = []

    async def flaky(timer: Timer) -> None:
        attempts.append(timer.attempts)
        if len(attempts) == 1:
            raise RuntimeError("first delivery fails")

    runner = TimerRunner(timers, clock, {"t": flaky}, retry_seconds=30)
    await timers.schedule("x", "t", clock.now())
    assert await runner.fire_due() == 0
    await clock.advance(29)
    assert await runner.fire_due() == 0
    await clock.advance(1)
    assert await runner.fire_due() == 1
    assert attempts == [0, 1]
    await engine.dispose()


async def test_a_kind_without_a_handler_here_stays_pending_at_its_time(
    database: Database,
) -> None:
    engine = create_views_engine(database.url, schema=database.schema)
    clock = ManualClock()
    timers = Timers(engine)
    calls: list[str] = []

    async def handle(timer: Timer) -> None:
        calls.append(timer.key)

    runner = TimerRunner(timers, clock, {"mine": handle})
    due = clock.now() + timedelta(minutes=1)
    await timers.schedule("theirs", "other-build", due)
    await timers.schedule("ours", "mine", due + timedelta(minutes=1))
    assert await timers.next_due(runner.handlers) == due + timedelta(minutes=1)
    await clock.advance(300)
    assert await runner.fire_due() == 1
    assert calls == ["ours"]
    found = await timers.get("theirs")
    assert found is not None
    assert (found[0].due_at, found[0].attempts, found[1]) == (due, 0, "pending")  # untouched
    assert await timers.next_due(runner.handlers) is None  # nothing for this runner to wait on
    # a runner that handles it fires it at once
    other = TimerRunner(timers, clock, {"other-build": handle})
    assert await other.fire_due() == 1
    assert calls == ["ours", "theirs"]
    await engine.dispose()


async def test_serve_wakes_on_the_manual_clock_without_sleeping(database: Database) -> None:
    engine = create_views_engine(database.url, schema=database.schema)
    clock = ManualClock()
    timers = Timers(engine)
    fired = asyncio.Event()

    async def handle(timer: Timer) -> None:
        fired.set()

    runner = TimerRunner(timers, clock, {"t": handle})
    serving = asyncio.create_task(runner.serve())
    try:
        await timers.schedule("later", "t", clock.now() + timedelta(hours=5))
        await asyncio.sleep(0.2)
        assert not fired.is_set()
        await clock.advance(5 * 3600)
        await asyncio.wait_for(fired.wait(), 10)
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await engine.dispose()


async def test_two_runners_fire_each_timer_once(database: Database) -> None:
    engines = [create_views_engine(database.url, schema=database.schema) for _ in range(2)]
    await _effects_table(engines[0])
    clock = ManualClock()
    calls: Counter[str] = Counter()

    def handler(engine: AsyncEngine, who: str) -> object:
        async def handle(timer: Timer) -> None:
            calls[timer.key] += 1
            calls[who] += 1

        return handle

    runners = [
        TimerRunner(Timers(e), clock, {"t": handler(e, f"runner{i}")})  # type: ignore[dict-item]
        for i, e in enumerate(engines)
    ]
    for n in range(20):
        await runners[0].timers.schedule(f"k{n}", "t", clock.now() + timedelta(seconds=n))
    tasks = [
        asyncio.create_task(r.run(e, database.schema, name="timers-test"))
        for r, e in zip(runners, engines, strict=True)
    ]
    try:
        await clock.advance(60)
        for r in runners:
            r.wake()
        await eventually(lambda: sum(calls[f"k{n}"] for n in range(20)) >= 20, 20)
        await asyncio.sleep(0.3)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for e in engines:
            await e.dispose()
    assert all(calls[f"k{n}"] == 1 for n in range(20)), calls
    assert sorted([calls["runner0"], calls["runner1"]]) == [0, 20]  # one leader fired all


SCRIPT = textwrap.dedent("""
    import asyncio, sys
    import sqlalchemy as sa
    from app.service.clock import SystemClock
    from app.service.timers import TimerRunner, Timers
    from projections.db import create_views_engine

    async def main(url, schema):
        engine = create_views_engine(url, schema=schema or None)

        async def handle(timer):
            async with engine.begin() as conn:  # the effect, keyed: happens once
                await conn.execute(sa.text(
                    "INSERT INTO timer_effects (key, n) VALUES (:k, 1) ON CONFLICT (key) "
                    "DO UPDATE SET n = timer_effects.n"), {"k": timer.idempotency_key})
            if timer.key == "k3":
                print("HANGING", flush=True)
                await asyncio.sleep(3600)  # killed here: k3's effect done, not marked

        runner = TimerRunner(Timers(engine), SystemClock(max_sleep=0.2), {"t": handle})
        await runner.run(engine, schema or None, name="timers-kill")

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


def _spawn(database: Database, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", SCRIPT, database.url, database.schema or ""],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_after_kill_9_the_next_leader_fires_what_is_due_once(database: Database) -> None:
    engine = create_views_engine(database.url, schema=database.schema)
    await _effects_table(engine)
    timers = Timers(engine)
    now = SystemClock().now()
    for n in range(6):
        await timers.schedule(f"k{n}", "t", now - timedelta(seconds=60 - n))
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"timers-kill-{os.getpid()}.log"
    child = _spawn(database, log)
    try:
        await eventually(lambda: "HANGING" in log.read_text(), 60)
        assert "HANGING" in log.read_text(), log.read_text()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        states = {n: (await timers.get(f"k{n}") or (None, ""))[1] for n in range(6)}
        assert states == {
            0: "fired",
            1: "fired",
            2: "fired",
            3: "pending",
            4: "pending",
            5: "pending",
        }
        delivered: Counter[str] = Counter()

        async def handle(timer: Timer) -> None:
            delivered[timer.key] += 1
            async with engine.begin() as conn:
                await conn.execute(
                    sa.text(
                        "INSERT INTO timer_effects (key, n) VALUES (:k, 1) ON CONFLICT (key) "
                        "DO UPDATE SET n = timer_effects.n"
                    ),
                    {"k": timer.idempotency_key},
                )

        runner = TimerRunner(Timers(engine), ManualClock(now), {"t": handle})
        leading = asyncio.create_task(runner.run(engine, database.schema, name="timers-kill"))
        try:
            await eventually(lambda: runner.fired >= 3, 30)
        finally:
            leading.cancel()
            await asyncio.gather(leading, return_exceptions=True)
        assert delivered == Counter({"k3": 1, "k4": 1, "k5": 1})
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT key, n FROM timer_effects"))).all()
        assert sorted(rows) == [(f"timer:k{n}", 1) for n in range(6)]
        assert await timers.next_due() is None
    finally:
        if child.poll() is None:
            child.kill()
        await engine.dispose()

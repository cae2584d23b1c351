"""Two projector processes on one database (PostgreSQL advisory lock; SQLite file lock):
only the lock holder projects; after
the holder is killed with SIGKILL the other takes over, and no event is applied twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import sqlalchemy as sa

from app.store import EventStore
from projections.db import create_views_engine
from tests.conftest import Database
from tests.views_support import actor, append, briefing_case

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from app.store.codec import create_mapper, decode
    from app.store import create_store
    from projections.db import create_views_engine
    from projections.projector import Projector

    async def main(url, schema):
        store = create_store(url, schema=schema)
        await store.start()
        mapper = create_mapper()
        projector = Projector(create_views_engine(url, schema=schema), store.subscribe,
                              lambda r: decode(mapper, r), schema=schema, retry=0.2)
        task = asyncio.create_task(projector.run())
        while not projector.leading:
            await asyncio.sleep(0.05)
        print("LEADING", flush=True)
        await task

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


def _wait_leading(log: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "LEADING" in log.read_text():
            return True
        time.sleep(0.05)
    return False


async def _counts(database: Database) -> tuple[int, int, int]:
    engine = create_views_engine(database.url, schema=database.schema)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.text(
                        "SELECT count(*), count(DISTINCT position), "
                        "coalesce((SELECT position FROM tracking "
                        "WHERE application_name='views'), 0) "
                        "FROM view_changes WHERE view = 'case'"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return int(row[0]), int(row[1]), int(row[2])


async def test_takeover_after_sigkill(
    database: Database, store: EventStore, tmp_path: Path
) -> None:
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _spawn(database, first_log)
    second: subprocess.Popen[bytes] | None = None
    try:
        assert _wait_leading(first_log, 20), first_log.read_text()
        second = _spawn(database, second_log)
        owner, expert, other = actor("Olga"), actor("Ed"), actor("Otto")
        case_a = briefing_case(owner, expert, other)
        last = await append(store, case_a)
        deadline = time.monotonic() + 20
        while (await _counts(database))[2] < last and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        assert (await _counts(database))[2] == last
        assert "LEADING" not in second_log.read_text()  # the second one waits
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert _wait_leading(second_log, 20), second_log.read_text()
        case_b = briefing_case(owner, expert, other)
        last = await append(store, case_b)
        deadline = time.monotonic() + 20
        while (await _counts(database))[2] < last and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        total, distinct, tracked = await _counts(database)
        assert tracked == last
        assert total == distinct == case_a.version + case_b.version  # each event once
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)

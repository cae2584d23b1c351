"""The SLA engine across a kill -9, on real servers sharing one PostgreSQL database.

Server A leads the SLA engine with its clock 40 minutes ahead: a case opened now has
its first-response warning (at 30 of 60 minutes) due, and A records it. A checkpoints
(its state and position in one transaction), then dies by SIGKILL. Server B, its clock
two hours ahead, takes the lead, resumes from A's checkpoint (replaying no event before
it) and fires what is now due, the breach, once; the warning is not recorded again.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa

from app.store import create_store
from app.store.codec import create_mapper
from domain import Role
from projections.db import create_views_engine
from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.postgres

POLICY: dict[str, Any] = {
    "name": "Around the clock",
    "warn_share": 0.5,
    "targets": [
        {"target": "first_response", "minutes": 60},
        {"target": "resolution", "minutes": 600},
    ],
}
SLA = {
    "SlaClockStarted",
    "SlaWarned",
    "SlaBreached",
    "SlaMet",
    "SlaPaused",
    "SlaResumed",
    "SwarmUrgencyRaised",
}


async def _sla_names(server: Server, case_id: UUID) -> list[str]:
    store = create_store(server.database_url, schema=server.schema)
    await store.start()
    try:
        rows = await store.read_stream(case_id)
    finally:
        await store.close()
    mapper = create_mapper()
    names = [type(mapper.to_domain_event(r.to_stored_event())).__name__ for r in rows]
    return [n for n in names if n in SLA]


async def _checkpoint(server: Server) -> tuple[int, set[str]]:
    """The SLA engine's tracked position and the keys of its checkpoint."""
    engine = create_views_engine(server.database_url, schema=server.schema)
    try:
        async with engine.connect() as conn:
            position = (
                await conn.execute(
                    sa.text("SELECT position FROM tracking WHERE application_name = 'sla'")
                )
            ).scalar()
            keys = set((await conn.execute(sa.text("SELECT key FROM sla_checkpoint"))).scalars())
    finally:
        await engine.dispose()
    return int(position or 0), keys


async def _until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


async def _head(server: Server) -> int:
    store = create_store(server.database_url, schema=server.schema)
    await store.start()
    try:
        return await store.max_position()
    finally:
        await store.close()


INFO: dict[str, Any] = {"SWARMDESK_LOG_LEVEL": "info"}


@pytest.fixture
def server_a(tmp_path: Path) -> Iterator[Server]:
    """Its own database (migrated and dropped outside the test's event loop)."""
    (tmp_path / "a").mkdir()
    with running_server(
        "postgres", tmp_path / "a", SWARMDESK_OUTCOMES_SKEW_SECONDS=str(40 * 60), **INFO
    ) as a:
        yield a


async def test_after_a_kill_9_the_next_leader_fires_what_is_due_once(
    server_a: Server, tmp_path: Path
) -> None:
    a = server_a
    admin = a.headers("root", Role.ADMIN)
    async with httpx.AsyncClient(base_url=a.base_url, timeout=20) as http:
        r = await http.post("/api/sla/policies", json=POLICY, headers=admin)
        assert r.status_code == 201, r.text
        r = await http.post(
            "/api/cases", json={"customer": "Acme", "subject": "Down"}, headers=a.headers("o")
        )
        assert r.status_code == 201, r.text
        case_id = UUID(r.json()["case_id"])

    async def warned() -> bool:
        return "SlaWarned" in await _sla_names(a, case_id)

    await _until(warned, 30, "server A records the warning")

    async def checkpointed() -> bool:
        position, keys = await _checkpoint(a)
        return position >= await _head(a) and str(case_id) in keys

    await _until(checkpointed, 30, "server A checkpoints past its own facts")
    assert a.process is not None
    a.process.send_signal(signal.SIGKILL)
    a.process.wait(10)
    assert a.process.returncode == -signal.SIGKILL
    at_kill, _ = await _checkpoint(a)
    assert await _sla_names(a, case_id) == [
        "SlaClockStarted",
        "SlaClockStarted",
        "SlaWarned",
        "SwarmUrgencyRaised",
    ]
    a.process = None

    (tmp_path / "b").mkdir()
    with running_server(
        "postgres",
        tmp_path / "b",
        share=a,
        SWARMDESK_OUTCOMES_SKEW_SECONDS=str(2 * 3600),
        **INFO,
    ) as b:

        async def breached() -> bool:
            return "SlaBreached" in await _sla_names(b, case_id)

        await _until(breached, 60, "server B records the breach")
        await _until(checkpointed, 30, "server B checkpoints past its own facts")
        await asyncio.sleep(1.5)  # one more checkpoint and timer round: nothing new
        assert await _sla_names(b, case_id) == [
            "SlaClockStarted",
            "SlaClockStarted",
            "SlaWarned",
            "SwarmUrgencyRaised",
            "SlaBreached",
            "SwarmUrgencyRaised",
        ]
        resumed = f"the SLA engine leads from position {at_kill} (1 cases checkpointed"
        assert resumed in b.log(), b.log()[-3000:]
        assert "0 events replayed" in b.log()

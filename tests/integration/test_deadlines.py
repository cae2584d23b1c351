"""Deadlines: a command that cannot complete answers 503 with Retry-After within its
deadline (and a retry with its Idempotency-Key answers the first result once it did
commit); `/readyz` reports an appender stuck in one batch; on PostgreSQL every statement
gives up after the statement timeout instead of holding its caller."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.auth.tokens import TokenIssuer
from app.http.app import create_app
from app.settings import CommandSettings, ProjectorSettings, Settings, StoreSettings
from app.store import AppendRequest, StoreUnavailable, create_store
from app.store.migrate import upgrade_async
from app.store.postgres import PostgresEventStore
from domain.actors import Role
from tests.conftest import Database

SECRET = "deadline-secret-key-that-is-long-enough"


async def test_a_stuck_append_answers_503_in_time_and_readyz_says_stuck(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    await upgrade_async(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key=SecretStr(SECRET),
        projector=ProjectorSettings(enabled=False),
        commands=CommandSettings(deadline_seconds=0.3),
        store=StoreSettings(statement_timeout_seconds=0.2),
    )
    store = create_store(url)
    release = asyncio.Event()

    async def frozen(requests: list[AppendRequest]) -> None:
        await release.wait()  # the database does not answer

    store.before_commit = frozen
    api = create_app(settings, store=store)
    headers = {
        "Authorization": f"Bearer {TokenIssuer(SECRET).issue('owner', Role.AGENT)}",
        "Idempotency-Key": "open-once",
    }
    body = {"customer": "Acme", "subject": "Checkout"}
    async with (
        api.router.lifespan_context(api),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t") as http,
    ):
        began = time.monotonic()
        answer = await http.post("/api/cases", headers=headers, json=body)
        took = time.monotonic() - began
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["type"] == "urn:swarmdesk:problem:command-timed-out"
        assert took < 2.0
        await asyncio.sleep(1.3)  # longer than a statement may take
        stuck = await http.get("/readyz")
        assert stuck.status_code == 503
        assert "appender" in stuck.json()["detail"]
        release.set()
        for _ in range(50):
            if (await http.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert (await http.get("/readyz")).status_code == 200
        store.before_commit = None
        retried = await http.post("/api/cases", headers=headers, json=body)
        assert retried.status_code in (200, 201), retried.text
        assert await store.max_position() == 1  # committed once, never twice


@pytest.mark.postgres
async def test_a_statement_gives_up_after_the_statement_timeout(pg_database: Database) -> None:
    store = PostgresEventStore(
        pg_database.url.replace("postgresql+asyncpg://", "postgresql://"),
        schema=pg_database.schema,
        statement_timeout=0.3,
        listen=False,
    )
    async with store:
        began = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store._fetch("SELECT pg_sleep(3)")
        assert time.monotonic() - began < 2.0
        assert await store.max_position() == 0  # and the store still answers

"""Fixtures: one body of test per backend (SQLite file, PostgreSQL schema)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from app.store import EventStore, create_store
from app.store.factory import asyncpg_dsn
from app.store.migrate import upgrade_async
from tests.support import PG_URL, drop_schema_sql, fresh_schema, require_postgres


@dataclass(frozen=True)
class Database:
    """A freshly migrated database: a SQLite file or a PostgreSQL schema."""

    backend: str
    url: str
    schema: str | None = None

    def store(self, **kwargs: object) -> EventStore:
        return create_store(self.url, schema=self.schema, **kwargs)


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[Database]:
    """A fresh PostgreSQL schema, migrated, dropped afterwards."""
    require_postgres()
    schema = fresh_schema()
    await upgrade_async(PG_URL, schema=schema)
    try:
        yield Database("postgres", PG_URL, schema)
    finally:
        conn = await asyncpg.connect(asyncpg_dsn(PG_URL))
        try:
            await conn.execute(drop_schema_sql(schema))
        finally:
            await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'swarmdesk.db'}"
        await upgrade_async(url)
        yield Database("sqlite", url)
        return
    async with postgres_database() as db:
        yield db


@pytest.fixture
async def pg_database() -> AsyncIterator[Database]:
    async with postgres_database() as db:
        yield db


@pytest.fixture
async def store(database: Database) -> AsyncIterator[EventStore]:
    async with database.store() as s:
        yield s

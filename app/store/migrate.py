"""Run the Alembic migrations in `migrations/` (never at service start-up)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations

# `__path__`, not `__file__`: under an editable install `migrations` can load as a
# namespace package (no `__file__`) when the entry point runs outside the repository.
SCRIPTS = Path(next(iter(migrations.__path__)))


def alembic_config(url: str, schema: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


def upgrade(url: str, *, schema: str | None = None, revision: str = "head") -> None:
    """Bring the database (optionally one PostgreSQL schema) up to `revision`."""
    if url.startswith("sqlite"):
        from app.store.factory import sqlite_path

        Path(sqlite_path(url)).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url, schema), revision)


async def upgrade_async(url: str, *, schema: str | None = None) -> None:
    """`upgrade` from async code (Alembic's env runs its own event loop, so a thread)."""
    await asyncio.to_thread(upgrade, url, schema=schema)

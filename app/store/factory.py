"""Build the event store a database URL names."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from app.store.base import EventStore


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://...` (SQLAlchemy's form) as a plain libpq DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database:
        raise ValueError(f"SQLite URL names no file: {url}")
    return database


def create_store(url: str, *, schema: str | None = None, **kwargs: Any) -> EventStore:
    """A `PostgresEventStore` for postgresql URLs, a `SQLiteEventStore` for sqlite ones,
    a `MemoryEventStore` for `memory://` (a private log) or `memory://name` (the log of
    that name and schema, shared by the process's stores that name it: see `app.store.memory`).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        from app.store.postgres import PostgresEventStore

        return PostgresEventStore(asyncpg_dsn(url), schema=schema, **kwargs)
    if backend == "sqlite":
        from app.store.sqlite import SQLiteEventStore

        return SQLiteEventStore(sqlite_path(url), **kwargs)
    if backend == "memory":
        from app.store.memory import MemoryEventStore, named_log

        name = parsed.host or parsed.database
        log = named_log(f"{name}/{schema or ''}") if name else None
        return MemoryEventStore(log, **kwargs)
    raise ValueError(
        f"unsupported database URL {url!r}: use postgresql+asyncpg, sqlite+aiosqlite or memory"
    )

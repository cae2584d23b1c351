"""A SQLAlchemy async engine on the read models, for code that runs without the app's
container (`swarmdesk rebuild`/`verify`, tests, benchmarks). Same settings as the
container's engine: PostgreSQL search_path = the schema; SQLite WAL + busy timeout."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_views_engine(url: str, *, schema: str | None = None, pool_size: int = 5) -> AsyncEngine:
    if url.startswith("postgresql"):
        server_settings = {"application_name": "swarmdesk-views"}
        if schema:
            server_settings["search_path"] = schema
        return create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=10,
            connect_args={"server_settings": server_settings},
        )
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    return engine

"""The composition root: builds every collaborator once, from settings, in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.auth import TokenIssuer
from app.codec import create_mapper
from app.repository import Repository
from app.settings import Settings
from app.store import EventStore, create_store


@dataclass
class Container:
    """Everything a request handler may need; tests build it with replacements."""

    settings: Settings
    store: EventStore
    mapper: Mapper[UUID]
    repository: Repository
    tokens: TokenIssuer
    engine: AsyncEngine
    extras: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


Feature = Callable[[Container], Awaitable[None]]


def features() -> list[Feature]:
    """Start-up steps of the features, in order; each may add to `container.extras`
    and append to `container.closers` (run in reverse order at shutdown)."""
    # One line per feature (add yours here).
    from app.command_setup import setup_commands  # command services + cache (issue 3)
    from app.push.service import start_push  # live push over WebSockets (issue 4)
    from app.views_setup import setup_views  # read models + projector (issue 4)

    return [setup_commands, setup_views, start_push]


@contextlib.asynccontextmanager
async def bootstrap(
    settings: Settings, *, store: EventStore | None = None
) -> AsyncIterator[Container]:
    """Start the store (and what hangs off it); stop everything in reverse order."""
    store = store or create_store(settings.database_url, schema=settings.database_schema)
    await store.start()
    mapper = create_mapper()
    container = Container(
        settings=settings,
        store=store,
        mapper=mapper,
        repository=Repository(store, mapper),
        tokens=TokenIssuer(settings.signing_key(), settings.token_ttl_seconds),
        engine=create_engine(settings),
    )
    try:
        for setup in features():
            await setup(container)
        yield container
    finally:
        for close in reversed(container.closers):
            with contextlib.suppress(Exception):
                await close()
        await container.engine.dispose()
        await store.close()


def create_engine(settings: Settings) -> AsyncEngine:
    """SQLAlchemy's async engine for the read models (same database, same schema)."""
    if settings.is_postgres:
        server_settings = {"application_name": "swarmdesk-views"}
        if settings.database_schema:
            server_settings["search_path"] = settings.database_schema
        return create_async_engine(
            settings.database_url,
            pool_size=10,
            max_overflow=10,
            connect_args={"server_settings": server_settings},
        )
    engine = create_async_engine(settings.database_url, connect_args={"timeout": 30})

    from sqlalchemy import event

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    return engine

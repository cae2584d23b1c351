"""The composition root: builds every collaborator once, from settings, in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth import TokenIssuer
from app.codec import create_mapper
from app.repository import Repository
from app.settings import Settings
from app.store import EventStore, create_store
from projections.db import create_views_engine


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
    return create_views_engine(settings.database_url, schema=settings.database_schema, pool_size=10)

"""Start-up step of the read side: the projector (when `settings.projector`) and the
`Views` collaborator in `container.extras["views"]`."""

from __future__ import annotations

from collections.abc import AsyncIterator

from app.composition import Container
from app.replay_codec import replay_decoder
from app.store.postgres import PostgresEventStore
from app.store.types import RecordedEvent
from projections.projector import Projector
from projections.service import Views


def make_projector(container: Container) -> Projector:
    """A projector fed by the store's subscription, decoding with the app's codec."""
    store = container.store

    def subscribe(after: int) -> AsyncIterator[RecordedEvent]:
        return store.subscribe(after)

    # the replay decoder: identical events (tested), the event class found once per
    # topic; any failure still raises the codec's named `EventDecodeError`. Its UUID cache
    # is kept small here: this process lives long, and a large one only lengthens the
    # full garbage collections that stall every request (see `app.gc_policy`).
    decode_row = replay_decoder(uuid_cache=4_096)

    # PostgreSQL: the projector writes its batches through asyncpg (fewer round trips
    # than through SQLAlchemy), on a connection of its own that commits without waiting
    # for the WAL flush (views are derived: see `Projector.project`).
    store = container.store
    pg = store if isinstance(store, PostgresEventStore) else None
    return Projector(
        container.engine,
        subscribe,
        decode_row,
        schema=container.settings.database_schema,
        pool=pg.pool if pg is not None else None,
        connect=pg.connect_derived if pg is not None else None,
    )


async def setup_views(container: Container) -> None:
    projector = make_projector(container) if container.settings.projector else None
    pool = container.store.pool if isinstance(container.store, PostgresEventStore) else None
    container.extras["views"] = Views(container.engine, projector, pool)
    if projector is not None:
        projector.start()
        container.closers.append(projector.close)

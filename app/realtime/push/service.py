"""The push service: the hub, the change feed and the connection handler of one process."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.realtime.push.feed import ChangeFeed
from app.realtime.push.hub import Hub
from app.realtime.push.presence_relay import PresenceRelay, presence_channel
from app.realtime.push.session import Authenticate, Session
from app.server.stalled import close_stalled
from app.settings import Settings
from app.store import EventStore
from app.store.factory import asyncpg_dsn
from domain.actors import Actor
from projections.changes import can_read_case
from projections.service import Views
from projections.writer import notify_channel, read_tracking


@dataclass(frozen=True, slots=True)
class PushService:
    hub: Hub
    feed: ChangeFeed
    session: Session
    presence: PresenceRelay | None = None  # PostgreSQL: presence across processes


async def start_push(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    *,
    engine: AsyncEngine,
    store: EventStore,
    views: Views,
    authenticate: Authenticate,
    inline: bool = True,
    lean: bool = True,
    stalled_close: bool = True,
) -> PushService:
    """Start the hub and the change feed (closed by `stack`); the feed follows the
    in-process projector's batches directly when there is one."""
    tuning = settings.push

    async def readers(key: str, actors: Sequence[Actor]) -> tuple[set[UUID], int]:
        """The actors (ids) who may still read case `key` (the rule the sockets' own
        start uses), and the position the views had reached before that was read."""
        case_id = UUID(key)
        async with engine.connect() as conn:
            seen = await read_tracking(conn)
            allowed = {a.id for a in actors if await can_read_case(conn, case_id, a)}
        return allowed, seen

    hub = Hub(
        tuning.queue_limit,
        tuning.heartbeat_seconds,
        inline=inline,
        access=readers,
        queue_bytes=tuning.queue_bytes,
        stall_seconds=tuning.stall_seconds,
        close_grace_seconds=tuning.close_grace_seconds,
        force_close=close_stalled if stalled_close else None,
    )
    feed = ChangeFeed(
        engine,
        hub,
        listen_dsn=asyncpg_dsn(settings.database_url) if settings.is_postgres else None,
        poll_seconds=tuning.poll_seconds
        if settings.is_postgres
        else min(tuning.poll_seconds, 0.25),
        channel=notify_channel(settings.database_schema),
    )
    relay: PresenceRelay | None = None
    if settings.is_postgres:
        dsn = asyncpg_dsn(settings.database_url)
        named = {"application_name": "swarmdesk-presence"}
        relay = PresenceRelay(
            lambda: asyncpg.connect(dsn, server_settings=named),
            presence_channel(settings.database_schema),
            interval=tuning.presence_seconds,
        )
        relay.hub = hub
        hub.presence_relay = relay
    await hub.start()
    stack.push_async_callback(hub.close)
    if relay is not None:
        relay.start()
        stack.push_async_callback(relay.close)
    await feed.start()
    stack.push_async_callback(feed.close)
    if views.projector is not None:
        feed.follow_projector(views.projector)

    async def settle() -> None:
        await views.wait_for_position(await store.max_position(), 2.0)

    session = Session(hub, engine, tuning.replay_limit, authenticate, settle, lean=lean)
    return PushService(hub, feed, session, relay)

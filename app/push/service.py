"""The push feature: its settings, its objects, and its start-up step for `features()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.auth import Principal
from app.push.feed import ChangeFeed
from app.push.hub import Hub
from app.push.session import Session
from app.store.factory import asyncpg_dsn
from projections.fold import Change
from projections.writer import notify_channel


class PushSettings(BaseSettings):
    """Tuning (environment prefix ``SWARMDESK_PUSH_``); the defaults suit production."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_PUSH_", extra="ignore")

    queue_limit: int = Field(default=256, ge=1)  # frames a client may lag before 4008
    heartbeat_seconds: float = Field(default=15.0, ge=0)  # 0: no heartbeats
    replay_limit: int = Field(default=1000, ge=0)  # more changes than this: a snapshot
    poll_seconds: float = Field(default=1.0, gt=0)  # feed poll when no wake-up comes


@dataclass
class PushService:
    settings: PushSettings
    hub: Hub
    feed: ChangeFeed
    session: Session
    verify: Callable[[str], Principal]


async def start_push(container: Any) -> None:
    """Start the hub and the change feed; hook the feed to the projector if it runs here."""
    settings = PushSettings()
    hub = Hub(settings.queue_limit, settings.heartbeat_seconds)
    app_settings = container.settings
    feed = ChangeFeed(
        container.engine,
        hub,
        listen_dsn=asyncpg_dsn(app_settings.database_url) if app_settings.is_postgres else None,
        poll_seconds=settings.poll_seconds
        if app_settings.is_postgres
        else min(settings.poll_seconds, 0.25),
        channel=notify_channel(app_settings.database_schema),
    )
    await hub.start()
    container.closers.append(hub.close)
    await feed.start()
    container.closers.append(feed.close)
    _hook_projector(container.extras.get("views"), feed)
    views = container.extras.get("views")

    async def settle() -> None:
        if views is not None:
            await views.wait_for_position(await container.store.max_position(), 2.0)

    session = Session(hub, container.engine, settings.replay_limit, container.tokens.verify, settle)
    container.extras["push"] = PushService(settings, hub, feed, session, container.tokens.verify)


def _hook_projector(views: Any, feed: ChangeFeed) -> None:
    """Hand the in-process projector's commits to the feed (LISTEN/polling cover the rest)."""
    projector = getattr(views, "projector", None)
    if projector is None or not hasattr(projector, "on_committed"):
        return
    previous = projector.on_committed
    feed.attach(lambda: int(projector.position), lambda: int(getattr(projector, "writing", 0)))

    def on_committed(changes: list[Change]) -> None:
        after = getattr(projector, "committed_after", None)
        feed.on_committed(changes, after, int(projector.position) if after is not None else None)
        if previous is not None:
            previous(changes)

    projector.on_committed = on_committed

"""The notifier: the outbox follower and the sender, run by one process at a time (the
"notify" leader). `run()` follows the log into `deliveries` and sends what is due, every
`poll_seconds` or sooner when the outbox planned something."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from eventsourcing.persistence import Mapper
from sqlalchemy.ext.asyncio import AsyncEngine

from app.matching_settings import NotifySettings
from app.notify.outbox import Outbox
from app.notify.sender import Sender
from app.notify.subscriptions import Subscriptions
from app.service.clock import Clock
from app.store import EventStore
from projections.leader import leadership

log = logging.getLogger("swarmdesk.notify")


class Notifier:
    def __init__(
        self,
        store: EventStore,
        engine: AsyncEngine,
        mapper: Mapper[UUID],
        views_position: Callable[[], Awaitable[int]],
        settings: NotifySettings,
        *,
        public_url: str,
        schema: str | None,
        clock: Clock,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.schema = schema
        self.outbox = Outbox(store, engine, mapper, views_position, public_url, clock)
        self.sender = Sender(engine, settings, lambda: clock.now().timestamp())
        self.subscriptions = Subscriptions(engine, [public_url])

    async def follow(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if await self.outbox.follower.step():
                    self.sender.wake.set()
                    continue
            except Exception:
                log.exception("the notification outbox failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.poll_seconds)

    async def run(self) -> None:
        while True:
            try:
                async with leadership(self.engine, self.schema, name="notify") as lost:
                    try:
                        await self.outbox.start()
                        async with asyncio.TaskGroup() as group:
                            group.create_task(self.follow(lost))
                            group.create_task(self._send(lost))
                    finally:
                        await self.sender.close()
                        self.sender = Sender(self.engine, self.settings, self.sender.clock)
            except Exception:  # the database went away: lead again once it is back
                log.exception("the notifier lost its database; retrying")
                await asyncio.sleep(self.settings.poll_seconds)

    async def _send(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sender.run(stop)
            except Exception:
                log.exception("the notification sender failed; retrying")
                await asyncio.sleep(self.settings.poll_seconds)

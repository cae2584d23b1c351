"""Retention: what the service keeps only for a while.

- Idempotency keys are kept `idempotency_hours` (24 by default): a retry within that
  time gets the first result; a retry after it is a new command.
- The push hub's change log (`view_changes`) keeps the newest `keep_changes` positions;
  a client resuming from an older position gets a fresh snapshot instead.

`Retention.run` prunes both every `every_seconds`, in the processes that run the
projector (deletes are idempotent, so several standbys pruning at once is harmless).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import RetentionSettings
from app.store import EventStore
from projections.retention import prune_changes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pruned:
    keys: int
    changes: int


@dataclass(frozen=True, slots=True)
class Retention:
    store: EventStore
    engine: AsyncEngine
    settings: RetentionSettings

    async def prune(self, now: datetime | None = None) -> Pruned:
        """Forget expired idempotency keys and old changes once; what went."""
        now = now or datetime.now(UTC)
        keys = await self.store.expire_keys(now - timedelta(hours=self.settings.idempotency_hours))
        changes = await prune_changes(self.engine, self.settings.keep_changes)
        return Pruned(keys, changes)

    async def run(self) -> None:
        """Prune every `every_seconds` until cancelled; a failure is logged, not fatal."""
        while True:
            await asyncio.sleep(self.settings.every_seconds)
            try:
                pruned = await self.prune()
            except Exception:
                log.exception("retention: pruning failed; trying again later")
                continue
            if pruned.keys or pruned.changes:
                log.info("retention: %d keys and %d changes pruned", pruned.keys, pruned.changes)

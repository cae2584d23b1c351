"""Retention of the change log the push hub replays (`view_changes`).

A client resuming with `?after=P` gets the changes after P when they are still kept,
else a fresh snapshot (`app.realtime.push.session`), so older changes are only a
cache of history that the events themselves keep for ever. `prune_changes` deletes
every change more than `keep` positions behind the newest one, in slices, so each
statement stays short and the table's space is reused by later rows (no `VACUUM FULL`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from projections.tables import view_changes


async def prune_changes(engine: AsyncEngine, keep: int, slice_positions: int = 10_000) -> int:
    """Delete the changes at positions <= newest - `keep`; how many rows went."""
    t = view_changes
    async with engine.connect() as conn:
        newest, oldest = (
            await conn.execute(sa.select(sa.func.max(t.c.position), sa.func.min(t.c.position)))
        ).one()
    if newest is None:
        return 0
    cutoff = int(newest) - keep
    deleted = 0
    low = int(oldest) - 1
    while low < cutoff:
        high = min(low + slice_positions, cutoff)
        async with engine.begin() as conn:
            result = await conn.execute(
                sa.delete(t).where(t.c.position > low, t.c.position <= high)
            )
        deleted += max(result.rowcount or 0, 0)
        low = high
    return deleted

"""Tracking positions by name in the event store's `tracking` table, for log followers
other than the views projector (the SLA engine "sla", the KPI projection "kpis").

`move` is a compare-and-set inside the caller's transaction: it raises `TrackingMoved`
when the row is not at `expected` (another leader moved it), so a follower that lost
its leadership can never write twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from projections.tables import tracking
from projections.writer import TrackingMoved

__all__ = ["move", "read"]


async def read(conn: AsyncConnection, name: str) -> int:
    q = sa.select(tracking.c.position).where(tracking.c.application_name == name)
    value = (await conn.execute(q)).scalar()
    return int(value) if value is not None else 0


async def move(conn: AsyncConnection, name: str, expected: int, position: int) -> None:
    t = tracking
    if expected == 0:
        exists = await conn.execute(sa.select(t.c.position).where(t.c.application_name == name))
        if exists.first() is None:
            await conn.execute(t.insert().values(application_name=name, position=position))
            return
    done = await conn.execute(
        t.update()
        .where(t.c.application_name == name, t.c.position == expected)
        .values(position=position)
    )
    if done.rowcount != 1:
        raise TrackingMoved(f"{name}: tracking is no longer at {expected}")

"""Pages of a case's items (`projections.case_items`): what lies beyond the windows of
the case document, read on demand.

A page is the `limit` items of one kind just before `before` (a `seq`: the case version
that created the item; None: from the newest), oldest first, as stored JSON text, so
the HTTP layer answers without parsing: ``{"items": [...], "next_before": N|null}``;
`next_before` is the `seq` of the page's oldest item while older ones remain.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from projections.tables import case_items


async def item_page_text(
    engine: AsyncEngine, case_id: str, kind: str, before: int | None, limit: int
) -> str:
    t = case_items
    query = (
        sa.select(t.c.seq, t.c.doc)
        .where(t.c.case_id == case_id, t.c.kind == kind)
        .order_by(t.c.seq.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(t.c.seq < before)
    async with engine.connect() as conn:
        rows = list((await conn.execute(query)).fetchall())
    more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    next_before = rows[0].seq if more and rows else None
    docs = ",".join(str(r.doc) for r in rows)
    return '{"items":[' + docs + '],"next_before":' + json.dumps(next_before) + "}"

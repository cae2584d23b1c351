"""The SLA engine's checkpoint (Alembic revision 0012): its state at its tracked position,
so that taking the lead resumes from there instead of replaying the whole log.

`sla_checkpoint` holds one row per case the engine knows (`key` = the case id, `state` =
`domain.sla_clock.CaseClocks.as_data()` as JSON) and one row `key = "book"` (the policies,
`PolicyBook.as_data()`). `save` writes the rows that changed and moves the engine's
tracking row ("sla") in the same transaction, so the state on disk is always the state
after exactly the events up to the tracked position (plus the timer facts already in the
log). A database without the "book" row has no checkpoint: the engine replays the log
once and writes one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from projections import tracked

__all__ = ["BOOK", "Checkpoint", "load", "metadata", "save", "sla_checkpoint"]

metadata = sa.MetaData()
sla_checkpoint = sa.Table(
    "sla_checkpoint",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("state", sa.Text(), nullable=False),
)
BOOK = "book"
#: Rows per statement (PostgreSQL takes at most 32,767 parameters in one).
CHUNK = 1000


@dataclass
class Checkpoint:
    position: int
    book: dict[str, Any] | None  # None: no checkpoint was ever written
    cases: dict[UUID, dict[str, Any]] = field(default_factory=dict)


async def load(conn: AsyncConnection, name: str) -> Checkpoint:
    """The tracked position and the state saved with it."""
    position = await tracked.read(conn, name)
    book: dict[str, Any] | None = None
    cases: dict[UUID, dict[str, Any]] = {}
    rows = await conn.stream(sa.select(sla_checkpoint.c.key, sla_checkpoint.c.state))
    async for key, state in rows:
        if key == BOOK:
            book = json.loads(state)
        else:
            cases[UUID(key)] = json.loads(state)
    return Checkpoint(position, book, cases)


async def save(
    conn: AsyncConnection,
    name: str,
    expected: int,
    position: int,
    book: Mapping[str, Any] | None,
    cases: Mapping[UUID, Mapping[str, Any]],
) -> None:
    """Upsert the changed rows and move the tracking row from `expected` to `position`
    (`TrackingMoved` if another leader moved it), in the caller's transaction."""
    rows = [{"key": str(case_id), "state": json.dumps(state)} for case_id, state in cases.items()]
    if book is not None:
        rows.append({"key": BOOK, "state": json.dumps(book)})
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), CHUNK):
        statement = dialect.insert(sla_checkpoint).values(rows[start : start + CHUNK])
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"state": statement.excluded.state}
        )
        await conn.execute(statement)
    await tracked.move(conn, name, expected, position)

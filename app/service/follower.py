"""Following the log by position, with the position kept in the database.

`LogFollower(name, ...)` reads the events after its tracking row `name` (the event store's
`tracking` table), a page at a time, and hands each page to `handle(conn, rows)` inside
one transaction that also moves the tracking row: what the handler writes and the
position commit together, so a restart (or a kill -9) resumes exactly after the last
page it committed. Handlers write idempotently (rows keyed by what they are about), so
two followers of one name that overlap for a moment write nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.service.tables import tracking
from app.store.types import RecordedEvent

Read = Callable[[int, int], Awaitable[Sequence[RecordedEvent]]]
Handle = Callable[[AsyncConnection, Sequence[RecordedEvent]], Awaitable[None]]


def upsert(engine: AsyncEngine, table: sa.Table, values: dict[str, Any], keys: list[str]) -> Any:
    """`INSERT .. ON CONFLICT (keys) DO UPDATE` for PostgreSQL and SQLite."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    changes = {k: v for k, v in values.items() if k not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=changes)


def insert_new(engine: AsyncEngine, table: sa.Table, rows: list[dict[str, Any]]) -> Any:
    """`INSERT .. ON CONFLICT DO NOTHING` (rows already there are kept as they are)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(rows).on_conflict_do_nothing()


class LogFollower:
    """See the module docstring."""

    def __init__(
        self, name: str, engine: AsyncEngine, read: Read, handle: Handle, page: int = 500
    ) -> None:
        self.name = name
        self.engine = engine
        self.read = read
        self.handle = handle
        self.page = page

    async def position(self) -> int:
        async with self.engine.connect() as conn:
            query = sa.select(tracking.c.position).where(tracking.c.application_name == self.name)
            found = (await conn.execute(query)).scalar()
        return int(found or 0)

    async def move_to(self, position: int) -> None:
        """Set the position (replay from an earlier one, or skip history at first start)."""
        async with self.engine.begin() as conn:
            values = {"application_name": self.name, "position": position}
            await conn.execute(upsert(self.engine, tracking, values, ["application_name"]))

    async def step(self) -> int:
        """Handle the next page; the number of events it held (0: nothing new)."""
        after = await self.position()
        rows = await self.read(after, self.page)
        if not rows:
            return 0
        async with self.engine.begin() as conn:
            moved = await conn.execute(
                sa.select(tracking.c.position).where(tracking.c.application_name == self.name)
            )
            if int(moved.scalar() or 0) != after:  # another follower went first
                return 0
            await self.handle(conn, rows)
            values = {"application_name": self.name, "position": rows[-1].position}
            await conn.execute(upsert(self.engine, tracking, values, ["application_name"]))
        return len(rows)

    async def catch_up(self) -> int:
        """Handle pages until nothing is new; the events handled."""
        total = 0
        while count := await self.step():
            total += count
        return total

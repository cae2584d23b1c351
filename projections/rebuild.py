"""`swarmdesk rebuild` and `swarmdesk verify`: replay the whole log in memory.

rebuild: fold every event up to the log's end into fresh documents (no per-event SQL),
bulk-load them into `<table>_rebuild` tables (PostgreSQL: COPY; SQLite: executemany),
then swap them in, in ONE transaction that first takes the projector's tracking row
(so a live projector's batch either finished before or finds the position moved and
restarts from the rebuilt position): live tables emptied and refilled from the
rebuilt ones, tracking set to the rebuilt position, rebuilt tables dropped.

verify: fold the log up to the tracked position and compare with the stored views,
read in one snapshot; returns the differences.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projections.envelope import Envelope
from projections.fold import Change, ViewSet
from projections.rows import board_rows, member_rows, summary_row
from projections.tables import TABLES, table_defs
from projections.writer import change_rows, doc_rows, read_tracking, set_tracking

Read = Callable[[int, int, int], Awaitable[list[Any]]]  # (after, limit, until) -> rows
Decode = Callable[[Any], Any]
Progress = Callable[[int], None]
PAGE = 5000
SUFFIX = "_rebuild"


@dataclass
class Replay:
    views: ViewSet
    changes: list[Change]
    position: int
    events: int


async def replay(
    read: Read, decode: Decode, until: int, progress: Progress | None = None
) -> Replay:
    """Fold every event with position <= `until` into memory."""
    views = ViewSet()
    changes: list[Change] = []
    after = events = 0
    while after < until:
        rows = await read(after, PAGE, until)
        if not rows:
            break
        for row in rows:
            await views.apply(Envelope(row.position, decode(row)))
        batch, _ = views.take_changes()
        changes += batch
        after = rows[-1].position
        events += len(rows)
        if progress is not None:
            progress(len(rows))
    return Replay(views, changes, after, events)


def table_rows(result: Replay) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read-model table, as the projector would have written it."""
    docs = result.views.docs
    cases = [d for (v, _), d in docs.items() if v == "case" and d is not None]
    return {
        "case_views": doc_rows(docs, list(docs)),
        "view_changes": change_rows(result.changes),
        "case_summaries": [summary_row(d) for d in cases],
        "case_members": [r for d in cases for r in member_rows(d)],
        "swarm_board": [r for d in cases for r in board_rows(d)],
    }


async def _bulk_insert(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw: Any = await conn.get_raw_connection()
        columns = [c.name for c in table.columns]
        records = [tuple(r[c] for c in columns) for r in rows]
        await raw.driver_connection.copy_records_to_table(
            table.name, records=records, columns=columns
        )
        return
    for i in range(0, len(rows), 20000):
        await conn.execute(table.insert(), rows[i : i + 20000])


async def rebuild(
    engine: AsyncEngine, read: Read, decode: Decode, until: int, progress: Progress | None = None
) -> Replay:
    """Replay up to `until` into fresh tables, then swap them in (see module doc)."""
    result = await replay(read, decode, until, progress)
    fresh = table_defs(sa.MetaData(), SUFFIX)
    rows = table_rows(result)
    async with engine.begin() as conn:
        for table in fresh.values():
            await conn.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        await conn.run_sync(next(iter(fresh.values())).metadata.create_all)
        for name, table in fresh.items():
            await _bulk_insert(conn, table, rows[name])
    async with engine.begin() as conn:
        await set_tracking(conn, None, result.position)  # takes the projector's row lock
        for name, live in TABLES.items():
            await conn.execute(live.delete())
            await conn.execute(sa.text(f"INSERT INTO {live.name} SELECT * FROM {fresh[name].name}"))
            await conn.execute(sa.text(f"DROP TABLE {fresh[name].name}"))
    return result


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    stored: Any
    replayed: Any


async def stored_rows(conn: AsyncConnection) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, table in TABLES.items():
        result = await conn.execute(sa.select(table))
        out[name] = [dict(r._mapping) for r in result.fetchall()]
    return out


def _keyed(name: str, rows: list[dict[str, Any]]) -> Mapping[str, Any]:
    pk = [c.name for c in TABLES[name].primary_key.columns]
    out = {}
    for r in rows:
        value = dict(r)
        for text in ("doc", "ops"):
            if text in value:
                value[text] = json.loads(value[text])
        out["/".join(str(r[k]) for k in pk)] = value
    return out


async def verify(
    engine: AsyncEngine, read: Read, decode: Decode, progress: Progress | None = None
) -> tuple[int, list[Difference]]:
    """(tracked position, differences between the stored views and a replay to it)."""
    while True:  # a consistent read: no batch committed while the tables were read
        async with engine.connect() as conn:
            position = await read_tracking(conn)
            stored = await stored_rows(conn)
            again = await read_tracking(conn)
            await conn.rollback()
        if again == position:
            break
    result = await replay(read, decode, position, progress)
    replayed = table_rows(result)
    diffs: list[Difference] = []
    for name in TABLES:
        a, b = _keyed(name, stored[name]), _keyed(name, replayed[name])
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                diffs.append(Difference(name, key, a.get(key), b.get(key)))
    return position, diffs

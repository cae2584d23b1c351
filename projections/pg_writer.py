"""The projector's PostgreSQL fast path: `write_batch`'s rows in four round trips.

Same contract as `projections.writer.write_batch` (same rows, same tracking
compare-and-set raising `TrackingMoved`, one NOTIFY delivered at commit), written on a
raw asyncpg connection instead of SQLAlchemy's ~10 statements:

1. ``BEGIN; SET LOCAL synchronous_commit = off`` (one simple query; `begin`);
2. one statement of data-modifying CTEs over ``unnest($n::type[])`` arrays: tracking
   compare-and-set, case_views upsert, view_changes insert, case_summaries upsert, the
   deletes of the touched cases' case_members and swarm_board rows, and ``pg_notify``;
   every write is conditional on the compare-and-set, so a stale batch writes nothing
   and fails with `TrackingMoved`, never with a key violation;
3. one statement inserting the new case_members and swarm_board rows (a table is never
   deleted from and inserted into by the same statement: CTE order is unspecified);
4. ``COMMIT`` (`commit`), or ``ROLLBACK`` (`rollback`) on any failure.

Table names are unqualified: the connection's ``search_path`` selects the schema.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import asyncpg
import orjson

from projections.envelope import Doc
from projections.fold import Change, Key
from projections.rows import board_rows, member_rows, summary_row
from projections.tables import TRACKING_NAME
from projections.writer import NOTIFY_CHANNEL, TrackingMoved, change_rows, doc_rows

_SUMMARY_COLUMNS = (
    ("case_id", "text"),
    ("owner_id", "text"),
    ("status", "text"),
    ("priority", "text"),
    ("subject", "text"),
    ("customer", "text"),
    ("opened_at", "text"),
    ("updated_at", "text"),
    ("version", "int"),
    ("position", "bigint"),
    ("opened_position", "bigint"),
)
_FIRST_SUMMARY_PARAM = 15  # $1..$14 are taken by tracking, views, changes, channel


def _summary_sql() -> str:
    names = ", ".join(c for c, _ in _SUMMARY_COLUMNS)
    arrays = ", ".join(
        f"${_FIRST_SUMMARY_PARAM + i}::{t}[]" for i, (_, t) in enumerate(_SUMMARY_COLUMNS)
    )
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c, _ in _SUMMARY_COLUMNS if c != "case_id")
    return (
        f"INSERT INTO case_summaries ({names}) SELECT * FROM unnest({arrays}) "
        f"WHERE EXISTS (SELECT 1 FROM ok) ON CONFLICT (case_id) DO UPDATE SET {updates}"
    )


_IDS = f"${_FIRST_SUMMARY_PARAM}::text[]"  # the touched case ids (summaries' case_id)

_BATCH_SQL = f"""
WITH upd AS (
    UPDATE tracking SET position = $2
    WHERE application_name = $3 AND position = $1
    RETURNING 1
), ins AS (
    INSERT INTO tracking (application_name, position)
    SELECT $3, $2 WHERE $1 = 0 AND NOT EXISTS (SELECT 1 FROM upd)
    ON CONFLICT DO NOTHING
    RETURNING 1
), ok AS (
    SELECT 1 FROM upd UNION ALL SELECT 1 FROM ins
), v AS (
    INSERT INTO case_views (view, key, position, version, doc)
    SELECT * FROM unnest($4::text[], $5::text[], $6::bigint[], $7::int[], $8::text[])
    WHERE EXISTS (SELECT 1 FROM ok)
    ON CONFLICT (view, key) DO UPDATE SET position = EXCLUDED.position,
        version = EXCLUDED.version, doc = EXCLUDED.doc
), c AS (
    INSERT INTO view_changes (view, key, position, version, ops)
    SELECT * FROM unnest($9::text[], $10::text[], $11::bigint[], $12::int[], $13::text[])
    WHERE EXISTS (SELECT 1 FROM ok)
), s AS (
    {_summary_sql()}
), dm AS (
    DELETE FROM case_members WHERE case_id = ANY({_IDS}) AND EXISTS (SELECT 1 FROM ok)
), db AS (
    DELETE FROM swarm_board WHERE case_id = ANY({_IDS}) AND EXISTS (SELECT 1 FROM ok)
)
SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins) AS moved,
       pg_notify($14, ($2::bigint)::text) AS notified
"""

_DERIVED_SQL = """
WITH m AS (
    INSERT INTO case_members (agent_id, case_id, relation, opened_position)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
), b AS (
    INSERT INTO swarm_board (request_id, case_id, position, doc)
    SELECT * FROM unnest($5::text[], $6::text[], $7::bigint[], $8::text[])
)
SELECT 1
"""


def _columns(rows: Sequence[Mapping[str, Any]], names: Iterable[str]) -> list[list[Any]]:
    return [[r[n] for r in rows] for n in names]


async def begin(conn: asyncpg.Connection) -> None:
    """Open the batch's transaction; its commit does not wait for the WAL flush."""
    await conn.execute("BEGIN; SET LOCAL synchronous_commit = off")


async def commit(conn: asyncpg.Connection) -> None:
    await conn.execute("COMMIT")


async def rollback(conn: asyncpg.Connection) -> None:
    """Best effort: a broken connection is discarded by its pool anyway."""
    with contextlib.suppress(Exception):
        if not conn.is_closed() and conn.is_in_transaction():
            await conn.execute("ROLLBACK")


async def load_doc(conn: asyncpg.Connection, view: str, key: str) -> Doc | None:
    text = await conn.fetchval("SELECT doc FROM case_views WHERE view = $1 AND key = $2", view, key)
    if text is None:
        return None
    doc: Doc = orjson.loads(text)
    return doc


async def load_docs(conn: asyncpg.Connection, view: str, keys: Sequence[str]) -> dict[str, Doc]:
    """The documents of `view` that exist among `keys`, in one round trip."""
    rows = await conn.fetch(
        "SELECT key, doc FROM case_views WHERE view = $1 AND key = ANY($2::text[])", view, keys
    )
    return {key: orjson.loads(text) for key, text in rows}


async def write_batch(
    conn: asyncpg.Connection,
    *,
    expected: int,
    position: int,
    changes: Sequence[Change],
    dirty: Iterable[Key],
    docs: Mapping[Key, Doc | None],
) -> None:
    """Inside the caller's transaction (`begin`): as `projections.writer.write_batch`.

    Raises `TrackingMoved` when the tracking row is not at `expected` (for `expected`
    0, also when another writer inserted it first); the caller then rolls back, which
    also discards every other write and the NOTIFY of this statement."""
    keys = list(dirty)
    views = doc_rows(docs, keys)
    change = change_rows(changes)
    cases = [d for k in keys if k[0] == "case" and (d := docs[k]) is not None]
    summaries = [summary_row(d) for d in cases]
    record_cols = ("view", "key", "position", "version")
    moved = await conn.fetchval(
        _BATCH_SQL,
        expected,
        position,
        TRACKING_NAME,
        *_columns(views, (*record_cols, "doc")),
        *_columns(change, (*record_cols, "ops")),
        NOTIFY_CHANNEL,
        *_columns(summaries, (c for c, _ in _SUMMARY_COLUMNS)),
    )
    if moved != 1:
        raise TrackingMoved(f"tracking is no longer at {expected}")
    members = [r for d in cases for r in member_rows(d)]
    board = [r for d in cases for r in board_rows(d)]
    if members or board:
        await conn.execute(
            _DERIVED_SQL,
            *_columns(members, ("agent_id", "case_id", "relation", "opened_position")),
            *_columns(board, ("request_id", "case_id", "position", "doc")),
        )

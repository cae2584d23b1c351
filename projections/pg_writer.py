"""The projector's PostgreSQL fast path: a batch's rows in one statement.

Same contract as `projections.writer.write_batch` (same rows, same tracking
compare-and-set raising `TrackingMoved`, one NOTIFY delivered at commit), written on a
raw asyncpg connection instead of SQLAlchemy's ~10 statements: one statement of
data-modifying CTEs over ``unnest($n::type[])`` arrays, so it commits atomically on its
own (no BEGIN/COMMIT round trips):

- the tracking compare-and-set; every other write is conditional on it, so a stale
  batch writes nothing and fails with `TrackingMoved`, never with a key violation;
- case_views upsert, view_changes insert, case_summaries upsert, case_items upsert
  (each item once per batch: `ItemSet` keeps its last state), ``pg_notify``;
- case_members and swarm_board of the touched cases: the new rows upserted, and the
  rows of those cases that are not among them deleted (case_members only for cases
  whose members changed in the batch: not ~170 bytes of WAL per event for nothing).
  The two touch disjoint rows (a statement must never modify one row twice: its CTEs
  run in no set order).

The projector runs it on its own connection with ``synchronous_commit = off`` (see
`Projector.project`). Table names are unqualified: the connection's ``search_path``
selects the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import asyncpg
import orjson

from projections.case_items import Item, ItemKey
from projections.case_store import assemble, case_sql, loads
from projections.envelope import Doc
from projections.fold import Change, Key
from projections.rows import board_rows, member_rows, summary_row
from projections.tables import TRACKING_NAME
from projections.writer import NOTIFY_CHANNEL, TrackingMoved, change_rows, doc_rows

_VIEW_COLUMNS = (
    ("view", "text"),
    ("key", "text"),
    ("position", "bigint"),
    ("version", "int"),
    ("doc", "text"),
)
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


def _upsert_sql(
    name: str, table: str, columns: Sequence[tuple[str, str]], first: int, keys: int
) -> str:
    """Two CTEs writing `table`'s rows from arrays ``$first..``: `<name>u` updates the
    rows that exist (keyed by the first `keys` columns), `<name>` inserts the others.
    Not ``INSERT .. ON CONFLICT DO UPDATE``: that locks the row before updating it, and
    inserts speculatively, each a WAL record more per row. This writer is the tables'
    only writer (the tracking compare-and-set fences a stale one), so what the update
    does not find is absent."""
    names = [c for c, _ in columns]
    key = names[:keys]
    arrays = ", ".join(f"${first + i}::{t}[]" for i, (_, t) in enumerate(columns))
    source = f"unnest({arrays}) AS n({', '.join(names)})"
    sets = ", ".join(f"{c} = n.{c}" for c in names[keys:])
    on = " AND ".join(f"o.{k} = n.{k}" for k in key)
    found = " AND ".join(f"u.{k} = n.{k}" for k in key)
    returned = ", ".join(f"o.{k}" for k in key)
    return (
        f"{name}u AS (UPDATE {table} o SET {sets} FROM {source}"
        f" WHERE {on} AND EXISTS (SELECT 1 FROM ok) RETURNING {returned}"
        f"), {name} AS (INSERT INTO {table} ({', '.join(names)}) SELECT n.* FROM {source}"
        f" WHERE EXISTS (SELECT 1 FROM ok) AND NOT EXISTS (SELECT 1 FROM {name}u u"
        f" WHERE {found}))"
    )


_IDS = f"${_FIRST_SUMMARY_PARAM}::text[]"  # the touched case ids (summaries' case_id)

_M = _FIRST_SUMMARY_PARAM + len(_SUMMARY_COLUMNS)  # the first case_members array
_B = _M + 4  # the first swarm_board array
_I = _B + 5  # the first case_items array
_MEMBER_IDS = f"${_I + 6}::text[]"  # the cases whose members are rewritten
#: case_items' columns, its key (case_id, kind, seq) first: the arrays' order
_ITEM_COLUMNS = (
    ("case_id", "text"),
    ("kind", "text"),
    ("seq", "int"),
    ("item_id", "text"),
    ("position", "bigint"),
    ("doc", "text"),
)

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
), {_upsert_sql("v", "case_views", _VIEW_COLUMNS, 4, 2)}, c AS (
    INSERT INTO view_changes (view, key, position, version, ops)
    SELECT * FROM unnest($9::text[], $10::text[], $11::bigint[], $12::int[], $13::text[])
    WHERE EXISTS (SELECT 1 FROM ok)
), {_upsert_sql("s", "case_summaries", _SUMMARY_COLUMNS, _FIRST_SUMMARY_PARAM, 1)}, nm AS (
    SELECT * FROM unnest(${_M}::text[], ${_M + 1}::text[], ${_M + 2}::text[],
        ${_M + 3}::bigint[]) AS n(agent_id, case_id, relation, opened_position)
), m AS (
    INSERT INTO case_members (agent_id, case_id, relation, opened_position)
    SELECT * FROM nm WHERE EXISTS (SELECT 1 FROM ok)
    ON CONFLICT (agent_id, case_id) DO UPDATE SET relation = EXCLUDED.relation,
        opened_position = EXCLUDED.opened_position
), dm AS (
    DELETE FROM case_members o WHERE o.case_id = ANY({_MEMBER_IDS}) AND EXISTS (SELECT 1 FROM ok)
    AND NOT EXISTS (SELECT 1 FROM nm WHERE nm.agent_id = o.agent_id AND nm.case_id = o.case_id)
), nb AS (
    SELECT * FROM unnest(${_B}::text[], ${_B + 1}::text[], ${_B + 2}::bigint[],
        ${_B + 3}::text[], ${_B + 4}::bigint[]) AS n(request_id, case_id, position, doc, rank)
), b AS (
    INSERT INTO swarm_board (request_id, case_id, position, doc, rank)
    SELECT * FROM nb WHERE EXISTS (SELECT 1 FROM ok)
    ON CONFLICT (request_id) DO UPDATE SET case_id = EXCLUDED.case_id,
        position = EXCLUDED.position, doc = EXCLUDED.doc, rank = EXCLUDED.rank
), db AS (
    DELETE FROM swarm_board o WHERE o.case_id = ANY({_IDS}) AND EXISTS (SELECT 1 FROM ok)
    AND NOT EXISTS (SELECT 1 FROM nb WHERE nb.request_id = o.request_id)
), {_upsert_sql("it", "case_items", _ITEM_COLUMNS, _I, 3)}
SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins) AS moved,
       pg_notify($14, ($2::bigint)::text) AS notified
"""


def _columns(rows: Sequence[Mapping[str, Any]], names: Iterable[str]) -> list[list[Any]]:
    return [[r[n] for r in rows] for n in names]


async def load_doc(conn: asyncpg.Connection, view: str, key: str) -> Doc | None:
    if view == "case":
        return loads(assemble(await conn.fetch(_CASE_SQL, key)))
    text = await conn.fetchval("SELECT doc FROM case_views WHERE view = $1 AND key = $2", view, key)
    if text is None:
        return None
    doc: Doc = orjson.loads(text)
    return doc


async def load_docs(conn: asyncpg.Connection, view: str, keys: Sequence[str]) -> dict[str, Doc]:
    """The case documents that exist among `keys`, in one round trip."""
    if view != "case":
        raise ValueError(f"load_docs reads case documents, not {view!r}")
    rows: dict[str, list[Any]] = {}
    for record in await conn.fetch(_CASES_SQL, list(keys)):
        rows.setdefault(record[0], []).append(record[1:])
    found = {}
    for key, parts in rows.items():
        doc = loads(assemble(parts))
        if doc is not None:
            found[key] = doc
    return found


_CASE_SQL = case_sql("$1")
_CASES_SQL = (
    f"SELECT k.key, w.* FROM unnest($1::text[]) AS k(key), LATERAL ({case_sql('k.key')}) AS w"
)


async def load_items(conn: asyncpg.Connection, keys: list[ItemKey]) -> dict[ItemKey, Item]:
    """The stored case items among `keys`, in one round trip."""
    rows = await conn.fetch(
        "SELECT i.case_id, i.kind, i.item_id, i.seq, i.position, i.doc FROM case_items i"
        " JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(case_id, kind, item_id)"
        " USING (case_id, kind, item_id)",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
    )
    return {(r[0], r[1], r[2]): Item(int(r[3]), int(r[4]), str(r[5])) for r in rows}


async def write_batch(
    conn: asyncpg.Connection,
    *,
    expected: int,
    position: int,
    changes: Sequence[Change],
    dirty: Iterable[Key],
    docs: Mapping[Key, Doc | None],
    items: Sequence[Mapping[str, Any]] = (),
    channel: str = NOTIFY_CHANNEL,
    members_kept: Callable[[Doc], bool] = lambda doc: False,
) -> None:
    """As `projections.writer.write_batch`, in one statement (its own transaction).

    `members_kept(doc)`: True when the stored `case_members` rows of that case are
    already its rows (`ViewSet.members_kept`); they are then not rewritten.

    Raises `TrackingMoved` when the tracking row is not at `expected` (for `expected`
    0, also when another writer inserted it first); nothing of the batch is written
    then, the NOTIFY included."""
    keys = list(dirty)
    views = doc_rows(docs, keys)
    change = change_rows(changes)
    cases = [d for k in keys if k[0] == "case" and (d := docs[k]) is not None]
    summaries = [summary_row(d) for d in cases]
    member_cases = [d for d in cases if not members_kept(d)]
    members = [r for d in member_cases for r in member_rows(d)]
    board = [r for d in cases for r in board_rows(d)]
    record_cols = ("view", "key", "position", "version")
    moved = await conn.fetchval(
        _BATCH_SQL,
        expected,
        position,
        TRACKING_NAME,
        *_columns(views, (*record_cols, "doc")),
        *_columns(change, (*record_cols, "ops")),
        channel,
        *_columns(summaries, (c for c, _ in _SUMMARY_COLUMNS)),
        *_columns(members, ("agent_id", "case_id", "relation", "opened_position")),
        *_columns(board, ("request_id", "case_id", "position", "doc", "rank")),
        *_columns(items, (c for c, _ in _ITEM_COLUMNS)),
        [d["case_id"] for d in member_cases],
    )
    if moved != 1:
        raise TrackingMoved(f"tracking is no longer at {expected}")

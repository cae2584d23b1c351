"""Writing a batch of view changes and the projector's position in ONE transaction.

The tracking row ("views" in the event store's `tracking` table) is updated first, as a
compare-and-set from the position the batch was computed on: the row lock serialises
projector batches and `swarmdesk rebuild`'s swap, and a batch computed on a stale
position writes nothing (`TrackingMoved`), so no event is ever applied twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from projections.case_items import Item, ItemKey
from projections.case_store import assemble, case_sql, core_of, loads
from projections.envelope import Doc
from projections.fold import Change, Key, dumps, stored_changes
from projections.rows import board_rows, member_rows, summary_row
from projections.tables import TABLES, TRACKING_NAME, tracking

NOTIFY_CHANNEL = "swarmdesk_views"


def notify_channel(schema: str | None) -> str:
    """The views' NOTIFY channel of one schema. Channels are per database, so each
    schema needs its own: a wake-up from another schema's projector names positions of
    another log."""
    if not schema:
        return NOTIFY_CHANNEL
    return f"{NOTIFY_CHANNEL}_{hashlib.sha1(schema.encode()).hexdigest()[:16]}"


class TrackingMoved(Exception):
    """The tracked position is not the one the batch was computed on."""


async def read_tracking(conn: AsyncConnection) -> int:
    t = tracking
    q = sa.select(t.c.position).where(t.c.application_name == TRACKING_NAME)
    value = (await conn.execute(q)).scalar()
    return int(value) if value is not None else 0


async def set_tracking(conn: AsyncConnection, expected: int | None, position: int) -> None:
    """Move the tracking position to `position`; from `expected` (None: from anything)."""
    t = tracking
    q = t.update().where(t.c.application_name == TRACKING_NAME).values(position=position)
    if expected is not None:
        q = q.where(t.c.position == expected)
    result = await conn.execute(q)
    if result.rowcount == 1:
        return
    if expected in (0, None):
        insert = _insert(conn, t).values(application_name=TRACKING_NAME, position=position)
        if (await conn.execute(insert.on_conflict_do_nothing())).rowcount == 1:
            return
    raise TrackingMoved(f"tracking is no longer at {expected}")


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def upsert(
    conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]], keys: list[str]
) -> None:
    if not rows:
        return
    stmt = _insert(conn, table)
    others = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    await conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=others), rows)


def doc_rows(docs: Mapping[Key, Doc | None], keys: Iterable[Key]) -> list[dict[str, Any]]:
    rows = []
    for view, key in keys:
        doc = docs[(view, key)]
        if doc is None:
            continue
        rows.append(
            {
                "view": view,
                "key": key,
                "position": doc["position"],
                "version": doc.get("version", 0) if view == "case" else 0,
                "doc": dumps(core_of(doc) if view == "case" else doc),
            }
        )
    return rows


def change_rows(changes: Sequence[Change]) -> list[dict[str, Any]]:
    return [
        {
            "view": c.view,
            "key": c.key,
            "position": c.position,
            "version": c.version,
            "ops": c.stored,
        }
        for c in stored_changes(changes)
    ]


async def write_derived(
    conn: AsyncConnection, cases: list[Doc], tables: Mapping[str, sa.Table] = TABLES
) -> None:
    """Rewrite the summary, member and board rows of `cases`."""
    if not cases:
        return
    ids = [d["case_id"] for d in cases]
    await upsert(conn, tables["case_summaries"], [summary_row(d) for d in cases], ["case_id"])
    for name in ("case_members", "swarm_board"):
        t = tables[name]
        await conn.execute(t.delete().where(t.c.case_id.in_(ids)))
    members = [r for d in cases for r in member_rows(d)]
    board = [r for d in cases for r in board_rows(d)]
    if members:
        await conn.execute(tables["case_members"].insert(), members)
    if board:
        await conn.execute(tables["swarm_board"].insert(), board)


ITEM_KEYS = ["case_id", "kind", "seq"]


async def write_batch(
    conn: AsyncConnection,
    *,
    expected: int,
    position: int,
    changes: Sequence[Change],
    dirty: Iterable[Key],
    docs: Mapping[Key, Doc | None],
    items: Sequence[Mapping[str, Any]] = (),
    channel: str = NOTIFY_CHANNEL,
) -> None:
    """Inside the caller's transaction: tracking CAS, documents, changes, case items,
    derived rows, and (PostgreSQL) one NOTIFY, delivered only when it commits."""
    await set_tracking(conn, expected, position)
    keys = list(dirty)
    await upsert(conn, TABLES["case_views"], doc_rows(docs, keys), ["view", "key"])
    await upsert(conn, TABLES["case_items"], items, ITEM_KEYS)
    rows = change_rows(changes)
    if rows:
        await conn.execute(TABLES["view_changes"].insert(), rows)
    cases = [d for k in keys if k[0] == "case" and (d := docs[k]) is not None]
    await write_derived(conn, cases)
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": str(position)})


async def load_doc(conn: AsyncConnection, view: str, key: str) -> Doc | None:
    if view == "case":
        rows = await conn.execute(sa.text(case_sql(":k")), {"k": key})
        return loads(assemble(rows.fetchall()))
    t = TABLES["case_views"]
    q = sa.select(t.c.doc).where(t.c.view == view, t.c.key == key)
    text = (await conn.execute(q)).scalar()
    if text is None:
        return None
    doc: Doc = json.loads(text)
    return doc


async def load_items(conn: AsyncConnection, keys: list[ItemKey]) -> dict[ItemKey, Item]:
    """The stored case items among `keys` (each one a (case, kind, item id))."""
    t = TABLES["case_items"]
    found: dict[ItemKey, Item] = {}
    for case_id, kind in dict.fromkeys((k[0], k[1]) for k in keys):
        ids = [k[2] for k in keys if k[0] == case_id and k[1] == kind]
        q = sa.select(t.c.item_id, t.c.seq, t.c.position, t.c.doc).where(
            t.c.case_id == case_id, t.c.kind == kind, t.c.item_id.in_(ids)
        )
        for r in (await conn.execute(q)).fetchall():
            found[(case_id, kind, r.item_id)] = Item(int(r.seq), int(r.position), str(r.doc))
    return found

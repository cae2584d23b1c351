"""The contract between the projector and the push hub: view changes and view access.

- `ViewChange`: what one event did to one view document (RFC 6902 ops, in order).
- Table `view_changes` (position, view, key, version, ops JSON text), primary key
  (view, key, position); written by the projector in the same transaction as the
  view documents and its tracking position ("views"). The ops are stored compact, the
  case items they add as references to their `case_items` rows (written in the same
  transaction, never changed after): `projections.change_text`. The readers below
  answer the RFC 6902 ops the projector pushed live.
- Table `case_views`: one row per view document (view, key, position, version, doc).
  The document's own "position" field equals the row's position.
- `engine` everywhere is a SQLAlchemy `AsyncEngine` (asyncpg or aiosqlite), built by
  `projections.db.create_views_engine(url, schema=)`; `conn_or_engine` may also be an
  open `AsyncConnection`.
- `can_read_case`: the owner, joined experts who have not left, experts with a
  pending invitation (they read the briefing before deciding), supervisors and
  admins; everyone else gets False (HTTP 404; WebSocket close 4404, the NOT_FOUND
  row of app/problems.py, so a stranger cannot tell a hidden case from a missing one).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.actors import Actor
from projections.case_store import assemble, case_sql
from projections.change_text import fill_latest, unpack_listed
from projections.lists import LISTED
from projections.tables import case_items, case_members, case_views, view_changes

__all__ = [
    "ViewChange",
    "can_read_case",
    "changes_of",
    "load_view",
    "read_all_changes",
    "read_changes",
]


@dataclass(frozen=True, slots=True)
class ViewChange:
    """One event's effect on one view document.

    view: "case" (key = case id), "inbox" (key = agent id), "mycases" (key = agent
    id), "swarms" (key = case id), "agents" (key = agent id).
    position: global log position of the event that caused this change.
    version: the case's version after that event for "case", else 0.
    ops: RFC 6902 ops, applied in order to the document as it stood at the previous
    change of the same (view, key).
    """

    view: str
    key: str
    position: int
    version: int
    ops: list[dict[str, Any]]


_REFS_PER_QUERY = 300  # (case, kind, seq) triples per statement: 900 parameters


async def changes_of(
    conn_or_engine: AsyncConnection | AsyncEngine, rows: Sequence[Any], *, listed: bool = False
) -> list[ViewChange]:
    """The changes of `view_changes` rows (anything with their columns as attributes),
    the case items they refer to filled in; with `listed`, a case change carrying its
    lists' shared change (`change_text.with_listed`) is followed by that change, as
    the projector handed it over (view `projections.lists.LISTED`, key the case)."""
    out: list[ViewChange] = []
    wanted: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    carried: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []
    for row in rows:
        ops, refs, shared = unpack_listed(row.ops, row.key)
        for n, kind, seq in refs:
            wanted.setdefault((row.key, kind, seq), []).append(ops[n])
        out.append(ViewChange(row.view, row.key, int(row.position), int(row.version), ops))
        if listed and shared is not None:
            out.append(ViewChange(LISTED, row.key, int(row.position), 0, shared))
            carried.append((shared, ops))
    if wanted:
        await _fill(conn_or_engine, wanted)
    for shared, ops in carried:
        fill_latest(shared, ops)
    if listed:  # each position's changes in (view, key) order, the shared ones included
        out.sort(key=lambda c: (c.position, c.view, c.key))
    return out


async def _fill(
    conn_or_engine: AsyncConnection | AsyncEngine,
    wanted: dict[tuple[str, str, int], list[dict[str, Any]]],
) -> None:
    """Set each op's value to its item as its row holds it (each op a fresh copy)."""
    t = case_items
    keys = list(wanted)
    for start in range(0, len(keys), _REFS_PER_QUERY):
        chunk = keys[start : start + _REFS_PER_QUERY]
        query = sa.select(t.c.case_id, t.c.kind, t.c.seq, t.c.doc).where(
            sa.tuple_(t.c.case_id, t.c.kind, t.c.seq).in_(chunk)
        )
        for r in await _rows(conn_or_engine, query):
            for op in wanted.pop((r.case_id, r.kind, int(r.seq)), ()):
                op["value"] = json.loads(r.doc)
    if wanted:  # written with its change, never deleted: a broken read model
        raise LookupError(f"view changes refer to missing case items: {list(wanted)[:3]}")


async def _rows(conn_or_engine: AsyncConnection | AsyncEngine, query: Any) -> list[Any]:
    if isinstance(conn_or_engine, AsyncEngine):
        async with conn_or_engine.connect() as conn:
            return list((await conn.execute(query)).fetchall())
    return list((await conn_or_engine.execute(query)).fetchall())


async def read_changes(
    conn_or_engine: AsyncConnection | AsyncEngine, view: str, key: str, after: int, limit: int
) -> list[ViewChange]:
    """The changes of one view document with position > `after`, oldest first."""
    t = view_changes
    query = (
        sa.select(t.c.position, t.c.view, t.c.key, t.c.version, t.c.ops)
        .where(t.c.view == view, t.c.key == key, t.c.position > after)
        .order_by(t.c.position)
        .limit(limit)
    )
    return await changes_of(conn_or_engine, await _rows(conn_or_engine, query))


async def read_all_changes(
    engine: AsyncConnection | AsyncEngine, after: int, limit: int
) -> list[ViewChange]:
    """The changes of every view with position > `after`, in position order.

    One event may change several documents: they share a position and come out
    ordered by (view, key). `limit` counts changes, so a caller paging by position
    must re-read from the last *complete* position (or use a generous limit).
    """
    t = view_changes
    query = (
        sa.select(t.c.position, t.c.view, t.c.key, t.c.version, t.c.ops)
        .where(t.c.position > after)
        .order_by(t.c.position, t.c.view, t.c.key)
        .limit(limit)
    )
    return await changes_of(engine, await _rows(engine, query), listed=True)


async def load_view(
    engine: AsyncConnection | AsyncEngine, view: str, key: str
) -> tuple[int, dict[str, Any]] | None:
    """(position, document) of one stored view document, or None if there is none."""
    text = await load_view_text(engine, view, key)
    if text is None:
        return None
    doc = json.loads(text[1])
    return text[0], doc


async def load_view_text(
    engine: AsyncConnection | AsyncEngine, view: str, key: str
) -> tuple[int, str] | None:
    """(position, document as JSON text): the hot path, no parsing. A case document is
    its core row and its windows, read in one statement (`projections.case_store`)."""
    if view == "case":
        found = assemble(await _rows(engine, sa.text(case_sql(":k")).bindparams(k=key)))
        return (found.position, found.doc) if found is not None else None
    t = case_views
    query = sa.select(t.c.position, t.c.doc).where(t.c.view == view, t.c.key == key)
    rows = await _rows(engine, query)
    if not rows:
        return None
    return int(rows[0].position), str(rows[0].doc)


async def can_read_case(engine: AsyncConnection | AsyncEngine, case_id: UUID, actor: Actor) -> bool:
    """True when `actor` may read case `case_id` (False also when there is no such case).

    Reads the `case_members` rows the projector derives from the case view (the same
    rule as the members derived in `projections.rows.member_rows`)."""
    if actor.is_supervisor:
        v = case_views
        exists = sa.select(v.c.key).where(v.c.view == "case", v.c.key == str(case_id))
        return bool(await _rows(engine, exists))
    m = case_members
    query = sa.select(m.c.relation).where(
        m.c.case_id == str(case_id), m.c.agent_id == str(actor.id)
    )
    return bool(await _rows(engine, query))

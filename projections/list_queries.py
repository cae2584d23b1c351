"""Snapshots of the live lists (`projections.lists`), each read in ONE statement.

A snapshot is the list as of one database snapshot, and its position is the position of
the list's last stored change at or before it (the ``prev`` of the next patch pushed on
that list), read by the same statement: a list whose changes are all older than the
retention window (or that never changed) answers 0, and a client then meets a ``prev``
it does not have and reconnects for a fresh snapshot (the contract of every push socket).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projections.fold import dumps
from projections.lists import ALL_CASES, ENTRY, MYCASES, SWARMS

_HEAD = "SELECT max(position) AS head FROM view_changes WHERE view = :v AND key = :k"
_LIVE = "('open', 'resolved')"  # not closed
_ROWS = {
    MYCASES: "SELECT m.case_id AS id, e.doc AS doc, m.relation AS relation"
    " FROM case_members m"
    " JOIN case_summaries s ON s.case_id = m.case_id"
    f" JOIN case_views e ON e.view = '{ENTRY}' AND e.key = m.case_id"
    f" WHERE m.agent_id = :k AND s.status IN {_LIVE}",
    ALL_CASES: "SELECT s.case_id AS id, e.doc AS doc, NULL AS relation"
    " FROM case_summaries s"
    f" JOIN case_views e ON e.view = '{ENTRY}' AND e.key = s.case_id"
    " WHERE s.status = 'open'",
    SWARMS: "SELECT b.request_id AS id, b.doc AS doc, NULL AS relation FROM swarm_board b",
}
_SQL = {
    view: f"SELECT h.head, x.id, x.doc, x.relation FROM ({_HEAD}) AS h"
    f" LEFT JOIN ({rows}) AS x ON 1 = 1"
    for view, rows in _ROWS.items()
}


async def load_list_text(
    conn_or_engine: AsyncConnection | AsyncEngine, view: str, key: str
) -> tuple[int, str]:
    """(position, the list document as JSON text) of list `view` for `key`."""
    query = sa.text(_SQL[view]).bindparams(v=view, k=key)
    if isinstance(conn_or_engine, AsyncEngine):
        async with conn_or_engine.connect() as conn:
            rows = (await conn.execute(query)).fetchall()
    else:
        rows = (await conn_or_engine.execute(query)).fetchall()
    head = int(rows[0].head or 0) if rows else 0
    found = [r for r in rows if r.id is not None]
    member = "requests" if view == SWARMS else "cases"
    if view == SWARMS:
        parts = [f"{dumps(r.id)}:{r.doc}" for r in found]
    else:  # an entry document less its row position; my cases add the caller's relation
        parts = [f"{dumps(r.id)}:{dumps(_entry(r.doc, r.relation))}" for r in found]
    return head, f'{{"{member}":{{{",".join(parts)}}}}}'


def _entry(text: str, relation: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(text)
    del entry["position"]
    if relation is not None:
        entry["relation"] = relation
    return entry


async def load_list(
    conn_or_engine: AsyncConnection | AsyncEngine, view: str, key: str
) -> tuple[int, dict[str, Any]]:
    """`load_list_text`, parsed."""
    head, text = await load_list_text(conn_or_engine, view, key)
    return head, json.loads(text)

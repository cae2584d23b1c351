"""Snapshots of the live lists (`projections.lists`), each read in ONE statement.

A snapshot is the list as of one database snapshot, and its position is the position of
the list's last stored change at or before it (the ``prev`` of the next patch pushed on
that list), read by the same statement: a list whose changes are all older than the
retention window (or that never changed) answers 0, and a client then meets a ``prev``
it does not have and reconnects for a fresh snapshot (the contract of every push socket).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projections.change_text import LISTED_PREFIX
from projections.changes import ViewChange, changes_of
from projections.fold import dumps
from projections.lists import ALL_CASES, ENTRY, LISTED, MYCASES, SWARMS, ListIndex, own_case

_LIVE = "('open', 'resolved')"  # not closed
#: The cases each list keeps now (`ListIndex`): a member's live cases, the open cases.
_MEMBERS = {
    MYCASES: "SELECT m.case_id AS case_id FROM case_members m"
    " JOIN case_summaries s ON s.case_id = m.case_id"
    f" WHERE m.agent_id = :k AND s.status IN {_LIVE}",
    ALL_CASES: "SELECT case_id FROM case_summaries WHERE status = 'open'",
}
#: A case change that carries its lists' shared change (`change_text.with_listed`).
_CARRIES = f"ops LIKE '{LISTED_PREFIX}%'"
_OWN_HEAD = "SELECT max(position) AS p FROM view_changes WHERE view = :v AND key = :k"
#: A list's last change: its own rows', or its cases' shared rows' (`projections.lists`):
#: the shared rows of a case before it came in precede the row that brought it in.
_HEADS = {
    view: f"SELECT max(p) AS head FROM ({_OWN_HEAD} UNION ALL"
    f" SELECT (SELECT position FROM view_changes WHERE view = 'case' AND key = c.case_id"
    f" AND {_CARRIES} ORDER BY position DESC LIMIT 1) AS p FROM ({members}) AS c) AS h"
    for view, members in _MEMBERS.items()
}
_HEADS[SWARMS] = _OWN_HEAD.replace("AS p", "AS head")
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
    view: f"SELECT h.head, x.id, x.doc, x.relation FROM ({_HEADS[view]}) AS h"
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


_INDEX = (
    "SELECT h.head, x.case_id, x.agent_id, x.status"
    " FROM (SELECT max(position) AS head FROM view_changes) AS h LEFT JOIN"
    " (SELECT s.case_id, m.agent_id, s.status FROM case_summaries s"
    f" LEFT JOIN case_members m ON m.case_id = s.case_id WHERE s.status IN {_LIVE}) AS x"
    " ON 1 = 1"
)


async def load_list_index(engine: AsyncEngine) -> tuple[int, ListIndex]:
    """(the change log's last position, which lists keep each case as of it), read by one
    statement: a change feed starting there keeps the index with the lists' own rows."""
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text(_INDEX))).fetchall()
    index = ListIndex()
    index.load((r.case_id, r.agent_id, r.status) for r in rows if r.case_id is not None)
    return (int(rows[0].head or 0) if rows else 0), index


def _changes_sql(view: str, dialect: str) -> str:
    """A list's own rows after :a, and the shared rows after :a of the cases it keeps now
    or had its own rows about since (`cur`: it keeps the case now), in one statement
    (one snapshot of the database), position order, own rows first within a position."""
    find = "strpos" if dialect == "postgresql" else "instr"
    members = _MEMBERS[view]
    touched = (
        f"SELECT substr(ops, {find}(ops, '/cases/') + 7, 36) FROM view_changes"
        " WHERE view = :v AND key = :k AND position > :a"
    )
    return (
        "SELECT 0 AS kind, position, key, ops, 0 AS cur FROM view_changes"
        " WHERE view = :v AND key = :k AND position > :a"
        " UNION ALL"
        f" SELECT 1, position, key, ops, CASE WHEN key IN ({members}) THEN 1 ELSE 0 END"
        f" FROM view_changes WHERE view = 'case' AND position > :a AND {_CARRIES}"
        f" AND (key IN ({members}) OR key IN ({touched}))"
        " ORDER BY 2, 1 LIMIT :n"
    )


async def read_list_changes(
    conn: AsyncConnection, view: str, key: str, after: int, limit: int
) -> list[ViewChange] | None:
    """The changes of list (`view`, `key`) with position > `after`, oldest first, as
    `read_changes` gives a document's: the list's own rows and its cases' shared rows
    while it kept them (a case kept at `after` unless its first own row since brings it
    in; kept throughout if it has none and is kept now). At most `limit`, a correct
    prefix; None when more rows than that were read without finding `limit` changes (the
    caller then sends a snapshot)."""
    budget = max(4 * limit, 64)
    query = sa.text(_changes_sql(view, conn.dialect.name)).bindparams(
        v=view, k=key, a=after, n=budget
    )
    rows = (await conn.execute(query)).fetchall()
    if len(rows) >= budget:  # `cur` is as of the end: the rows past the budget matter
        return None
    kept: dict[str, bool] = {}  # case id -> kept by the list, as of the row being read
    own_at: set[int] = set()
    own = [(row, *own_case(json.loads(row.ops))) for row in rows if row.kind == 0]
    for _, case_id, what in own:
        kept.setdefault(case_id, what != "add")  # kept at `after` unless it came in since
    picked: list[_Row] = []  # the list's own rows, and the case changes carrying the rest
    changed = iter(own)
    for row in rows:
        position = int(row.position)
        if row.kind == 0:
            _, case_id, what = next(changed)
            own_at.add(position)
            kept[case_id] = what != "remove"
            picked.append(_Row(position, view, key, 0, row.ops))
        elif position not in own_at and kept.setdefault(row.key, bool(row.cur)):
            picked.append(_Row(position, "case", row.key, 0, row.ops))
        if len(picked) == limit:
            break
    out = [
        ViewChange(view, key, c.position, 0, c.ops) if c.view == LISTED else c
        for c in await changes_of(conn, picked, listed=True)
        if c.view != "case"
    ]
    out.sort(key=lambda c: c.position)
    return out


class _Row(NamedTuple):
    position: int
    view: str
    key: str
    version: int
    ops: str

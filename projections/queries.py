"""Read queries over the stored views. Documents come back as stored JSON text, so the
HTTP layer can answer without parsing or re-validating them (the hot path)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.actors import Actor
from projections.case_store import assemble, case_sql
from projections.tables import case_members, case_summaries, case_views, swarm_board


@dataclass(frozen=True, slots=True)
class CaseText:
    position: int
    doc: str
    readable: bool


_CASE_TEXT_SQL = case_sql("$1", "$2")


async def case_text(
    engine: AsyncEngine, case_id: UUID, actor: Actor, pool: Any = None
) -> CaseText | None:
    """The case document (its core row and windows, `projections.case_store`) and
    whether `actor` may read it, in one statement.

    With an asyncpg `pool` (PostgreSQL), one plain statement outside any transaction:
    SQLAlchemy's connection adds a BEGIN and a ROLLBACK round trip to every read."""
    if pool is not None:
        rows = await pool.fetch(_CASE_TEXT_SQL, str(case_id), str(actor.id))
    else:
        query = sa.text(case_sql(":k", ":a")).bindparams(k=str(case_id), a=str(actor.id))
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).fetchall()
    found = assemble(rows)
    if found is None:
        return None
    readable = actor.is_supervisor or found.relation is not None
    return CaseText(found.position, found.doc, readable)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: int | None


async def list_cases(
    engine: AsyncEngine,
    actor: Actor,
    *,
    owner: UUID | None = None,
    participant: UUID | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: int | None = None,
) -> Page:
    """Case summaries, newest first (cursor = the `opened_position` to continue below).

    Agents see only cases they are a member of (owner, participant, invited);
    supervisors and admins see every case."""
    s, m = case_summaries, case_members
    query = sa.select(*s.c).order_by(s.c.opened_position.desc()).limit(limit + 1)
    if not actor.is_supervisor:
        mine = sa.select(m.c.case_id).where(m.c.agent_id == str(actor.id))
        query = query.where(s.c.case_id.in_(mine))
    if owner is not None:
        query = query.where(s.c.owner_id == str(owner))
    if participant is not None:
        joined = sa.select(m.c.case_id).where(
            m.c.agent_id == str(participant), m.c.relation.in_(["owner", "participant"])
        )
        query = query.where(s.c.case_id.in_(joined))
    if status is not None:
        query = query.where(s.c.status == status)
    if cursor is not None:
        query = query.where(s.c.opened_position < cursor)
    async with engine.connect() as conn:
        rows = [dict(r._mapping) for r in (await conn.execute(query)).fetchall()]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1]["opened_position"] if more else None)


async def swarm_board_text(engine: AsyncEngine, limit: int, cursor: int | None) -> str:
    """`{"items": [...], "next_cursor": ...}`: open swarm requests, those whose urgency
    time pressure raised first (critical, then high), then most recent first; the
    cursor is a rank (`projections.rows.board_rank`: the position when none was raised)."""
    b = swarm_board
    query = sa.select(b.c.rank.label("position"), b.c.doc).order_by(b.c.rank.desc(), b.c.request_id)
    if cursor is not None:
        query = query.where(b.c.rank < cursor)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.limit(limit + 1))).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    # A case's requests share its position: never cut a position in two.
    if more and rows and len({r.position for r in rows}) > 1:
        last = rows[-1].position
        rows = [r for r in rows if r.position != last]
        nxt: int | None = last + 1
    else:
        nxt = rows[-1].position if more and rows else None
    return _page([str(r.doc) for r in rows], nxt)


async def agents_text(engine: AsyncEngine, limit: int, cursor: str | None) -> str:
    """Agent profiles ordered by agent id (cursor = the last id of the previous page)."""
    v = case_views
    query = sa.select(v.c.key, v.c.doc).where(v.c.view == "agent").order_by(v.c.key)
    if cursor is not None:
        query = query.where(v.c.key > cursor)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.limit(limit + 1))).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return _page([str(r.doc) for r in rows], rows[-1].key if more else None)


async def inbox_text(engine: AsyncEngine, agent_id: UUID) -> str:
    """The agent's inbox document (an empty one when nothing has reached it yet)."""
    v = case_views
    query = sa.select(v.c.doc).where(v.c.view == "inbox", v.c.key == str(agent_id))
    async with engine.connect() as conn:
        text = (await conn.execute(query)).scalar()
    if text is None:
        return json.dumps({"agent_id": str(agent_id), "position": 0, "items": []})
    return str(text)


def _page(docs: list[str], next_cursor: Any) -> str:
    return '{"items":[' + ",".join(docs) + '],"next_cursor":' + json.dumps(next_cursor) + "}"

"""The knowledge read side: articles (from the views), search and similar cases (from the
search tables), and read-your-writes on the index.

Access: a draft is read by its drafter and supervisors; anything else about articles by
every caller. Search shows every agent the resolved cases too (title, product area,
status and the best passage: the knowledge a swarm produced is for the next person with
the problem); the case itself stays readable only by its participants and supervisors.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.actors import Actor
from domain.article import article_id_for
from projections.knowledge_index import KnowledgeIndex, tracked
from projections.search import Hit, SearchQuery, search
from projections.search_schema import TRACKING_NAME

POLL = 0.02


def readable(doc: dict[str, Any], actor: Actor) -> bool:
    return doc["status"] != "draft" or doc["drafted_by"] == str(actor.id) or actor.is_supervisor


@dataclass
class Knowledge:
    engine: AsyncEngine
    #: The indexer running in this process (None without a projector here).
    index: KnowledgeIndex | None = None

    async def position(self) -> int:
        async with self.engine.connect() as conn:
            return await tracked(conn, TRACKING_NAME)

    async def wait_for_position(self, position: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True once the search index has reached `position`; False after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            if self.index is not None and self.index.position >= position:
                return True
            if await self.position() >= position:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.index is not None:
                if await self.index.wait_for(position, min(left, 0.25)):
                    return True
            else:
                await asyncio.sleep(min(left, POLL))

    async def search(self, query: SearchQuery) -> list[Hit]:
        async with self.engine.connect() as conn:
            return await search(conn, query)

    async def article(self, article_id: UUID, actor: Actor) -> dict[str, Any] | None:
        """The article view, or None when absent or not readable by `actor`."""
        q = sa.text("SELECT doc FROM case_views WHERE view = 'article' AND key = :k")
        async with self.engine.connect() as conn:
            text = (await conn.execute(q, {"k": str(article_id)})).scalar()
        if text is None:
            return None
        doc: dict[str, Any] = json.loads(text)
        return doc if readable(doc, actor) else None

    async def articles(
        self, actor: Actor, *, status: str | None, case_id: UUID | None, limit: int
    ) -> list[dict[str, Any]]:
        """Article summaries the caller may read, most recently changed first."""
        sql = "SELECT doc FROM case_views WHERE view = 'article'"
        params: dict[str, Any] = {}
        if case_id is not None:
            sql += " AND key = :k"
            params["k"] = str(article_id_for(case_id))
        sql += " ORDER BY position DESC"
        out: list[dict[str, Any]] = []
        async with self.engine.connect() as conn:
            result = await conn.stream(sa.text(sql), params)
            async for row in result:
                doc = json.loads(row[0])
                if (status is None or doc["status"] == status) and readable(doc, actor):
                    out.append({k: v for k, v in doc.items() if k != "sections"})
                    if len(out) >= limit:
                        break
        return out

    async def similar(self, case_id: UUID) -> dict[str, Any] | None:
        """The similar cases and articles last computed for a case (None: not yet)."""
        q = sa.text("SELECT position, hits FROM case_similar WHERE case_id = :c")
        async with self.engine.connect() as conn:
            row = (await conn.execute(q, {"c": str(case_id)})).first()
        if row is None:
            return None
        return {"case_id": str(case_id), "position": int(row[0]), "hits": json.loads(row[1])}

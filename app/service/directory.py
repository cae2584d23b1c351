"""The agent directory: every agent's profile and contribution held in memory as matching
`Candidate`s, indexed by skill and interest, kept current from the stored views.

`refresh()` reads what changed since its last position: the keys of the "agent" and
"contribution" documents in `view_changes` after that position (indexed by position),
then those documents; the first time, or when the changes it needs were pruned, it reads
every document. It runs at most every `refresh_seconds` unless asked for a position
(read-your-writes), one refresh at a time. Suggestions for 10,000 agents then cost no
database round trip but this one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.matching_settings import MatchingSettings
from app.service.matching import Candidate, reputation
from domain.schedule import DAYS, parse_span
from projections.tables import case_views, view_changes

VIEWS = ("agent", "contribution")
CHUNK = 500


class Directory:
    """Candidates by agent id, with `by_skill` and `by_interest` indexes."""

    def __init__(
        self,
        engine: AsyncEngine,
        views_position: Callable[[], Awaitable[int]],
        weights: MatchingSettings,
    ) -> None:
        self.engine = engine
        self.views_position = views_position
        self.weights = weights
        self.position = 0
        self.profiles: dict[str, dict[str, Any]] = {}
        self.contributions: dict[str, dict[str, Any]] = {}
        self.candidates: dict[str, Candidate] = {}
        self.by_skill: dict[str, set[str]] = {}
        self.by_interest: dict[str, set[str]] = {}
        self._lock = asyncio.Lock()
        self._refreshed = 0.0

    async def refresh(self, min_position: int = 0) -> None:
        """Read newer documents (see the module docstring)."""
        fresh = time.monotonic() - self._refreshed < self.weights.refresh_seconds
        if fresh and self.position >= min_position and self.position:
            return
        async with self._lock:
            position = await self.views_position()
            self._refreshed = time.monotonic()
            if position == self.position:
                return
            async with self.engine.connect() as conn:
                if self.position == 0 or await self._pruned(conn):
                    rows = await self._all(conn)
                else:
                    rows = await self._changed(conn, position)
            for view, key, doc in rows:
                (self.profiles if view == "agent" else self.contributions)[key] = json.loads(doc)
                self._index(key)
            self.position = position

    async def _pruned(self, conn: Any) -> bool:
        oldest = (await conn.execute(sa.select(sa.func.min(view_changes.c.position)))).scalar()
        return oldest is not None and oldest > self.position + 1

    async def _all(self, conn: Any) -> list[tuple[str, str, str]]:
        v = case_views
        query = sa.select(v.c.view, v.c.key, v.c.doc).where(v.c.view.in_(VIEWS))
        return [(r[0], r[1], r[2]) for r in await conn.execute(query)]

    async def _changed(self, conn: Any, upto: int) -> list[tuple[str, str, str]]:
        c, v = view_changes, case_views
        query = (
            sa.select(c.c.view, c.c.key)
            .where(c.c.position > self.position, c.c.position <= upto, c.c.view.in_(VIEWS))
            .distinct()
        )
        keys: dict[str, list[str]] = {}
        for view, key in await conn.execute(query):
            keys.setdefault(view, []).append(key)
        rows: list[tuple[str, str, str]] = []
        for view, names in keys.items():
            for i in range(0, len(names), CHUNK):
                docs = sa.select(v.c.key, v.c.doc).where(
                    v.c.view == view, v.c.key.in_(names[i : i + CHUNK])
                )
                rows += [(view, r[0], r[1]) for r in await conn.execute(docs)]
        return rows

    def load(
        self, profiles: Iterable[dict[str, Any]], contributions: Iterable[dict[str, Any]]
    ) -> None:
        """Take these documents as they are (benchmarks; `refresh` reads the database)."""
        for doc in contributions:
            self.contributions[doc["agent_id"]] = doc
        for doc in profiles:
            self.profiles[doc["agent_id"]] = doc
            self._index(doc["agent_id"])

    def _index(self, agent: str) -> None:
        old = self.candidates.pop(agent, None)
        if old is not None:
            for s in old.skills:
                self.by_skill.get(s, set()).discard(agent)
            for s in old.interests:
                self.by_interest.get(s, set()).discard(agent)
        profile = self.profiles.get(agent)
        if profile is None:
            return
        c = candidate(profile, self.contributions.get(agent, {}), self.weights)
        self.candidates[agent] = c
        for s in c.skills:
            self.by_skill.setdefault(s, set()).add(agent)
        for s in c.interests:
            self.by_interest.setdefault(s, set()).add(agent)

    def matching(self, wanted: Iterable[str]) -> list[Candidate]:
        """Agents with at least one wanted skill or interest (every agent for none), in no
        particular order (ranking orders them)."""
        wanted = list(wanted)
        if not wanted:
            return list(self.candidates.values())
        ids: set[str] = set()
        for s in wanted:
            ids |= self.by_skill.get(s, set())
            ids |= self.by_interest.get(s, set())
        candidates = self.candidates
        return [candidates[a] for a in ids]


def candidate(
    profile: dict[str, Any], contribution: dict[str, Any], w: MatchingSettings
) -> Candidate:
    """A `Candidate` from an "agent" document and its "contribution" document ({} when the
    agent has none yet)."""
    try:
        working = parse_span(profile.get("working_hours", ""))
    except ValueError:
        working = None
    points, score = reputation(contribution, w)
    return Candidate(
        agent_id=profile["agent_id"],
        name=profile["name"],
        skills={str(k).lower(): int(v) for k, v in profile["skills"].items()},
        interests=frozenset(i.lower() for i in profile["interests"]),
        timezone=profile["timezone"],
        availability=profile["availability"],
        capacity=int(profile["capacity"]),
        working=working,
        days=tuple(profile.get("working_days") or DAYS),
        swarms=len(contribution.get("swarms", [])),
        reputation=score,
        points=points,
        declined_at=tuple(
            datetime.fromisoformat(t) for t in contribution.get("declined_at", []) if t
        ),
        declined_cases=frozenset(contribution.get("declined_cases", [])),
        contribution=contribution,
    )

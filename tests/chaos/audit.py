"""What every chaos run checks afterwards, straight from the database: every acknowledged
command in the log exactly once where its answer said, no command twice, positions
and versions contiguous; the views' tracking position, for catch-up times."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from app.store import create_store
from app.store.codec import create_mapper, decode
from domain.case_events import InsightPosted
from tests.chaos.cluster import Cluster
from tests.chaos.load import Command

PAGE = 5_000


class Probe:
    """One connection to a run's schema, opened again whenever the database dropped it."""

    def __init__(self, cluster: Cluster, schema: str) -> None:
        self.cluster, self.schema = cluster, schema
        self._conn: asyncpg.Connection | None = None

    async def _fetchval(self, query: str) -> int:
        for _ in range(2):
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(
                    self.cluster.dsn, timeout=2, server_settings={"search_path": self.schema}
                )
            try:
                return int(await self._conn.fetchval(query, timeout=5) or 0)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                self._conn.terminate()
                self._conn = None
        raise ConnectionError("the database does not answer")

    async def head(self) -> int:
        return await self._fetchval("SELECT coalesce(max(position), 0) FROM events")

    async def tracked(self) -> int:
        return await self._fetchval(
            "SELECT coalesce(max(position), 0) FROM tracking WHERE application_name = 'views'"
        )

    async def until(self, seconds: float) -> tuple[int, int]:
        """Wait until the views have caught up with the log's head as it is when this
        starts; (that head, the tracked position), raising after `seconds`."""
        deadline = time.monotonic() + seconds
        head = -1
        while True:
            try:
                if head < 0:
                    head = await self.head()
                tracked = await self.tracked()
                if tracked >= head:
                    return head, tracked
            except (ConnectionError, OSError, asyncpg.PostgresError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"views not caught up with {head} in {seconds:g} s")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.terminate()


@dataclass
class LogFacts:
    events: int
    insights: dict[str, list[tuple[int, UUID, int]]]  # text -> (position, case, version)

    def positions_of(self, case_id: str) -> list[int]:
        case = UUID(case_id)
        return sorted(p for found in self.insights.values() for p, c, _ in found if c == case)


async def read_log(cluster: Cluster, schema: str) -> LogFacts:
    """Check the log's own shape (contiguous positions, per-stream versions) and
    collect every insight by its text."""
    conn = await asyncpg.connect(cluster.dsn, server_settings={"search_path": schema})
    try:
        count, low, high = await conn.fetchrow(
            "SELECT count(*), coalesce(min(position), 0), coalesce(max(position), 0) FROM events"
        )
        broken = await conn.fetch(
            "SELECT originator_id FROM events GROUP BY originator_id"
            " HAVING min(originator_version) <> 1 OR max(originator_version) <> count(*)"
        )
    finally:
        await conn.close()
    assert (low, high) == ((1, count) if count else (0, 0)), (count, low, high)
    assert not broken, f"versions not contiguous in {len(broken)} stream(s)"
    insights: dict[str, list[tuple[int, UUID, int]]] = defaultdict(list)
    mapper = create_mapper()
    topic = "domain.case:Case.InsightPosted"  # the topic the case's events are stored by
    async with create_store(cluster.url, schema=schema, listen=False) as store:
        after = 0
        while rows := await store.read(after, PAGE, topics=[topic]):
            for r in rows:
                event = decode(mapper, r)
                assert isinstance(event, InsightPosted)
                insights[event.text].append((r.position, r.originator_id, r.originator_version))
            after = rows[-1].position
    return LogFacts(int(count), dict(insights))


def check_commands(log: LogFacts, commands: list[Command]) -> None:
    """Each acknowledged command exactly once, where its answer said; each other one at
    most once; no insight in the log that no client sent, none twice."""
    sent = {c.key for c in commands}
    strangers = [text for text in log.insights if text not in sent]
    assert not strangers, f"insights nobody sent: {strangers[:5]}"
    twice = {text: found for text, found in log.insights.items() if len(found) > 1}
    assert not twice, f"{len(twice)} command(s) recorded more than once: {list(twice.items())[:3]}"
    for c in commands:
        found = log.insights.get(c.key, [])
        if c.acked is None:
            continue
        assert found, f"acknowledged but not in the log: {c.key} {c.acked}"
        position, case, version = found[0]
        assert (position, str(case), version) == (
            c.acked["position"],
            c.acked["case_id"],
            c.acked["version"],
        ), f"{c.key}: acknowledged {c.acked}, recorded at {found[0]}"

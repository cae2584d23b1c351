"""The KPI projection: follows the log and keeps the KPI tables (`projections.kpi_tables`).

One leader per database (leadership "kpis"); it folds batches of events
(`projections.kpi_fold`) and writes the touched rows and its tracking position
("kpis") in one transaction, the position compare-and-set: a batch is applied once,
also across a crash or a change of leader. `rebuild` empties the tables and the
tracking position, so the next run computes every KPI over all history (what a new KPI
needs). `replay(rows)` folds a whole log in memory: the projection equals it (tested).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projections import kpi_rollups as rollups
from projections import tracked
from projections.envelope import Envelope, Recorded
from projections.kpi_fold import KpiBatch, State, case_row, fold_event
from projections.kpi_rollups import DAY_OF, ROLLUPS, Rollup, case_days
from projections.kpi_tables import kpi_activity, kpi_cases, kpi_sla, sla_clocks, sla_policies
from projections.leader import LeadingFollower

__all__ = ["NAME", "KpiProjector", "replay"]

log = logging.getLogger(__name__)
NAME = "kpis"
CHUNK = 1000  # keys per statement
Subscribe = Callable[[int], AsyncIterator[Any]]


def replay(envelopes: Iterable[Envelope]) -> KpiBatch:
    """Every KPI row of a whole log, folded in memory."""
    batch = KpiBatch()
    states: dict[str, State] = {}
    for env in envelopes:
        state = fold_event(batch, states.get(env.key), env.name, env.key, env.event)
        if state is not None:
            states[env.key] = state
    return batch


class KpiProjector(LeadingFollower):
    lead_name = NAME

    def __init__(
        self,
        engine: AsyncEngine,
        subscribe: Subscribe,
        decode: Callable[[Any], Any],
        *,
        schema: str | None = None,
        batch_size: int = 2000,
        retry: float = 1.0,
        linger: float = 0.05,
        flush_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.subscribe = subscribe
        self.decode = decode
        self.schema = schema
        self.batch_size = batch_size
        self.retry = retry
        #: A batch not full yet waits this long for more (fewer, larger transactions:
        #: the KPIs may lag the log by that much)
        self.linger = linger
        #: How long a position that skipped batches reached waits to be stored
        self.flush_seconds = flush_seconds
        self.position = 0
        self.leading = False
        self.events = 0
        self._states: OrderedDict[str, State] = OrderedDict()  # LRU of committed states
        #: LRU of committed `kpi_activity` rows: (day, agent) -> as an expert
        self._active: OrderedDict[tuple[int, str], bool] = OrderedDict()
        self.cache_size = 20_000
        self._advanced = asyncio.Condition()

    async def _while_leading(self) -> None:
        self._states.clear()
        self._active.clear()
        async with self.engine.connect() as conn:
            expected = await tracked.read(conn, NAME)
        await self._advance(expected)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.batch_size * 2)

        async def pump() -> None:
            async for row in self.subscribe(expected):
                await queue.put(row)

        pumping = asyncio.create_task(pump(), name="kpis-pump")
        try:
            while True:
                if self.position > expected:  # skipped batches: store it once idle
                    try:
                        first = await asyncio.wait_for(queue.get(), self.flush_seconds)
                    except TimeoutError:
                        async with self.engine.begin() as conn:
                            await tracked.move(conn, NAME, expected, self.position)
                        expected = self.position
                        continue
                else:
                    first = await queue.get()
                if queue.qsize() < self.batch_size and self.linger > 0:
                    await asyncio.sleep(self.linger)
                rows = [first]
                while len(rows) < self.batch_size and not queue.empty():
                    rows.append(queue.get_nowait())
                expected = await self.project(rows, expected)
        finally:
            pumping.cancel()
            await asyncio.gather(pumping, return_exceptions=True)

    async def project(self, rows: list[Recorded], expected: int) -> int:
        """Fold `rows` (following `expected`, the stored position) and commit the rows
        they changed with the new position; returns the stored position.

        A case whose state the batch left as it was, and an activity row already stored,
        are not written again, nor the rollup days they count on (most events on a case
        already counted: a further insight, a customer message). A batch that changes
        nothing writes nothing, the position included (`position` moves in memory):
        folding those events again from the stored position changes nothing either, so
        a new leader may. The next batch that writes stores the position, or the loop
        once no event came for `flush_seconds`."""
        envelopes = [Envelope(row.position, self.decode(row)) for row in rows]
        position = rows[-1].position
        try:
            async with self.engine.begin() as conn:
                states = await self._load(conn, envelopes)
                before = {k: orjson.dumps(s) for k, s in states.items()}
                days = {k: case_days(case_row(s)) for k, s in states.items()}
                batch = KpiBatch()
                for env in envelopes:
                    state = fold_event(batch, states.get(env.key), env.name, env.key, env.event)
                    if state is not None:
                        states[env.key] = state
                batch.cases = {
                    k: s for k, s in batch.cases.items() if before.get(k) != orjson.dumps(s)
                }
                active = self._active
                batch.activity = {
                    k: x for k, x in batch.activity.items() if k not in active or x > active[k]
                }
                if _empty(batch):
                    written = expected
                else:
                    touched: dict[Rollup, set[int | None]] = {r: set() for r in DAY_OF}
                    for key in batch.cases.keys() & days.keys():  # the days they counted on
                        for rollup, day in days[key].items():
                            touched[rollup].add(day)
                    await write(conn, batch, touched)
                    await tracked.move(conn, NAME, expected, position)
                    written = position
        except BaseException:
            self._states.clear()  # states may be half-folded: trust only the database
            self._active.clear()
            raise
        for key, state in states.items():
            self._states[key] = state
            self._states.move_to_end(key)
        while len(self._states) > self.cache_size:
            self._states.popitem(last=False)
        for k, x in batch.activity.items():
            active[k] = x
            active.move_to_end(k)
        while len(active) > self.cache_size:
            active.popitem(last=False)
        self.events += len(rows)
        await self._advance(position)
        return written

    async def _load(self, conn: AsyncConnection, envelopes: list[Envelope]) -> dict[str, State]:
        keys = {e.key for e in envelopes if "." not in e.name and e.name != "Opened"}
        states = {k: self._states.pop(k) for k in list(keys) if k in self._states}
        missing = [k for k in keys if k not in states]
        for start in range(0, len(missing), 1000):
            chunk = missing[start : start + 1000]
            found = await conn.execute(
                sa.select(kpi_cases.c.case_id, kpi_cases.c.state).where(
                    kpi_cases.c.case_id.in_(chunk)
                )
            )
            for case_id, text in found:
                states[case_id] = json.loads(text)
        return states

    async def _advance(self, position: int) -> None:
        async with self._advanced:
            self.position = position
            self._advanced.notify_all()

    async def rebuild(self) -> None:
        """Empty the KPI tables and the position: the next run folds all history."""
        async with self.engine.begin() as conn:
            for table in (kpi_cases, kpi_activity, kpi_sla, sla_policies, sla_clocks):
                await conn.execute(table.delete())
            for rollup in ROLLUPS:
                await conn.execute(rollup.table.delete())
            await conn.execute(
                sa.text("DELETE FROM tracking WHERE application_name = :n"), {"n": NAME}
            )
        self._states.clear()


def _empty(batch: KpiBatch) -> bool:
    return not (batch.cases or batch.activity or batch.sla or batch.clocks or batch.policies)


def _insert(conn: AsyncConnection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


async def write(
    conn: AsyncConnection,
    batch: KpiBatch,
    touched: dict[Rollup, set[int | None]] | None = None,
) -> None:
    """Upsert the batch's rows and recompute the rollup days they (and, in `touched`,
    their previous rows) count on (in the caller's transaction)."""
    insert = _insert(conn)
    touched = touched if touched is not None else {rollup: set() for rollup in DAY_OF}
    if batch.cases:
        rows = [{**case_row(s), "state": json.dumps(s)} for s in batch.cases.values()]
        for row in rows:
            for rollup, day in case_days(row).items():
                touched[rollup].add(day)
        stmt = insert(kpi_cases)
        cols = {c: stmt.excluded[c] for c in rows[0] if c != "case_id"}
        await conn.execute(stmt.on_conflict_do_update(index_elements=["case_id"], set_=cols), rows)
    if batch.activity:
        stmt = insert(kpi_activity)
        merged = sa.or_(kpi_activity.c.expert, stmt.excluded.expert)
        await conn.execute(
            stmt.on_conflict_do_update(index_elements=["day", "agent_id"], set_={"expert": merged}),
            [{"day": d, "agent_id": a, "expert": x} for (d, a), x in batch.activity.items()],
        )
    if batch.sla:
        stmt = insert(kpi_sla).on_conflict_do_nothing(index_elements=["case_id", "target", "cycle"])
        await conn.execute(stmt, list(batch.sla.values()))
    if batch.clocks:
        gone = [k for k, row in batch.clocks.items() if row is None]
        key = sa.tuple_(sla_clocks.c.case_id, sla_clocks.c.target)
        for start in range(0, len(gone), CHUNK):  # one statement, not a round trip each
            await conn.execute(sla_clocks.delete().where(key.in_(gone[start : start + CHUNK])))
        rows = [row for row in batch.clocks.values() if row is not None]
        if rows:
            stmt = insert(sla_clocks)
            cols = {c: stmt.excluded[c] for c in rows[0] if c not in ("case_id", "target")}
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=["case_id", "target"], set_=cols), rows
            )
    await rollups.refresh(conn, touched, {row["ended_day"] for row in batch.sla.values()})
    if batch.policies:
        rows = [{**p, "document": json.dumps(p["document"])} for p in batch.policies.values()]
        stmt = insert(sla_policies)
        cols = {c: stmt.excluded[c] for c in rows[0] if c != "policy_id"}
        await conn.execute(
            stmt.on_conflict_do_update(index_elements=["policy_id"], set_=cols), rows
        )

"""KPI queries over the KPI tables, for any period, by day or week, optionally split by
product area, priority or owner, and filtered by them. Definitions: README "KPIs".

`kpis(engine, Period(...))` answers, as JSON text (`kpi_document`: parsed), `{"from",
"to", "by", "group", "families", "series": [{"period": "2026-01-05", "group": "high" |
null, <family>: {...}}, ...]}`: one entry per period (the first day of the day or week,
weeks starting on Monday) and group that has data. Durations are seconds, with a
histogram over `BINS` and percentiles estimated from it (linear inside a bin:
"approximate"). Each family is one SQL statement (`projections.kpi_statements`, built
once per shape of query) that also writes the family's document per period and group
(`projections.kpi_text`); only the families asked for run. They read the rollups
(`projections.kpi_rollups`): the daily ones (at most a row per day, product area and
priority), or, by week and split or filtered by owner, the weekly ones per owner, which
hold their documents already (plus the days of the weeks the period cuts, from the KPI
tables). By day and owner, or by owner and product area or priority, they read the KPI
tables themselves, as they all do with `rollups=False` (the same answers, tested
equal). "Owner" is the case's current owner; for SLA outcomes, the owner when the clock
ended.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from projections.kpi_math import EPOCH, bucket_end_day, bucket_int, bucket_of, bucket_start, rate
from projections.kpi_rollups import BINS, CSAT, OPENED, RESOLVED, SLA, Rollup
from projections.kpi_statements import (
    GROUPS,
    backlog_statement,
    cut_ends,
    documents_statement,
    params,
)
from projections.kpi_tables import kpi_activity

__all__ = ["BINS", "FAMILIES", "GROUPS", "Period", "kpi_document", "kpis"]

FAMILIES = ("intake", "swarm", "resolution", "sla", "backlog", "satisfaction", "specialists")
Key = tuple[int, str | None]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    by: str = "week"  # day | week
    group: str | None = None  # a key of GROUPS
    filters: dict[str, str] = field(default_factory=dict)  # GROUPS key -> value
    families: tuple[str, ...] = FAMILIES

    @property
    def days(self) -> tuple[int, int]:
        return (self.start - EPOCH).days, (self.end - EPOCH).days


class _Query:
    def __init__(self, period: Period) -> None:
        self.p = period
        # each family's documents as JSON text, by period bucket and group
        self.docs: dict[str, dict[Key, str]] = defaultdict(dict)

    def group_col(self, table: sa.Table) -> Any:
        g = self.p.group
        return table.c[GROUPS[g]] if g else sa.cast(sa.null(), sa.Text)


async def kpis(engine: AsyncEngine, period: Period, *, rollups: bool = True, lanes: int = 2) -> str:
    """The answer as JSON text (what `GET /api/kpis` sends): the families' documents
    are written by the database (`projections.kpi_text`), Python joins them."""
    q = _Query(period)
    source = _source(period) if rollups else "tables"
    wanted = set(period.families)

    async def documents(conn: Any, rollup: Rollup, families: list[str]) -> None:
        """Each family's document per bucket and group (and SLA target), from the
        rollup's measures per bucket and group, read from its rows or its source."""
        names = tuple(families)
        lo, hi = period.days
        ends = cut_ends(lo, hi) if source == "owner_weeks" else None
        filters = tuple(sorted(period.filters))
        statement = documents_statement(
            rollup, source, period.by, period.group, filters, names, ends
        )
        rows = (await conn.execute(statement, params(lo, hi, period.filters))).all()
        for i, name in enumerate(names, 2):
            q.docs[name] = {(row[0], row[1]): row[i] for row in rows}

    async def intake_swarm(conn: Any) -> None:
        await documents(conn, OPENED, [f for f in ("intake", "swarm") if f in wanted])

    async def resolution(conn: Any) -> None:
        await documents(conn, RESOLVED, ["resolution"])

    async def satisfaction(conn: Any) -> None:
        await documents(conn, CSAT, ["satisfaction"])

    async def sla(conn: Any) -> None:
        await documents(conn, SLA, ["sla"])

    async def backlog(conn: Any) -> None:
        await _backlog(conn, q, source)

    async def specialists(conn: Any) -> None:
        a = kpi_activity.c
        bucket = bucket_of(a.day, period.by).label("bucket")
        lo, hi = period.days
        agents = (
            await conn.execute(
                sa.select(
                    bucket,
                    sa.func.count(sa.distinct(a.agent_id)),
                    sa.func.count(sa.distinct(sa.case((a.expert, a.agent_id)))),
                )
                .where(a.day >= lo, a.day <= hi)
                .group_by(bucket)
            )
        ).all()
        for r in agents:
            q.docs["specialists"][(r[0], None)] = json.dumps(
                {
                    "active_agents": int(r[1]),
                    "acting_as_experts": int(r[2]),
                    "specialist_allocation": rate(r[2], r[1]),
                }
            )

    jobs = []
    if "intake" in wanted or "swarm" in wanted:
        jobs.append(intake_swarm)
    if "resolution" in wanted:
        jobs.append(resolution)
    if "satisfaction" in wanted:
        jobs.append(satisfaction)
    if "sla" in wanted:
        jobs.append(sla)
    if "backlog" in wanted:
        jobs.append(backlog)
    if "specialists" in wanted and period.group is None:
        jobs.append(specialists)

    # `lanes` connections, each running its share of the statements one after another:
    # the database writes one lane's documents while the other's rows are read
    # (a connection per family cost more: past the pool's size, each was opened anew)
    async def lane(share: list[Any]) -> None:
        async with engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # for this lane's transaction only
                await conn.execute(NO_PARALLEL_WORKERS)
            for job in share:
                await job(conn)

    await asyncio.gather(*(lane(jobs[i::lanes]) for i in range(min(lanes, len(jobs)))))
    return _answer(q)


#: The statements read a few thousand rows at most: a parallel plan's workers (which
#: PostgreSQL chose for the splits by owner) took longer to start than the work they
#: shared, 2-3x the statement's time on these two cores, and took cores from others.
NO_PARALLEL_WORKERS = sa.text("SET LOCAL max_parallel_workers_per_gather = 0")

ORDER = ("intake", "swarm", "resolution", "satisfaction", "sla", "backlog", "specialists")


def _answer(q: _Query) -> str:
    """The answer's text: the series in period and group order, each family's
    document in `ORDER` (the same however the lanes end), joined once (the answer
    split by owner is megabytes: each copy of it counts)."""
    p = q.p
    head = json.dumps(
        {
            "from": p.start.isoformat(),
            "to": p.end.isoformat(),
            "by": p.by,
            "group": p.group,
            "families": list(p.families),
        }
    )
    pieces = [head[:-1], ',"series":[']
    periods: dict[int, str] = {}
    groups: dict[str | None, str] = {}
    families = [(f',"{f}":', q.docs[f]) for f in ORDER if f in q.docs]
    keys: set[Key] = set().union(*q.docs.values())
    for b, g in sorted(keys, key=lambda k: (k[0], str(k[1]))):
        start = periods.get(b)
        if start is None:
            start = periods[b] = f'{{"period":"{bucket_start(b, p.by).isoformat()}","group":'
        group = groups.get(g)
        if group is None:
            group = groups[g] = json.dumps(g)
        pieces += (start, group)
        for key, docs in families:
            doc = docs.get((b, g))
            if doc is not None:
                pieces += (key, doc)
        pieces.append("},")
    if len(pieces) > 2:
        pieces[-1] = "}"
    pieces.append("]}")
    return "".join(pieces)


async def kpi_document(
    engine: AsyncEngine, period: Period, *, rollups: bool = True
) -> dict[str, Any]:
    """The answer as a document (the CLI, tests): `kpis` parsed."""
    answer: dict[str, Any] = json.loads(await kpis(engine, period, rollups=rollups))
    return answer


def _source(period: Period) -> str:
    """Where a query reads: "days" (the daily rollups per area and priority),
    "owner_weeks" (the weekly rollups per owner: by week, split or filtered by owner
    only) or "tables" (the KPI tables: by day and by owner, or by owner and another
    filter)."""
    owner = period.group == "owner" or "owner" in period.filters
    if not owner:
        return "days"
    if period.by == "week" and period.group in (None, "owner") and set(period.filters) <= {"owner"}:
        return "owner_weeks"
    return "tables"


async def _backlog(conn: Any, q: _Query, source: str) -> None:
    """Open cases at the end of each period, and their mean age then: cumulative
    opened minus ended (with the sums of their opening times), from before the range."""
    p = q.p
    lo, hi = p.days
    statement = backlog_statement(source, p.by, p.group, tuple(sorted(p.filters)))
    rows = (await conn.execute(statement, params(lo, hi, p.filters))).all()
    first = bucket_int(lo, p.by)
    last = bucket_int(hi, p.by)
    docs = q.docs["backlog"]
    i = 0
    while i < len(rows):  # a run of rows per group, in bucket order
        g = rows[i][1]
        n = total = 0.0
        for bucket in range(first, last + 1):
            while i < len(rows) and rows[i][1] == g and rows[i][0] <= bucket:
                n, total = rows[i][2], rows[i][3]
                i += 1
            if n > 0:  # a float's repr is its JSON
                end_ts = (min(bucket_end_day(bucket, p.by), hi) + 1) * 86400.0
                age = round(end_ts - total / n, 1)
                docs[(bucket, g)] = f'{{"open":{int(n)},"mean_age_s":{age!r}}}'

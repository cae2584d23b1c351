"""KPI queries over the KPI tables, for any period, by day or week, optionally split by
product area, priority or owner, and filtered by them. Definitions: README "KPIs".

`kpis(engine, Period(...))` answers `{"from", "to", "by", "group", "families",
"series": [{"period": "2026-01-05", "group": "high" | null, <family>: {...}}, ...]}`:
one entry per period (the first day of the day or week, weeks starting on Monday) and
group that has data. Durations are seconds, with a histogram over `BINS` and
percentiles estimated from it (linear inside a bin: "approximate"). Each family is one
SQL statement (two for backlog, four by owner); only the families asked for run. They
read the rollups (`projections.kpi_rollups`): the daily ones (at most a row per day,
product area and priority), or, by week and split or filtered by owner, the weekly ones
per owner (plus the days of the weeks the period cuts, from the KPI tables). By day and
owner, or by owner and product area or priority, they read the KPI tables themselves,
as they all do with `rollups=False` (the same answers, tested equal). "Owner" is the
case's current owner; for SLA outcomes, the owner when the clock ended.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from projections.kpi_math import (
    EPOCH,
    Histograms,
    bucket_end_day,
    bucket_int,
    bucket_of,
    bucket_start,
    collector_paused,
    duration_doc,
    rate,
)
from projections.kpi_rollups import BINS, BY_OWNER, CSAT, ENDED, OPENED, RESOLVED, SLA, Rollup
from projections.kpi_tables import kpi_activity, kpi_cases

__all__ = ["BINS", "FAMILIES", "GROUPS", "Period", "kpis"]

FAMILIES = ("intake", "swarm", "resolution", "sla", "backlog", "satisfaction", "specialists")
GROUPS = {"product_area": "product_area", "priority": "priority", "owner": "owner_id"}
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
        self.series: dict[Key, dict[str, Any]] = defaultdict(dict)
        self.histograms: Histograms = {}

    def group_col(self, table: sa.Table) -> Any:
        g = self.p.group
        return table.c[GROUPS[g]] if g else sa.literal(None)

    def where(self, table: sa.Table, day_col: Any) -> list[Any]:
        lo, hi = self.p.days
        out = [day_col >= lo, day_col <= hi]
        out += [table.c[GROUPS[k]] == v for k, v in self.p.filters.items()]
        return out

    async def grouped(
        self, conn: Any, table: sa.Table, day_col: Any, cols: list[Any], extra: Sequence[Any] = ()
    ) -> list[Any]:
        bucket = bucket_of(day_col, self.p.by).label("bucket")
        grp = self.group_col(table).label("grp")
        q = (
            sa.select(bucket, grp, *extra, *cols)
            .where(*self.where(table, day_col))
            .group_by(bucket, grp, *extra)
        )
        return list((await conn.execute(q)).all())


async def kpis(
    engine: AsyncEngine, period: Period, *, rollups: bool = True, lanes: int = 2
) -> dict[str, Any]:
    q = _Query(period)
    source = _source(period) if rollups else "tables"
    rolled = source == "days"  # backlog's reading of the daily rollups

    async def grouped(conn: Any, rollup: Rollup) -> list[Any]:
        """The rollup's measures per bucket and group, from its rows or its source."""
        if source == "days":
            t = rollup.table
            extra = [t.c[e] for e in rollup.extra]
            return await q.grouped(conn, t, t.c.day, rollup.rolled(), extra)
        if source == "owner_weeks":
            return await _owner_weeks(conn, q, rollup)
        extra = [rollup.source.c[e] for e in rollup.extra]
        return await q.grouped(conn, rollup.source, rollup.source_day, rollup.raw(), extra)

    async def intake_swarm(conn: Any) -> None:
        rows = await grouped(conn, OPENED)
        n = 3 + len(BINS)
        with collector_paused():
            for r in rows:
                opened, swarmed = int(r[2]), r[3]
                first, expert = r[4 : 4 + n], r[4 + n : 4 + 2 * n]
                size, inv, dec, accepted, before, acked, authors = r[4 + 2 * n : 11 + 2 * n]
                entry = q.series[(r.bucket, r.grp)]
                if "intake" in period.families:
                    entry["intake"] = {
                        "opened": opened,
                        "first_response": duration_doc(first, q.histograms),
                    }
                if "swarm" in period.families:
                    entry["swarm"] = {
                        "swarm_rate": rate(swarmed, opened),
                        "swarmed": int(swarmed or 0),
                        "time_to_first_expert": duration_doc(expert, q.histograms),
                        "swarm_size_mean": round(int(size or 0) / swarmed, 2) if swarmed else None,
                        "decline_rate": rate(dec, inv),
                        "proposals_before_acceptance_mean": (
                            round(int(before or 0) / accepted, 2) if accepted else None
                        ),
                        "briefing_first_rate": rate(acked, authors),
                    }

    async def resolution(conn: Any) -> None:
        rows = await grouped(conn, RESOLVED)
        with collector_paused():
            for r in rows:
                resolved = int(r[2])
                q.series[(r.bucket, r.grp)]["resolution"] = {
                    "resolved": resolved,
                    "first_contact_resolution_rate": rate(r[3], resolved),
                    "owner_retained_rate": rate(r[4], resolved),
                    "handoff_rate": rate(r[5], resolved),
                    "resolution_time": duration_doc(r[6:], q.histograms),
                }

    async def satisfaction(conn: Any) -> None:
        rows = await grouped(conn, CSAT)
        with collector_paused():
            for r in rows:
                n = int(r[2])
                q.series[(r.bucket, r.grp)]["satisfaction"] = {
                    "responses": n,
                    "mean": round(int(r[3]) / n, 2) if n else None,
                    "satisfied_rate": rate(int(r[7] or 0) + int(r[8] or 0), n),  # 4 and 5
                    "distribution": {
                        str(s): int(v or 0) for s, v in zip(range(1, 6), r[4:9], strict=True)
                    },
                }

    async def sla(conn: Any) -> None:
        rows = await grouped(conn, SLA)
        with collector_paused():
            for r in rows:
                total, met = int(r[3]), int(r[4] or 0)
                sla = q.series[(r.bucket, r.grp)].setdefault("sla", {})
                sla[r.target] = {
                    "met": met,
                    "breached": total - met,
                    "compliance": rate(met, total),
                }

    async def backlog(conn: Any) -> None:
        if source == "owner_weeks":
            await _backlog_owner_weeks(conn, q)
        else:
            await _backlog(conn, q, rolled)

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
            q.series[(r[0], None)]["specialists"] = {
                "active_agents": int(r[1]),
                "acting_as_experts": int(r[2]),
                "specialist_allocation": rate(r[2], r[1]),
            }

    jobs = []
    if "intake" in period.families or "swarm" in period.families:
        jobs.append(intake_swarm)
    if "resolution" in period.families:
        jobs.append(resolution)
    if "satisfaction" in period.families:
        jobs.append(satisfaction)
    if "sla" in period.families:
        jobs.append(sla)
    if "backlog" in period.families:
        jobs.append(backlog)
    if "specialists" in period.families and period.group is None:
        jobs.append(specialists)

    # `lanes` connections, each running its share of the statements one after another:
    # one lane's database work overlaps the other's building of its rows' documents
    # (a connection per family cost more: past the pool's size, each was opened anew)
    async def lane(share: list[Any]) -> None:
        async with engine.connect() as conn:
            for job in share:
                await job(conn)

    await asyncio.gather(*(lane(jobs[i::lanes]) for i in range(min(lanes, len(jobs)))))
    order = ("intake", "swarm", "resolution", "satisfaction", "sla", "backlog", "specialists")
    with collector_paused():
        series = [
            {
                "period": bucket_start(b, period.by).isoformat(),
                "group": g,
                **{f: v[f] for f in order if f in v},  # the same order however lanes end
            }
            for (b, g), v in sorted(q.series.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))
        ]
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "by": period.by,
        "group": period.group,
        "families": list(period.families),
        "series": series,
    }


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


def _whole_weeks(lo: int, hi: int) -> tuple[int, int]:
    """The first and last week lying wholly within days `lo`..`hi` (first > last: none);
    week w runs from day w * 7 - 3 (a Monday) to w * 7 + 3."""
    return -(-(lo + 3) // 7), (hi - 3) // 7


def _group(q: _Query, table: sa.Table) -> Any:
    """The split column, or a typed NULL (the branches of a UNION agree on it)."""
    return q.group_col(table) if q.p.group else sa.cast(sa.null(), sa.Text)


def _filters(q: _Query, table: sa.Table) -> list[Any]:
    return [table.c[GROUPS[k]] == v for k, v in q.p.filters.items()]


async def _owner_weeks(conn: Any, q: _Query, rollup: Rollup) -> list[Any]:
    """`rollup`'s measures per week and owner: the weeks wholly in the period from the
    weekly rollup per owner, the days of a week cut by the period's ends from the KPI
    tables (indexed by day: at most six days at each end). The two never share a week,
    and a rollup row is one week and owner: a UNION ALL, nothing to add up."""
    lo, hi = q.p.days
    first, last = _whole_weeks(lo, hi)
    src = rollup.source
    extra = [src.c[e] for e in rollup.extra]
    if first > last:  # no whole week: a few days of the source
        return await q.grouped(conn, src, rollup.source_day, rollup.raw(), extra)
    t = BY_OWNER[rollup].table
    branches = [
        sa.select(
            t.c.week.label("bucket"),
            _group(q, t).label("grp"),
            *(t.c[e] for e in rollup.extra),
            *(t.c[m.name] for m in rollup.measures),
        ).where(t.c.week >= first, t.c.week <= last, *_filters(q, t))
    ]
    day = rollup.source_day
    bucket = bucket_of(day, "week").label("bucket")
    grp = _group(q, src).label("grp")
    for start, end in ((lo, first * 7 - 4), (last * 7 + 4, hi)):
        if start <= end:
            branches.append(
                sa.select(bucket, grp, *extra, *rollup.raw())
                .where(day >= start, day <= end, *_filters(q, src))
                .group_by(bucket, grp, *extra)
            )
    return list((await conn.execute(sa.union_all(*branches))).all())


Moves = dict[str | None, dict[int, list[float]]]


def _moves() -> Moves:
    return defaultdict(lambda: defaultdict(lambda: [0.0] * 4))


async def _backlog_owner_weeks(conn: Any, q: _Query) -> None:
    """Backlog by week from the weekly rollups per owner: each whole week up to the
    period's last counts on its Sunday (before the period: on the day before it), the
    days after it from the KPI tables."""
    lo, hi = q.p.days
    last = (hi - 3) // 7
    moves = _moves()
    for rollup, slot in ((OPENED, 0), (ENDED, 2)):
        t = BY_OWNER[rollup].table
        week_end = t.c.week * 7 + 3
        d = sa.case((week_end < lo, lo - 1), else_=week_end).label("d")
        grp = _group(q, t).label("grp")
        weekly = (
            sa.select(d, grp, sa.func.sum(t.c.n), sa.func.sum(t.c.opened_at_sum))
            .where(t.c.week <= last, *_filters(q, t))
            .group_by(d, grp)
        )
        day_col = rollup.source_day
        d = sa.case((day_col < lo, lo - 1), else_=day_col).label("d")
        grp = _group(q, kpi_cases).label("grp")
        tail = (
            sa.select(d, grp, sa.func.count(), sa.func.sum(kpi_cases.c.opened_at))
            .where(day_col > last * 7 + 3, day_col <= hi, *_filters(q, kpi_cases))
            .group_by(d, grp)
        )
        for statement in (weekly, tail):
            for day, g, k, at_sum in (await conn.execute(statement)).all():
                moves[g][int(day)][slot] += int(k)
                moves[g][int(day)][slot + 1] += float(at_sum or 0)
    _backlog_walk(q, moves)


async def _backlog(conn: Any, q: _Query, rolled: bool) -> None:
    """Open cases at the end of each period, and their mean age then: cumulative
    opened minus ended (with the sums of their opening times), from before the range."""
    c = kpi_cases.c
    p = q.p
    lo, hi = p.days
    moves = _moves()
    for rollup, slot in ((OPENED, 0), (ENDED, 2)):
        t = rollup.table if rolled else kpi_cases
        day_col: Any = t.c.day if rolled else rollup.source_day
        count: Any = sa.func.sum(t.c.n) if rolled else sa.func.count()
        opened: Any = sa.func.sum(t.c.opened_at_sum) if rolled else sa.func.sum(c.opened_at)
        grp = q.group_col(t).label("grp")
        filters = [t.c[GROUPS[k]] == v for k, v in p.filters.items()]
        day = sa.case((day_col < lo, lo - 1), else_=day_col).label("d")
        rows = (
            await conn.execute(
                sa.select(day, grp, count, opened).where(day_col <= hi, *filters).group_by(day, grp)
            )
        ).all()
        for d, g, k, at_sum in rows:
            moves[g][int(d)][slot] += int(k)
            moves[g][int(d)][slot + 1] += float(at_sum or 0)
    _backlog_walk(q, moves)


def _backlog_walk(q: _Query, moves: Moves) -> None:
    """Each period's open cases and mean age from the day moves (opened count and
    opening-time sum, ended count and sum; before the period: on the day before it)."""
    p = q.p
    lo, hi = p.days
    with collector_paused():
        for g, by_day in moves.items():
            n = total = 0.0
            days = sorted(by_day)
            i = 0
            bucket = bucket_int(lo, p.by)
            while bucket_start(bucket, p.by) <= p.end:
                end_day = min(bucket_end_day(bucket, p.by), hi)
                while i < len(days) and days[i] <= end_day:
                    opened, opened_sum, ended, ended_sum = by_day[days[i]]
                    n += opened - ended
                    total += opened_sum - ended_sum
                    i += 1
                end_ts = (end_day + 1) * 86400.0
                if n > 0:
                    q.series[(bucket, g)]["backlog"] = {
                        "open": int(n),
                        "mean_age_s": round(end_ts - total / n, 1),
                    }
                bucket += 1

"""Rollups of the KPI tables, so a KPI query over a year reads at most a row per day,
product area and priority (Alembic revision 0013), or per week and owner (revision
0020), instead of every case.

Each `Rollup` sums (or takes the maximum of) a list of measures of its source table
(`kpi_cases` or `kpi_sla`) per day of one day column, product area and priority (and
SLA target). The measures are the aggregates the KPI queries compute, declared once:
`raw()` computes them over the source rows, `rolled()` over the rollup's rows, in the
same order, so a query reads either and processes the rows alike (tested equal). The
KPI projection keeps them in the transaction that writes the source rows: `refresh`
recomputes, from the source table, the days a batch touched (a case's old and new days),
so maxima and moved days stay exact; the weekly rollups per owner, the whole weeks of
those days. An owner's rows are the case's current owner's (`kpi_cases.owner_id`: a
hand-off moves every measure of the case to the new owner, as the source does) and, for
SLA outcomes, the owner's when the clock ended (`kpi_sla.owner_id`). Rows stay bounded:
at most days x areas x priorities, and weeks x owners. The weekly rows per owner also
hold their family documents (`docs`, revision 0021), written with the row from its
measures by `projections.kpi_text`, so a year split by owner reads 3,180 of them rather
than writing them per query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from projections import kpi_text as text
from projections.kpi_math import BINS
from projections.kpi_tables import kpi_cases, kpi_sla

__all__ = [
    "ALL_ROLLUPS",
    "BINS",
    "BY_OWNER",
    "CSAT",
    "ENDED",
    "OPENED",
    "OWNER_ROLLUPS",
    "RESOLVED",
    "ROLLUPS",
    "SLA",
    "Rollup",
    "case_days",
    "doc_column",
    "metadata",
    "owner_metadata",
    "refresh",
    "refresh_all",
    "week_days",
    "week_of",
]

metadata = sa.MetaData()
CHUNK = 500  # days per statement


@dataclass(frozen=True)
class Measure:
    name: str
    expr: Any  # an aggregate over the source rows
    kind: str = "sum"  # how rollup rows combine: sum | max
    type_: Any = sa.Integer


def _sum_if(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def duration(prefix: str, col: Any) -> list[Measure]:
    """Count, sum, max and a histogram over `BINS` of a duration column."""
    out = [
        Measure(f"{prefix}_n", sa.func.count(col)),
        Measure(f"{prefix}_sum", sa.func.sum(col), type_=sa.Float),
        Measure(f"{prefix}_max", sa.func.max(col), "max", sa.Float),
    ]
    edges = [*BINS[1:], None]
    for i, (lo, hi) in enumerate(zip(BINS, edges, strict=True)):
        within = col >= lo if hi is None else sa.and_(col >= lo, col < hi)
        out.append(Measure(f"{prefix}_b{i}", _sum_if(within)))
    return out


class Rollup:
    """Measures of `source` summed per `grain` ("day", or "week": Monday to Sunday,
    numbered `(day + 3) // 7`) of its `day` column and per `dims` (and `extra`)."""

    def __init__(
        self,
        name: str,
        source: sa.Table,
        day: str,
        measures: Sequence[Measure],
        extra: Sequence[str] = (),
        *,
        dims: Sequence[str] = ("product_area", "priority"),
        grain: str = "day",
        meta: sa.MetaData = metadata,
        docs: Sequence[str] = (),
    ) -> None:
        self.source = source
        self.source_day = source.c[day]
        self.measures = tuple(measures)
        self.extra = tuple(extra)
        self.dims = tuple(dims)
        self.grain = grain
        self.docs = tuple(docs)
        keys = (grain, *self.dims, *self.extra)
        self.table = sa.Table(
            name,
            meta,
            sa.Column(grain, sa.Integer(), nullable=False),
            *(sa.Column(d, sa.Text(), nullable=False) for d in self.dims),
            *(sa.Column(e, sa.Text(), nullable=False) for e in self.extra),
            *(sa.Column(m.name, m.type_()) for m in self.measures),
            *(sa.Column(doc_column(f), sa.Text()) for f in self.docs),
            sa.PrimaryKeyConstraint(*keys),
        )

    @property
    def key(self) -> Any:
        """The rollup's day or week column."""
        return self.table.c[self.grain]

    def source_key(self) -> Any:
        """The source's day column at the rollup's grain."""
        return self.source_day if self.grain == "day" else week_of(self.source_day)

    def raw(self) -> list[Any]:
        return [m.expr for m in self.measures]

    def rolled(self) -> list[Any]:
        t = self.table.c
        return [
            sa.func.max(t[m.name]) if m.kind == "max" else sa.func.sum(t[m.name])
            for m in self.measures
        ]

    def _select(self, where: Any) -> Any:
        src = self.source.c
        keys = [self.source_key(), *(src[d] for d in (*self.dims, *self.extra))]
        measures = [e.label(m.name) for e, m in zip(self.raw(), self.measures, strict=True)]
        select = sa.select(*keys, *measures).where(where).group_by(*keys)
        if not self.docs:
            return select
        c = select.subquery("m").c  # the row's documents, written from its measures
        return sa.select(*c, *(text.FAMILIES[f]("m") for f in self.docs))

    @property
    def columns(self) -> list[str]:
        names = [self.grain, *self.dims, *self.extra, *(m.name for m in self.measures)]
        return [*names, *(doc_column(f) for f in self.docs)]

    async def refresh(self, conn: AsyncConnection, days: Iterable[int | None]) -> None:
        """Recompute the rollup rows of `days` (for a weekly rollup: of their whole
        weeks) from the source (in the caller's transaction)."""
        wanted = sorted({d for d in days if d is not None})
        if self.grain == "week":
            wanted = sorted({(d + 3) // 7 for d in wanted})
        step = CHUNK if self.grain == "day" else CHUNK // 7
        for start in range(0, len(wanted), step):
            chunk = wanted[start : start + step]
            await conn.execute(self.table.delete().where(self.key.in_(chunk)))
            source_days = chunk if self.grain == "day" else week_days(chunk)
            select = self._select(self.source_day.in_(source_days))
            await conn.execute(self.table.insert().from_select(self.columns, select))

    def fill(self) -> list[Any]:
        """The statements that recompute every row (a migration, a rebuild)."""
        select = self._select(self.source_day.is_not(None))
        return [self.table.delete(), self.table.insert().from_select(self.columns, select)]


def doc_column(family: str) -> str:
    """The column of a weekly rollup per owner that holds the row's `family` document."""
    return f"{family}_doc"


def week_of(day: Any) -> Any:
    """The week (Monday to Sunday) of a day number: 1970-01-01 was a Thursday."""
    return (day + 3) // 7


def week_days(weeks: Iterable[int]) -> list[int]:
    """The day numbers of `weeks` (the source's day index finds them)."""
    return [w * 7 - 3 + i for w in weeks for i in range(7)]


c = kpi_cases.c
OPENED = Rollup(
    "kpi_opened_days",
    kpi_cases,
    "opened_day",
    [
        Measure("n", sa.func.count()),
        Measure("swarmed", _sum_if(c.swarmed)),
        *duration("first_response", c.first_response_s),
        *duration("first_expert", c.first_expert_s),
        Measure("swarm_size", sa.func.sum(c.swarm_size)),
        Measure("invitations", sa.func.sum(c.invitations)),
        Measure("declines", sa.func.sum(c.declines)),
        Measure("accepted", sa.func.count(c.proposals_before_accept)),
        Measure("proposals_before_accept", sa.func.sum(c.proposals_before_accept)),
        Measure("acked_first", sa.func.sum(c.acked_first)),
        Measure("insight_experts", sa.func.sum(c.insight_experts)),
        Measure("opened_at_sum", sa.func.sum(c.opened_at), type_=sa.Float),
    ],
)
RESOLVED = Rollup(
    "kpi_resolved_days",
    kpi_cases,
    "resolved_day",
    [
        Measure("n", sa.func.count()),
        Measure("first_touch", _sum_if(c.first_touch)),
        Measure("owner_retained", _sum_if(c.owner_retained)),
        Measure("handed_off", _sum_if(c.handed_off)),
        *duration("resolution", c.resolution_s),
    ],
)
CSAT = Rollup(
    "kpi_csat_days",
    kpi_cases,
    "csat_day",
    [
        Measure("n", sa.func.count()),
        Measure("csat_sum", sa.func.sum(c.csat)),
        *(Measure(f"score_{s}", _sum_if(c.csat == s)) for s in range(1, 6)),
    ],
)
ENDED = Rollup(
    "kpi_ended_days",
    kpi_cases,
    "ended_day",
    [
        Measure("n", sa.func.count()),
        Measure("opened_at_sum", sa.func.sum(c.opened_at), type_=sa.Float),
    ],
)
SLA = Rollup(
    "kpi_sla_days",
    kpi_sla,
    "ended_day",
    [Measure("n", sa.func.count()), Measure("met", _sum_if(kpi_sla.c.met))],
    extra=("target",),
)
ROLLUPS = (OPENED, RESOLVED, CSAT, ENDED, SLA)
DAY_OF = {OPENED: "opened_day", RESOLVED: "resolved_day", CSAT: "csat_day", ENDED: "ended_day"}

#: The weekly rollups per owner (Alembic revision 0020; their own metadata, so 0013,
#: which creates and fills `metadata`, stays what it was)
owner_metadata = sa.MetaData()


def _per_owner_week(rollup: Rollup, name: str, docs: Sequence[str] = ()) -> Rollup:
    return Rollup(
        name,
        rollup.source,
        rollup.source_day.name,
        rollup.measures,
        rollup.extra,
        dims=("owner_id",),
        grain="week",
        meta=owner_metadata,
        docs=docs,
    )


BY_OWNER = {
    OPENED: _per_owner_week(OPENED, "kpi_opened_owner_weeks", ("intake", "swarm")),
    RESOLVED: _per_owner_week(RESOLVED, "kpi_resolved_owner_weeks", ("resolution",)),
    CSAT: _per_owner_week(CSAT, "kpi_csat_owner_weeks", ("satisfaction",)),
    ENDED: _per_owner_week(ENDED, "kpi_ended_owner_weeks"),
    SLA: _per_owner_week(SLA, "kpi_sla_owner_weeks", ("sla",)),
}
OWNER_ROLLUPS = tuple(BY_OWNER.values())
ALL_ROLLUPS = (*ROLLUPS, *OWNER_ROLLUPS)


def case_days(row: dict[str, Any]) -> dict[Rollup, int | None]:
    """The day each case rollup counts a `kpi_cases` row on."""
    return {rollup: row[column] for rollup, column in DAY_OF.items()}


async def refresh(
    conn: AsyncConnection, days: dict[Rollup, set[int | None]], sla_days: Iterable[int]
) -> None:
    """Recompute the days touched (and their weeks per owner): per case rollup, and of
    `kpi_sla` rows."""
    for rollup, touched in days.items():
        if touched:
            await rollup.refresh(conn, touched)
            await BY_OWNER[rollup].refresh(conn, touched)
    wanted = set(sla_days)
    if wanted:
        await SLA.refresh(conn, wanted)
        await BY_OWNER[SLA].refresh(conn, wanted)


async def refresh_all(conn: AsyncConnection) -> None:
    """Every rollup from its source (a rebuild; migrations 0013 and 0020 run `fill`
    themselves)."""
    for rollup in ALL_ROLLUPS:
        for statement in rollup.fill():
            await conn.execute(statement)

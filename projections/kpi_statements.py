"""The KPI families' statements (`projections.kpi_queries`), built once per shape of
query and reused: each writes its families' documents (`projections.kpi_text`), so it
is a large expression, and building it anew per query cost more Python than the
documents it spares (and fed the garbage collector). The period's days, weeks and
filter values are parameters (`params`); the shape is the rest: where it reads, the
granularity, the split, which filters, which families, and which ends of the period
cut a week (by owner).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from projections import kpi_text as text
from projections.kpi_math import bucket_of
from projections.kpi_rollups import BY_OWNER, ENDED, OPENED, Rollup, doc_column
from projections.kpi_tables import kpi_cases

__all__ = [
    "GROUPS",
    "backlog_statement",
    "cut_ends",
    "documents_statement",
    "params",
    "whole_weeks",
]

GROUPS = {"product_area": "product_area", "priority": "priority", "owner": "owner_id"}


def whole_weeks(lo: int, hi: int) -> tuple[int, int]:
    """The first and last week lying wholly within days `lo`..`hi` (first > last: none);
    week w runs from day w * 7 - 3 (a Monday) to w * 7 + 3."""
    return -(-(lo + 3) // 7), (hi - 3) // 7


def params(lo: int, hi: int, filters: dict[str, str]) -> dict[str, Any]:
    """The values of a period's parameters (a statement uses those of its shape)."""
    first, last = whole_weeks(lo, hi)
    out: dict[str, Any] = {
        "lo": lo,
        "hi": hi,
        "first_week": first,
        "last_week": last,
        "head_end": first * 7 - 4,  # the days before the first whole week
        "tail_start": last * 7 + 4,  # the days after the last one
    }
    out.update({f"filter_{k}": v for k, v in filters.items()})
    return out


def cut_ends(lo: int, hi: int) -> tuple[bool, bool] | None:
    """Which ends of the period cut a week (None: no whole week at all)."""
    first, last = whole_weeks(lo, hi)
    if first > last:
        return None
    return lo <= first * 7 - 4, last * 7 + 4 <= hi


def _p(name: str) -> Any:
    return sa.bindparam(name, type_=sa.Integer)


def _group(table: sa.Table, group: str | None) -> Any:
    """The split column, or a typed NULL (the branches of a UNION agree on it)."""
    return (table.c[GROUPS[group]] if group else sa.cast(sa.null(), sa.Text)).label("grp")


def _filters(table: sa.Table, filters: Sequence[str]) -> list[Any]:
    return [table.c[GROUPS[k]] == sa.bindparam(f"filter_{k}", type_=sa.Text) for k in filters]


def _labelled(rollup: Rollup, exprs: list[Any]) -> list[Any]:
    return [e.label(m.name) for e, m in zip(exprs, rollup.measures, strict=True)]


def _grouped(
    table: sa.Table,
    day_col: Any,
    cols: list[Any],
    extra: Sequence[Any],
    by: str,
    group: str | None,
    filters: Sequence[str],
    lo: str = "lo",
    hi: str = "hi",
) -> Any:
    bucket = bucket_of(day_col, by).label("bucket")
    grp = _group(table, group)
    return (
        sa.select(bucket, grp, *extra, *cols)
        .where(day_col >= _p(lo), day_col <= _p(hi), *_filters(table, filters))
        .group_by(bucket, grp, *extra)
    )


def _owner_weeks(
    rollup: Rollup,
    group: str | None,
    filters: Sequence[str],
    ends: tuple[bool, bool],
    families: tuple[str, ...],
) -> Any:
    """`(bucket, grp, [target,] <a document per family>...)` per week and owner: the weeks
    wholly in the period as the weekly rollup per owner holds them (their documents
    written by the projection), the days of a week cut by the period's ends from the KPI
    tables (indexed by day: at most six days at each end). The two never share a week,
    and a rollup row is one week and owner: a UNION ALL, nothing to add up."""
    t = BY_OWNER[rollup].table
    branches = [
        sa.select(
            t.c.week.label("bucket"),
            _group(t, group),
            *(t.c[e] for e in rollup.extra),
            *(t.c[doc_column(f)].label(f) for f in families),
        ).where(t.c.week >= _p("first_week"), t.c.week <= _p("last_week"), *_filters(t, filters))
    ]
    src = rollup.source
    raw = _labelled(rollup, rollup.raw())
    extra = [src.c[e] for e in rollup.extra]
    ranges = (("head", "lo", "head_end"), ("tail", "tail_start", "hi"))
    for cut, (alias, lo, hi) in zip(ends, ranges, strict=True):
        if cut:
            days = _grouped(src, rollup.source_day, raw, extra, "week", group, filters, lo, hi)
            c = days.subquery(alias).c
            keys = [c.bucket, c.grp, *(c[e] for e in rollup.extra)]
            docs = (text.FAMILIES[f](alias).label(f) for f in families)
            branches.append(sa.select(*keys, *docs))
    return sa.union_all(*branches).subquery("d").c


@lru_cache(maxsize=512)
def documents_statement(
    rollup: Rollup,
    source: str,
    by: str,
    group: str | None,
    filters: tuple[str, ...],
    families: tuple[str, ...],
    ends: tuple[bool, bool] | None,
) -> Any:
    """`(bucket, grp, [target,] <a document per family>...)` rows: `rollup`'s measures
    per bucket and group, read from its daily rows ("days"), the weekly rows per owner
    ("owner_weeks", with the cut `ends`) or its source ("tables"). SLA outcomes come a
    row per target; their documents are gathered per bucket and group (the targets are
    the engine's own names: nothing in them to escape)."""
    if source == "owner_weeks" and ends is not None:
        d = _owner_weeks(rollup, group, filters, ends, families)
        docs = [d[f] for f in families]
    else:
        c = _measures(rollup, source, by, group, filters).subquery("m").c
        d = c
        docs = [text.FAMILIES[f]("m") for f in families]
    if "target" in rollup.extra:  # SLA: `{"<target>": {...}, ...}`, a row per target
        doc = text.lit('"') + d.target + text.lit('":') + docs[0]
        targets = text.lit("{") + sa.func.aggregate_strings(doc, ",") + text.lit("}")
        return sa.select(d.bucket, d.grp, targets).group_by(d.bucket, d.grp)
    return sa.select(d.bucket, d.grp, *docs)


def _measures(
    rollup: Rollup, source: str, by: str, group: str | None, filters: Sequence[str]
) -> Any:
    """`rollup`'s measures per bucket and group (and extra key), by name."""
    if source == "days":
        t = rollup.table
        cols = _labelled(rollup, rollup.rolled())
        return _grouped(t, t.c.day, cols, [t.c[e] for e in rollup.extra], by, group, filters)
    src = rollup.source
    raw = _labelled(rollup, rollup.raw())
    extra = [src.c[e] for e in rollup.extra]
    # the KPI tables; by owner too when no week lies wholly in the period
    return _grouped(src, rollup.source_day, raw, extra, by, group, filters)


def _moves(
    rollup: Rollup, source: str, by: str, group: str | None, filters: Sequence[str], sign: int
) -> list[Any]:
    """`rollup`'s cases (opened, or ended) per bucket and group, with the sum of their
    opening times, `sign`ed: those before the period count in its first bucket."""

    def select(table: sa.Table, day: Any, count: Any, at_sum: Any, *where: Any) -> Any:
        bucket = bucket_of(sa.case((day < _p("lo"), _p("lo")), else_=day), by).label("bucket")
        grp = _group(table, group)
        return (
            sa.select(bucket, grp, (count * sign).label("k"), (at_sum * sign).label("at"))
            .where(*where, *_filters(table, filters))
            .group_by(bucket, grp)
        )

    c = kpi_cases.c
    day = rollup.source_day
    if source == "days":
        t = rollup.table
        at = sa.func.sum(t.c.opened_at_sum)
        return [select(t, t.c.day, sa.func.sum(t.c.n), at, t.c.day <= _p("hi"))]
    if source == "tables":
        return [select(kpi_cases, day, sa.func.count(), sa.func.sum(c.opened_at), day <= _p("hi"))]
    # the weekly rows per owner up to the period's last whole week (on its Sunday), then
    # the days after it
    t = BY_OWNER[rollup].table
    weekly = select(
        t,
        t.c.week * 7 + 3,
        sa.func.sum(t.c.n),
        sa.func.sum(t.c.opened_at_sum),
        t.c.week <= _p("last_week"),
    )
    after = (day >= _p("tail_start"), day <= _p("hi"))
    return [weekly, select(kpi_cases, day, sa.func.count(), sa.func.sum(c.opened_at), *after)]


@lru_cache(maxsize=128)
def backlog_statement(source: str, by: str, group: str | None, filters: tuple[str, ...]) -> Any:
    """`(bucket, grp, open, opening-time sum)` rows in group and bucket order: the cases
    open at the end of each bucket that had cases opened or ended (a bucket without
    them holds its predecessor's), from all history before it."""
    branches = [
        *_moves(OPENED, source, by, group, filters, 1),
        *_moves(ENDED, source, by, group, filters, -1),
    ]
    m = sa.union_all(*branches).subquery("m").c
    net = (
        sa.select(m.bucket, m.grp, sa.func.sum(m.k).label("k"), sa.func.sum(m.at).label("at"))
        .group_by(m.bucket, m.grp)
        .subquery("net")
        .c
    )

    def running(col: Any) -> Any:
        return sa.cast(sa.func.sum(col).over(partition_by=net.grp, order_by=net.bucket), sa.Float)

    return sa.select(net.bucket, net.grp, running(net.k), running(net.at)).order_by(
        net.grp, net.bucket
    )

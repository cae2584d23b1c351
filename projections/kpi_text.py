"""The KPI answer's documents written by the database: SQL expressions that render a
family's JSON object as text from one row of grouped rollup measures (the same on
PostgreSQL and SQLite), so a query split by owner (3,180 series a year by week) hands
Python a few strings per series instead of the ~50 values it would turn into dicts,
percentiles and rounded rates one by one (most of the query's time, and the garbage
collector's work that made its slow runs: a string is not tracked by it).

Numbers: counts as integers; means, rates and percentiles rounded in decimal
(`round(numeric)`: half away from zero, where Python's `round` of a float goes to the
nearest binary value: the two can differ in the last digit on an exact half); maxima
as the stored floats; `null` where there is nothing to divide by. The shapes are the
README's ("Outcomes: SLA policies and KPIs").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from projections.kpi_math import BINS

__all__ = [
    "FAMILIES",
    "duration",
    "intake",
    "lit",
    "obj",
    "rate",
    "resolution",
    "satisfaction",
    "sla",
    "swarm",
]

Columns = Any  # a subquery's `.c`: measures by name


def lit(text: str) -> Any:
    """A string constant written into the statement."""
    if "'" in text:
        raise ValueError(f"not a constant for the statement's text: {text!r}")
    return sa.literal_column(f"'{text}'", sa.Text)


def _text(expr: Any) -> Any:
    """A number as JSON text (`null` for NULL)."""
    return sa.func.coalesce(sa.cast(expr, sa.Text), lit("null"))


def _int(expr: Any) -> Any:
    """A count as JSON text (0 for NULL: a sum over no rows)."""
    return sa.cast(_zero(expr), sa.Text)


def _zero(expr: Any) -> Any:
    """NULL (a sum over no rows) as 0."""
    return sa.func.coalesce(expr, _num(0))


def _float(expr: Any) -> Any:
    return sa.cast(expr, sa.Float)


def _num(value: float) -> Any:
    """A constant written into the statement (not a parameter: the statement's text
    is then the same for every period, and its plan cached)."""
    return sa.literal_column(repr(value), sa.Float if isinstance(value, float) else sa.Integer)


def _round(expr: Any, digits: int) -> Any:
    return sa.func.round(sa.cast(expr, sa.Numeric), _num(digits))


def obj(*pairs: tuple[str, Any]) -> Any:
    """`{"key": value, ...}` from (key, JSON text expression) pairs."""
    out: Any = None
    for i, (key, value) in enumerate(pairs):
        head = lit(("{" if i == 0 else ",") + f'"{key}":')
        out = head + value if out is None else out + head + value
    return out + lit("}")


def rate(part: Any, whole: Any) -> Any:
    """part / whole to four places; null when whole is 0 or NULL."""
    whole = _zero(whole)
    value = _round(_float(_zero(part)) / _float(whole), 4)
    return _text(sa.case((whole != _num(0), value)))


def mean(total: Any, n: Any, digits: int) -> Any:
    n = _zero(n)
    return _text(sa.case((n != _num(0), _round(_float(_zero(total)) / _float(n), digits))))


def _percentile(hist: Sequence[Any], q: float, top: Any, count: Any) -> Any:
    """Linear inside the first bin whose running count reaches q * count (the last
    bin ends at the maximum); the maximum when none does."""
    rank = _float(count) * _num(q)
    seen: Any = _num(0)
    whens = []
    for i, n in enumerate(hist):
        lo = _num(BINS[i])
        if i + 1 < len(BINS):
            hi = _float(_num(BINS[i + 1]))
        else:
            top_or_lo = _float(sa.func.coalesce(top, lo))
            hi = sa.case((top_or_lo > lo, top_or_lo), else_=_float(lo))
        value = _round(lo + (hi - lo) * (rank - seen) / _float(n), 1)
        whens.append((sa.and_(n > _num(0), seen + n >= rank), value))
        seen = seen + n
    return _text(sa.case(*whens, else_=_float(sa.func.coalesce(top, _num(0)))))


def duration(c: Columns, prefix: str) -> Any:
    """Count, mean, max, histogram over `BINS` and p50/p90 of a duration measure."""
    n = _zero(c[f"{prefix}_n"])
    top = c[f"{prefix}_max"]
    hist = [_zero(c[f"{prefix}_b{i}"]) for i in range(len(BINS))]
    bins: Any = None
    for i, (lo, count) in enumerate(zip(BINS, hist, strict=True)):
        head = lit(("[" if i == 0 else "},") + f'{{"from_s":{lo},"count":')
        piece = head + sa.cast(count, sa.Text)
        bins = piece if bins is None else bins + piece
    bins = bins + lit("}]")

    def when_any(expr: Any) -> Any:
        return _text(sa.case((n != _num(0), expr)))

    return obj(
        ("count", sa.cast(n, sa.Text)),
        ("mean_s", mean(c[f"{prefix}_sum"], n, 1)),
        ("max_s", _text(top)),
        ("histogram", bins),
        ("p50_s", when_any(_percentile(hist, 0.5, top, n))),
        ("p90_s", when_any(_percentile(hist, 0.9, top, n))),
    )


def intake(c: Columns) -> Any:
    return obj(("opened", _int(c.n)), ("first_response", duration(c, "first_response")))


def swarm(c: Columns) -> Any:
    return obj(
        ("swarm_rate", rate(c.swarmed, c.n)),
        ("swarmed", _int(c.swarmed)),
        ("time_to_first_expert", duration(c, "first_expert")),
        ("swarm_size_mean", mean(c.swarm_size, c.swarmed, 2)),
        ("decline_rate", rate(c.declines, c.invitations)),
        ("proposals_before_acceptance_mean", mean(c.proposals_before_accept, c.accepted, 2)),
        ("briefing_first_rate", rate(c.acked_first, c.insight_experts)),
    )


def resolution(c: Columns) -> Any:
    return obj(
        ("resolved", _int(c.n)),
        ("first_contact_resolution_rate", rate(c.first_touch, c.n)),
        ("owner_retained_rate", rate(c.owner_retained, c.n)),
        ("handoff_rate", rate(c.handed_off, c.n)),
        ("resolution_time", duration(c, "resolution")),
    )


def satisfaction(c: Columns) -> Any:
    satisfied = _zero(c.score_4) + _zero(c.score_5)
    return obj(
        ("responses", _int(c.n)),
        ("mean", mean(c.csat_sum, c.n, 2)),
        ("satisfied_rate", rate(satisfied, c.n)),
        ("distribution", obj(*((str(s), _int(c[f"score_{s}"])) for s in range(1, 6)))),
    )


def sla(c: Columns) -> Any:
    """One target's outcomes (the caller names the target)."""
    met = _zero(c.met)
    return obj(
        ("met", sa.cast(met, sa.Text)),
        ("breached", sa.cast(_zero(c.n) - met, sa.Text)),
        ("compliance", rate(met, c.n)),
    )


#: each family's document from one row of its rollup's measures (by name)
FAMILIES: dict[str, Callable[[Columns], Any]] = {
    "intake": intake,
    "swarm": swarm,
    "resolution": resolution,
    "satisfaction": satisfaction,
    "sla": sla,
}

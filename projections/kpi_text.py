"""The KPI answer's documents written by the database: SQL that renders a family's JSON
object as text from one row of grouped rollup measures (the same SQL on PostgreSQL and
SQLite), so a query split by owner (3,180 series a year by week) hands Python a few
strings per series instead of the ~50 values it would turn into dicts, percentiles and
rounded rates one by one (most of the query's time, and the garbage collector's work
that made its slow runs: a string is not tracked by it).

The SQL is written here as text, from the names of the measures in a relation (`FROM
... AS alias`), and handed to SQLAlchemy as one column: built from expression objects
it took SQLAlchemy ~70 ms to build and compile the first time per shape of query (a
run in 50 of the benchmark), for the same statement.

Numbers: counts as integers; means, rates and percentiles rounded in decimal
(`round(numeric)`: half away from zero, where Python's `round` of a float goes to the
nearest binary value: the two can differ in the last digit on an exact half); maxima
as the stored floats; `null` where there is nothing to divide by. The shapes are the
README's ("Outcomes: SLA policies and KPIs").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from projections.kpi_math import BINS

__all__ = ["FAMILIES", "lit"]


def lit(text: str) -> Any:
    """A string constant written into the statement."""
    return sa.literal_column(_quote(text), sa.Text)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _zero(sql: str) -> str:
    """NULL (a sum over no rows) as 0."""
    return f"COALESCE({sql}, 0)"


def _text(sql: str) -> str:
    """A number as JSON text (`null` for NULL)."""
    return f"COALESCE(CAST({sql} AS TEXT), 'null')"


def _int(sql: str) -> str:
    """A count as JSON text (0 for NULL)."""
    return f"CAST({_zero(sql)} AS TEXT)"


def _float(sql: str) -> str:
    return f"CAST({sql} AS FLOAT)"


def _round(sql: str, digits: int) -> str:
    return f"round(CAST({sql} AS NUMERIC), {digits})"


def _obj(*pairs: tuple[str, str]) -> str:
    """`{"key": value, ...}` from (key, JSON text SQL) pairs."""
    parts = []
    for i, (key, value) in enumerate(pairs):
        parts += [_quote(("{" if i == 0 else ",") + f'"{key}":'), f"({value})"]
    return " || ".join([*parts, "'}'"])


def _rate(part: str, whole: str) -> str:
    """part / whole to four places; null when whole is 0 or NULL."""
    whole = _zero(whole)
    value = _round(f"{_float(_zero(part))} / {_float(whole)}", 4)
    return _text(f"CASE WHEN {whole} <> 0 THEN {value} END")


def _mean(total: str, n: str, digits: int) -> str:
    n = _zero(n)
    value = _round(f"{_float(_zero(total))} / {_float(n)}", digits)
    return _text(f"CASE WHEN {n} <> 0 THEN {value} END")


def _percentile(hist: list[str], q: float, top: str, count: str) -> str:
    """Linear inside the first bin whose running count reaches q * count (the last
    bin ends at the maximum, or at its start); the maximum when none does."""
    rank = f"({_float(count)} * {q!r})"
    seen = "0"
    whens = []
    for i, n in enumerate(hist):
        lo = BINS[i]
        if i + 1 < len(BINS):
            hi = _float(str(BINS[i + 1]))
        else:
            top_or_lo = _float(f"COALESCE({top}, {lo})")
            hi = f"(CASE WHEN {top_or_lo} > {lo} THEN {top_or_lo} ELSE {_float(str(lo))} END)"
        value = _round(f"{lo} + ({hi} - {lo}) * ({rank} - ({seen})) / {_float(n)}", 1)
        whens.append(f"WHEN {n} > 0 AND ({seen}) + {n} >= {rank} THEN {value}")
        seen = f"{seen} + {n}"
    return _text(f"CASE {' '.join(whens)} ELSE {_float(f'COALESCE({top}, 0)')} END")


def _duration(a: str, prefix: str) -> str:
    """Count, mean, max, histogram over `BINS` and p50/p90 of a duration measure."""
    n = _zero(f"{a}.{prefix}_n")
    top = f"{a}.{prefix}_max"
    hist = [_zero(f"{a}.{prefix}_b{i}") for i in range(len(BINS))]
    bins = [
        _quote(("[" if i == 0 else "},") + f'{{"from_s":{lo},"count":') + f" || CAST({h} AS TEXT)"
        for i, (lo, h) in enumerate(zip(BINS, hist, strict=True))
    ]
    histogram = " || ".join([*bins, "'}]'"])

    def when_any(sql: str) -> str:
        return _text(f"CASE WHEN {n} <> 0 THEN {sql} END")

    return _obj(
        ("count", f"CAST({n} AS TEXT)"),
        ("mean_s", _mean(f"{a}.{prefix}_sum", n, 1)),
        ("max_s", _text(top)),
        ("histogram", histogram),
        ("p50_s", when_any(_percentile(hist, 0.5, top, n))),
        ("p90_s", when_any(_percentile(hist, 0.9, top, n))),
    )


def _intake(a: str) -> str:
    return _obj(("opened", _int(f"{a}.n")), ("first_response", _duration(a, "first_response")))


def _swarm(a: str) -> str:
    return _obj(
        ("swarm_rate", _rate(f"{a}.swarmed", f"{a}.n")),
        ("swarmed", _int(f"{a}.swarmed")),
        ("time_to_first_expert", _duration(a, "first_expert")),
        ("swarm_size_mean", _mean(f"{a}.swarm_size", f"{a}.swarmed", 2)),
        ("decline_rate", _rate(f"{a}.declines", f"{a}.invitations")),
        (
            "proposals_before_acceptance_mean",
            _mean(f"{a}.proposals_before_accept", f"{a}.accepted", 2),
        ),
        ("briefing_first_rate", _rate(f"{a}.acked_first", f"{a}.insight_experts")),
    )


def _resolution(a: str) -> str:
    n = f"{a}.n"
    return _obj(
        ("resolved", _int(n)),
        ("first_contact_resolution_rate", _rate(f"{a}.first_touch", n)),
        ("owner_retained_rate", _rate(f"{a}.owner_retained", n)),
        ("handoff_rate", _rate(f"{a}.handed_off", n)),
        ("resolution_time", _duration(a, "resolution")),
    )


def _satisfaction(a: str) -> str:
    satisfied = f"{_zero(f'{a}.score_4')} + {_zero(f'{a}.score_5')}"
    distribution = _obj(*((str(s), _int(f"{a}.score_{s}")) for s in range(1, 6)))
    return _obj(
        ("responses", _int(f"{a}.n")),
        ("mean", _mean(f"{a}.csat_sum", f"{a}.n", 2)),
        ("satisfied_rate", _rate(satisfied, f"{a}.n")),
        ("distribution", distribution),
    )


def _sla(a: str) -> str:
    """One target's outcomes (the caller names the target)."""
    met = _zero(f"{a}.met")
    return _obj(
        ("met", f"CAST({met} AS TEXT)"),
        ("breached", f"CAST({_zero(f'{a}.n')} - {met} AS TEXT)"),
        ("compliance", _rate(met, f"{a}.n")),
    )


def _column(build: Callable[[str], str]) -> Callable[[str], Any]:
    def column(alias: str) -> Any:
        return sa.literal_column(build(alias), sa.Text)

    return column


#: each family's document (a text column) from the measures, by name, of the relation
#: named by the argument (a subquery's alias, a table's name)
FAMILIES: dict[str, Callable[[str], Any]] = {
    "intake": _column(_intake),
    "swarm": _column(_swarm),
    "resolution": _column(_resolution),
    "satisfaction": _column(_satisfaction),
    "sla": _column(_sla),
}

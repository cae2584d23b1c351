"""The arithmetic of KPI answers (`projections.kpi_queries`): period buckets, duration
documents from rollup histograms, percentiles, rates."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from projections.kpi_rollups import BINS

EPOCH = date(1970, 1, 1)


def bucket_of(col: Any, by: str) -> Any:
    return col if by == "day" else (col + 3) // 7  # 1970-01-01 was a Thursday


def bucket_start(bucket: int, by: str) -> date:
    return EPOCH + timedelta(days=bucket if by == "day" else bucket * 7 - 3)


def bucket_end_day(bucket: int, by: str) -> int:
    return bucket if by == "day" else bucket * 7 + 3


Histograms = dict[tuple[int, ...], list[dict[str, int]]]


def duration_doc(values: Sequence[Any], seen: Histograms) -> dict[str, Any]:
    """Count, mean, max, histogram and percentiles of a duration measure. `seen` holds
    the histograms built so far for this answer: a split by owner has thousands of
    small series whose histograms repeat, so their documents are built once (the
    answer is read-only: JSON, CSV)."""
    count, top = int(values[0] or 0), values[2]
    hist = tuple(values[3:])
    if None in hist:
        hist = tuple(int(v or 0) for v in hist)
    histogram = seen.get(hist)
    if histogram is None:
        histogram = seen[hist] = [
            {"from_s": lo, "count": n} for lo, n in zip(BINS, hist, strict=True)
        ]
    if not count:
        return {
            "count": 0,
            "mean_s": None,
            "max_s": top,
            "histogram": histogram,
            "p50_s": None,
            "p90_s": None,
        }
    return {
        "count": count,
        "mean_s": round(float(values[1] or 0) / count, 1),
        "max_s": top,
        "histogram": histogram,
        "p50_s": percentile(hist, 0.5, top, count),
        "p90_s": percentile(hist, 0.9, top, count),
    }


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a loop builds thousands of small
    documents (none cyclic): otherwise its collections, walking the growing answer,
    cost a third of a query split by owner. Synchronous only (no await inside), so
    no other task runs meanwhile; whatever is cyclic is collected afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def percentile(hist: Sequence[int], q: float, top: float | None, total: int) -> float:
    rank = q * total
    seen = 0
    for i, n in enumerate(hist):
        if n and seen + n >= rank:
            lo = BINS[i]
            hi = BINS[i + 1] if i + 1 < len(BINS) else max(float(top or lo), lo)
            return round(lo + (hi - lo) * (rank - seen) / n, 1)
        seen += n
    return float(top or 0)


def rate(part: Any, whole: Any) -> float | None:
    return round(int(part or 0) / int(whole), 4) if whole else None


def bucket_int(day: int, by: str) -> int:
    return day if by == "day" else (day + 3) // 7

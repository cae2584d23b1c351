"""The arithmetic of KPI answers (`projections.kpi_queries`): period buckets and rates
(the documents' own arithmetic, percentiles included, is SQL: `projections.kpi_text`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

EPOCH = date(1970, 1, 1)
#: the lower bounds (seconds) of the duration histograms' bins
BINS = (0, 900, 3600, 4 * 3600, 8 * 3600, 86400, 3 * 86400, 7 * 86400)


def bucket_of(col: Any, by: str) -> Any:
    return col if by == "day" else (col + 3) // 7  # 1970-01-01 was a Thursday


def bucket_start(bucket: int, by: str) -> date:
    return EPOCH + timedelta(days=bucket if by == "day" else bucket * 7 - 3)


def bucket_end_day(bucket: int, by: str) -> int:
    return bucket if by == "day" else bucket * 7 + 3


def rate(part: Any, whole: Any) -> float | None:
    return round(int(part or 0) / int(whole), 4) if whole else None


def bucket_int(day: int, by: str) -> int:
    return day if by == "day" else (day + 3) // 7

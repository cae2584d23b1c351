"""Daily time spans in an agent's own time zone: working hours and quiet hours.

A span is written ``"HH:MM-HH:MM"`` (24-hour clock, local time); ``""`` means "no span"
(for working hours: any time; for quiet hours: never quiet). A span whose end is not after
its start crosses midnight (``"22:00-06:00"``) and belongs to the day it starts on: with
working days Monday to Friday, Friday 23:00 and Saturday 05:00 are inside
``"22:00-06:00"``, Saturday 23:00 is not. Instants are compared in the zone's local time
as ``zoneinfo`` gives it, so the spans follow daylight-saving changes (09:00 stays 09:00
local). Days are named ``DAYS`` (``"mon"`` .. ``"sun"``).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["DAYS", "Span", "next_outside", "parse_span", "within"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Span = tuple[int, int]  # (start, end) in minutes after local midnight


def parse_span(text: str) -> Span | None:
    """The span ``text`` names (``None`` for ""); ``ValueError`` when malformed or empty
    (start equal to end)."""
    text = text.strip()
    if not text:
        return None
    try:
        start_text, end_text = text.split("-")
        start, end = _minutes(start_text), _minutes(end_text)
    except ValueError:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM") from None
    if start == end:
        raise ValueError(f"{text!r} is an empty span")
    return start, end


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(text)
    return h * 60 + m


def within(span: Span | None, days: Sequence[str], zone: str, instant: datetime) -> bool:
    """Whether ``instant`` (timezone-aware) falls in ``span`` on one of ``days``, in
    ``zone``'s local time. ``None`` is every minute of ``days``."""
    local = instant.astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    day = DAYS[weekday]
    if span is None:
        return day in days
    start, end = span
    if start < end:
        return day in days and start <= minute < end
    if minute >= start:
        return day in days
    if minute < end:  # the part after midnight belongs to the day before
        return DAYS[(weekday - 1) % 7] in days
    return False


def next_outside(span: Span | None, zone: str, instant: datetime) -> datetime:
    """The first minute at or after ``instant`` outside ``span`` (every day), for
    holding a notification through quiet hours; ``instant`` itself when outside."""
    if span is None:
        return instant
    at = instant
    for _ in range(25 * 60):  # a span lasts less than a day (DST included)
        if not within(span, DAYS, zone, at):
            return at
        at = (at + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return at

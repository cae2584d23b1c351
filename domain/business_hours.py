"""Business-hours arithmetic: a calendar (timezone, weekly hours, holidays) and the two
questions SLAs ask of it: "when are N business seconds after T?" (`add`) and "how many
business seconds between A and B?" (`between`).

Hand-written on the stdlib's `zoneinfo`: the business-hours packages on PyPI are
unmaintained (the newest last released in 2018) and none handles time zones with DST.

Contract:
- times in and out are aware `datetime`s; results are in UTC;
- the weekly hours are local wall-clock intervals, per weekday, `[start, end)` with
  minute precision ("24:00" ends a day); a local date listed in `holidays` has none;
- DST: an interval is converted to UTC on its own date, so on the spring-forward day a
  "09:00-17:00" day is still 8 hours long, while an interval spanning the change is an
  hour shorter (spring) or longer (autumn), as a wall clock says; a wall time that does
  not exist (in the gap) is read with `fold=0` (zoneinfo's rule: the offset before);
- a calendar with no weekly hours is refused (it would never reach any deadline);
  `add` gives up after `MAX_DAYS` days without business time (`ValueError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["ALWAYS", "WEEKDAYS", "Calendar"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3 * 366
_DAY = timedelta(days=1)


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{text!r} is not HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > 24 * 60:
        raise ValueError(f"{text!r} is not a time of day")
    return value


@dataclass(frozen=True)
class Calendar:
    """When the business clock runs. Build with `Calendar.of` (validates)."""

    timezone: str = "UTC"
    #: weekday (0 = Monday) -> sorted, non-overlapping [start, end) minutes of the day
    weekly: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _always: bool = field(init=False, repr=False, compare=False)
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        if len(self.weekly) != 7 or not any(self.weekly):
            raise ValueError("a calendar needs business hours on at least one weekday")
        object.__setattr__(self, "_zone", zone)
        full = ((0, 24 * 60),)
        always = all(day == full for day in self.weekly) and not self.holidays
        object.__setattr__(self, "_always", always)
        object.__setattr__(self, "_days", {})

    @classmethod
    def of(
        cls,
        timezone: str = "UTC",
        weekly: Mapping[str, Sequence[Sequence[str]]] | None = None,
        holidays: Sequence[str] = (),
    ) -> Calendar:
        """From plain data: `{"mon": [["09:00", "17:00"]], ...}` (days left out have no
        hours; None: around the clock) and ISO dates. `ValueError` names what is wrong."""
        if weekly is None:
            return (
                ALWAYS
                if timezone == "UTC" and not holidays
                else cls.of(timezone, {d: [["00:00", "24:00"]] for d in WEEKDAYS}, holidays)
            )
        unknown = set(weekly) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekdays: {', '.join(sorted(unknown))}")
        days: list[tuple[tuple[int, int], ...]] = []
        for name in WEEKDAYS:
            spans = sorted((_minutes(s[0]), _minutes(s[1])) for s in weekly.get(name, ()))
            for i, (start, end) in enumerate(spans):
                if end <= start:
                    raise ValueError(f"{name}: an interval must end after it starts")
                if i + 1 < len(spans) and spans[i + 1][0] < end:
                    raise ValueError(f"{name}: intervals overlap")
            days.append(tuple(spans))
        try:
            parsed = frozenset(date.fromisoformat(d) for d in holidays)
        except ValueError as exc:
            raise ValueError(f"holidays: {exc}") from exc
        return cls(timezone, tuple(days), parsed)

    def as_data(self) -> dict[str, object]:
        """The plain data `Calendar.of` takes (round trip)."""

        def hm(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"

        return {
            "timezone": self.timezone,
            "weekly": {
                WEEKDAYS[i]: [[hm(a), hm(b)] for a, b in spans]
                for i, spans in enumerate(self.weekly)
                if spans
            },
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }

    # -- the arithmetic -------------------------------------------------------------
    def _spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The business intervals of a local date, in UTC (cached: SLA clocks of one
        period ask about the same days over and over)."""
        found = self._days.get(day)
        if found is not None:
            return found
        spans: list[tuple[datetime, datetime]] = []
        if day not in self.holidays:
            zone = self._zone
            midnight = datetime.combine(day, time())  # naive: wall-clock arithmetic
            for start, end in self.weekly[day.weekday()]:
                a = (midnight + timedelta(minutes=start)).replace(tzinfo=zone)
                b = (midnight + timedelta(minutes=end)).replace(tzinfo=zone)
                spans.append((a.astimezone(UTC), b.astimezone(UTC)))
        if len(self._days) >= 4096:
            self._days.clear()
        found = self._days[day] = tuple(spans)
        return found

    def _local_date(self, at: datetime) -> date:
        return at.astimezone(self._zone).date()

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant `seconds` business seconds after `start` (`start` itself for 0;
        from outside business hours, counting starts at the next opening)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        start = start.astimezone(UTC)  # same-tzinfo arithmetic would be wall-clock
        if seconds <= 0:
            return start
        if self._always:
            return start + timedelta(seconds=seconds)
        left = timedelta(seconds=seconds)
        day = self._local_date(start) - _DAY  # an interval may run past local midnight
        for _ in range(MAX_DAYS):
            for a, b in self._spans(day):
                if b <= start:
                    continue
                a = max(a, start)
                if b - a >= left:
                    return a + left
                left -= b - a
            day += _DAY
        raise ValueError(f"no business time within {MAX_DAYS} days of {start.isoformat()}")

    def between(self, start: datetime, end: datetime) -> float:
        """Business seconds in `[start, end)` (0 when `end <= start`)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return 0.0
        if self._always:
            return (end - start).total_seconds()
        total = timedelta()
        day = self._local_date(start) - _DAY
        last = self._local_date(end)
        while day <= last:
            for a, b in self._spans(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += _DAY
        return total.total_seconds()


ALWAYS = Calendar("UTC", (((0, 24 * 60),),) * 7)

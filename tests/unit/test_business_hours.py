"""Business-hours arithmetic (`domain.business_hours`), values computed by hand: weekends,
holidays, two intervals a day, starts outside hours, both DST changes of Europe/Paris
(2026-03-29 and 2026-10-25), and `add`/`between` as inverses (property)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.business_hours import ALWAYS, Calendar

PARIS = ZoneInfo("Europe/Paris")
OFFICE = Calendar.of(
    "Europe/Paris",
    {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    ["2026-12-25"],
)
SPLIT = Calendar.of("UTC", {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]})
AROUND_PARIS = Calendar.of("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc, arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc, arg-type]


H = 3600


def test_within_a_day() -> None:
    assert OFFICE.add(paris(2026, 1, 5, 10, 0), 2 * H) == utc(2026, 1, 5, 11, 0)  # 12:00 CET
    assert OFFICE.between(paris(2026, 1, 5, 10, 0), paris(2026, 1, 5, 12, 30)) == 2.5 * H


def test_over_a_weekend() -> None:
    # Friday 16:00 + 2 h: one hour on Friday, one on Monday (10:00 CET = 09:00 UTC)
    assert OFFICE.add(paris(2026, 1, 9, 16, 0), 2 * H) == utc(2026, 1, 12, 9, 0)
    assert OFFICE.between(paris(2026, 1, 9, 16, 0), paris(2026, 1, 12, 10, 0)) == 2 * H


def test_starting_outside_hours_counts_from_the_next_opening() -> None:
    assert OFFICE.add(paris(2026, 1, 10, 12, 0), H) == utc(2026, 1, 12, 9, 0)  # Sat -> Mon
    assert OFFICE.add(paris(2026, 1, 5, 7, 0), H) == utc(2026, 1, 5, 9, 0)  # before 09:00
    assert OFFICE.add(paris(2026, 1, 5, 18, 0), H) == utc(2026, 1, 6, 9, 0)  # after 17:00
    assert OFFICE.between(paris(2026, 1, 10, 0, 0), paris(2026, 1, 11, 23, 0)) == 0


def test_a_holiday_has_no_hours() -> None:
    # Thu 24 Dec 16:00 + 2 h: 1 h on Thursday, Fri 25 a holiday, then the weekend
    assert OFFICE.add(paris(2026, 12, 24, 16, 0), 2 * H) == utc(2026, 12, 28, 9, 0)
    assert OFFICE.between(paris(2026, 12, 24, 0, 0), paris(2026, 12, 28, 0, 0)) == 8 * H


def test_two_intervals_a_day() -> None:
    assert SPLIT.add(utc(2026, 1, 5, 11, 30), H) == utc(2026, 1, 5, 13, 30)
    assert SPLIT.add(utc(2026, 1, 5, 16, 0), 2 * H) == utc(2026, 1, 12, 10, 0)  # next Monday
    assert SPLIT.between(utc(2026, 1, 5, 0, 0), utc(2026, 1, 6, 0, 0)) == 7 * H


def test_spring_forward_day_is_23_hours_around_the_clock() -> None:
    sat, mon = paris(2026, 3, 28, 12, 0), paris(2026, 3, 30, 12, 0)
    assert AROUND_PARIS.between(sat, mon) == 47 * H
    # Sat 23:00 CET (22:00 UTC) + 4 h = 02:00 UTC = 04:00 CEST: real elapsed time
    assert AROUND_PARIS.add(paris(2026, 3, 28, 23, 0), 4 * H) == utc(2026, 3, 29, 2, 0)


def test_an_interval_across_a_dst_change_follows_the_wall_clock() -> None:
    night = Calendar.of("Europe/Paris", {"sun": [["01:00", "04:00"]]})
    spring = paris(2026, 3, 29, 0, 0), paris(2026, 3, 30, 0, 0)
    autumn = paris(2026, 10, 25, 0, 0), paris(2026, 10, 26, 0, 0)
    assert night.between(*spring) == 2 * H  # 02:00-03:00 does not exist
    assert night.between(*autumn) == 4 * H  # 02:00-03:00 happens twice
    # an office day on each side of a change keeps 8 hours, at the new offset
    assert OFFICE.between(paris(2026, 3, 27, 0, 0), paris(2026, 3, 31, 0, 0)) == 16 * H
    assert OFFICE.add(paris(2026, 3, 27, 16, 0), 2 * H) == utc(2026, 3, 30, 8, 0)  # 10:00 CEST


def test_around_the_clock_in_utc_is_plain_arithmetic() -> None:
    start = utc(2026, 2, 27, 22, 15)
    assert ALWAYS.add(start, 90 * H) == start + timedelta(hours=90)
    assert ALWAYS.between(start, start + timedelta(hours=5)) == 5 * H
    assert ALWAYS.add(start, 0) == start
    assert ALWAYS.between(start, start - timedelta(hours=1)) == 0


def test_round_trip_as_data() -> None:
    again = Calendar.of(**OFFICE.as_data())  # type: ignore[arg-type]
    assert again == OFFICE
    assert Calendar.of(**SPLIT.as_data()) == SPLIT  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("weekly", "holidays", "message"),
    [
        ({}, [], "at least one weekday"),
        ({"mon": [["09:00", "08:00"]]}, [], "end after"),
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, [], "overlap"),
        ({"mon": [["9h", "12:00"]]}, [], "HH:MM"),
        ({"mon": [["09:00", "24:30"]]}, [], "time of day"),
        ({"funday": [["09:00", "12:00"]]}, [], "unknown weekdays"),
        ({"mon": [["09:00", "12:00"]]}, ["2026-13-01"], "holidays"),
    ],
)
def test_bad_calendars_are_refused(
    weekly: dict[str, list[list[str]]], holidays: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Calendar.of("UTC", weekly, holidays)


def test_unknown_timezone_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Calendar.of("Mars/Olympus")
    with pytest.raises(ValueError, match="aware"):
        OFFICE.add(datetime(2026, 1, 5, 10, 0), H)


starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(start=starts, seconds=st.integers(min_value=1, max_value=200 * H))
def test_between_undoes_add(start: datetime, seconds: int) -> None:
    for calendar in (OFFICE, SPLIT, AROUND_PARIS):
        end = calendar.add(start, seconds)
        assert calendar.between(start, end) == pytest.approx(seconds)
        # and `end` is the first instant that far: a second earlier is not
        assert calendar.between(start, end - timedelta(seconds=1)) < seconds

"""Given agents and a case's need, when ranked, then hand-computed scores, exclusions and
the covering set (`app.service.matching`); working hours across midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.matching_settings import MatchingSettings
from app.service.directory import candidate
from app.service.matching import (
    Candidate,
    LocalClock,
    Need,
    available,
    cover,
    rank,
    reputation,
)
from domain.schedule import DAYS, next_outside, parse_span, within

W = MatchingSettings()
# 2026-03-29 is the day Europe changes to summer time (01:00 UTC): 07:30 UTC is 09:30 in
# Paris (CEST, +2), where the winter offset (+1) would say 08:30.
NOW = datetime(2026, 3, 29, 7, 30, tzinfo=UTC)


def profile(agent: str, **fields: Any) -> dict[str, Any]:
    return {
        "agent_id": agent,
        "name": agent.title(),
        "skills": {},
        "interests": [],
        "timezone": "UTC",
        "availability": "available",
        "capacity": 3,
        "working_hours": "",
        "working_days": list(DAYS),
    } | fields


def need(**fields: Any) -> Need:
    base: dict[str, Any] = {
        "case_id": "c1",
        "wanted": ("payments", "3ds"),
        "source": "swarm_request",
        "owner": "owner",
        "participants": frozenset({"owner", "joined"}),
        "invited": frozenset({"pending"}),
        "declined": frozenset({"decliner"}),
    }
    return Need(**(base | fields))


def agents() -> list[Candidate]:
    ada = candidate(
        profile("ada", skills={"payments": 5, "3ds": 4}, interests=["fraud"], capacity=4),
        {"proposals_accepted": 2, "insights_cited": 1, "insights_posted": 4, "swarms": ["x"]},
        W,
    )
    bo = candidate(
        profile(
            "bo",
            skills={"payments": 3},
            interests=["3DS"],
            availability="busy",
            timezone="Europe/Paris",
            working_hours="09:00-17:00",
        ),
        {"declined_at": [(NOW - timedelta(days=2)).isoformat(), "2026-01-01T00:00:00+00:00"]},
        W,
    )
    full = candidate(profile("full", skills={"payments": 5}, capacity=2), {"swarms": ["a", "b"]}, W)
    others = [
        candidate(profile(name, skills={"payments": 5}), {}, W)
        for name in ("owner", "joined", "pending", "decliner")
    ]
    return [ada, bo, full, *others]


def test_scores_are_the_hand_computed_sums() -> None:
    ranking = rank(need(), agents(), W, NOW, {"bo"}, 10)
    best, excluded = ranking.best, ranking.excluded
    assert [(s.agent_id, s.score) for s in best] == [("ada", 7.35), ("bo", 4.2)]
    ada, bo = best
    # ada: skills (5+4)/10 * 4; available 1; inside any-time hours 1; offline 0;
    # load 1 - 1/4; reputation (2*3 + 1*2 + 4*.5) / (10 + 10) = .5, * 2
    assert {k: f["contribution"] for k, f in ada.factors.items()} == {
        "skills": 3.6,
        "interests": 0.0,
        "availability": 1.0,
        "working_hours": 1.0,
        "online": 0.0,
        "load": 0.75,
        "reputation": 1.0,
        "recent_declines": -0.0,
    }
    # bo: skills 3/10 * 4; interests 1 of 2 (case-insensitive); busy .5; 09:30 in Paris
    # (summer time began at 01:00 UTC) is inside 09:00-17:00; online .5; one decline
    # within 30 days (the other is older): -1.5 / 3
    assert {k: f["contribution"] for k, f in bo.factors.items()} == {
        "skills": 1.2,
        "interests": 0.5,
        "availability": 0.5,
        "working_hours": 1.0,
        "online": 0.5,
        "load": 1.0,
        "reputation": 0.0,
        "recent_declines": -0.5,
    }
    assert bo.factors["skills"] == {"value": 0.3, "weight": 4.0, "contribution": 1.2}
    assert excluded == [
        ("decliner", "declined"),
        ("full", "at_capacity"),
        ("joined", "participant"),
        ("owner", "owner"),
        ("pending", "invited"),
    ]


def test_the_same_history_and_clock_give_the_same_order_ties_by_id() -> None:
    twins = [candidate(profile(n, skills={"payments": 4}), {}, W) for n in ("b2", "a1", "c3")]
    first = rank(need(), twins, W, NOW, (), 10).best
    again = rank(need(), list(reversed(twins)), W, NOW, (), 10).best
    assert [s.agent_id for s in first] == [s.agent_id for s in again] == ["a1", "b2", "c3"]


def test_an_hour_earlier_paris_is_outside_its_hours_and_weights_come_from_settings() -> None:
    bo = agents()[1]
    before = NOW - timedelta(hours=1)  # 08:30 CEST
    (s,) = rank(need(), [bo], W, before, (), 10).best
    assert s.factors["working_hours"]["value"] == 0.0
    heavy = MatchingSettings(skills=10.0, recent_declines=0.0)
    (s,) = rank(need(), [bo], heavy, NOW, (), 10).best
    assert s.factors["skills"]["contribution"] == 3.0
    assert s.factors["recent_declines"]["contribution"] == 0.0


def test_reputation_points_and_score() -> None:
    assert reputation({}, W) == (0.0, 0.0)
    assert reputation({"proposals_accepted": 1, "help_offered": 2}, W) == (5.0, round(5 / 15, 6))


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        ("2026-12-04T23:00", True),  # Friday night: Friday's shift
        ("2026-12-05T05:59", True),  # Saturday early: still Friday's shift
        ("2026-12-05T06:00", False),  # the shift ended
        ("2026-12-05T23:00", False),  # Saturday's shift: not a working day
        ("2026-12-07T05:00", False),  # Monday early: Sunday's shift
        ("2026-12-07T22:00", True),
    ],
)
def test_working_hours_across_midnight_belong_to_the_day_they_start(
    local: str, inside: bool
) -> None:
    from zoneinfo import ZoneInfo

    at = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    assert within(parse_span("22:00-06:00"), DAYS[:5], "Asia/Tokyo", at) is inside


def test_working_hours_follow_daylight_saving_in_new_york() -> None:
    # 2026-11-01: New York falls back at 06:00 UTC. 13:30 UTC is 09:30 EST (inside
    # 09:00-17:00); the day before, 13:30 UTC was 09:30 EDT, and 12:30 UTC 08:30 EDT.
    span = parse_span("09:00-17:00")
    ny = "America/New_York"
    assert within(span, DAYS, ny, datetime(2026, 11, 2, 14, 30, tzinfo=UTC))
    assert not within(span, DAYS, ny, datetime(2026, 11, 2, 13, 30, tzinfo=UTC))
    assert within(span, DAYS, ny, datetime(2026, 10, 30, 13, 30, tzinfo=UTC))
    assert not within(span, DAYS, ny, datetime(2026, 10, 30, 12, 30, tzinfo=UTC))


def test_quiet_hours_end_in_the_agents_zone() -> None:
    quiet = parse_span("21:00-07:00")
    at = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)  # 23:00 in Paris
    assert next_outside(quiet, "Europe/Paris", at) == datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
    assert next_outside(None, "Europe/Paris", at) == at
    noon = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    assert next_outside(quiet, "Europe/Paris", noon) == noon


def _skilled(name: str, skills: str) -> Candidate:
    return candidate(profile(name, skills=dict.fromkeys(skills, 3)), {}, W)


def test_the_smallest_covering_set_exact_beats_greedy() -> None:
    ranked = [_skilled("u", "abcd"), _skilled("v", "abe"), _skilled("w", "cdf")]
    assert cover("abcdef", ranked, exact_up_to=6) == (["v", "w"], [])
    assert cover("abcdef", ranked, exact_up_to=0) == (["u", "v", "w"], [])


def test_the_covering_set_prefers_better_ranks_and_names_what_nobody_covers() -> None:
    ranked = [_skilled("x", "ab"), _skilled("y", "c"), _skilled("z", "abc"), _skilled("q", "a")]
    assert cover("abc", ranked, exact_up_to=6) == (["z"], [])
    assert cover("abcz", ranked, exact_up_to=6) == (["z"], ["z"])
    assert cover("ab", ranked, exact_up_to=6) == (["x"], [])
    assert cover("", ranked, exact_up_to=6) == ([], [])


def test_available_means_status_and_hours() -> None:
    bo = agents()[1]
    assert not available(bo, LocalClock(NOW))  # busy
    ada = agents()[0]
    assert available(ada, LocalClock(NOW))

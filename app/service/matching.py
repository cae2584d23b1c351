"""Who can help: ranking agents for a case, and the smallest covering set (pure: no I/O).

`rank(need, candidates, weights, now, online)` scores every candidate not excluded as the
sum over factors of `weight * value` (each value in [0, 1]; recent declines subtract):

  skills           mean over wanted skills of (level / 5), 0 for a skill they lack
  interests        share of the wanted skills the agent wants to learn (interests)
  availability     status: available 1, busy 0.5, away 0.25, offline 0
  working_hours    1 when `now` is inside their working hours and days, in their zone
  online           1 when they are in `online` (an inbox socket open now)
  load             1 - open swarms / capacity
  reputation       points / (points + half), points from their contribution (see
                   `reputation`)
  recent_declines  min(declines and expiries in the last `recent_days`, 3) / 3 (negative)

Excluded, with the reason: the owner ("owner"), participants ("participant"), anyone with
a pending invitation to the case ("invited"), anyone who declined or let expire an
invitation to this case ("declined": their contribution document names the case), anyone
at capacity ("at_capacity"). The order is by score, then agent id, so the same history and
clock give the same answer. Scores are rounded to 6 decimals.

`cover(wanted, ranked, exact_up_to)` answers the fewest *available* ranked agents (status
available and inside working hours) whose skills cover every wanted skill: exact (dynamic
programming over the subsets of skills, ties to the better-ranked agents) for up to
`exact_up_to` wanted skills, greedy set cover (most uncovered skills, then rank) beyond.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.matching_settings import MatchingSettings
from domain.schedule import Span, within

STATUS_VALUE = {"available": 1.0, "busy": 0.5, "away": 0.25, "offline": 0.0}
MAX_LEVEL = 5
DECLINES_CAP = 3


@dataclass(slots=True)
class Candidate:
    """An agent as matching sees it (from the profile and contribution documents)."""

    agent_id: str
    name: str
    skills: dict[str, int]
    interests: frozenset[str]
    timezone: str
    availability: str
    capacity: int
    working: Span | None
    days: tuple[str, ...]
    swarms: int = 0
    reputation: float = 0.0
    points: float = 0.0
    declined_at: tuple[datetime, ...] = ()
    declined_cases: frozenset[str] = frozenset()  # cases they declined or let expire
    contribution: dict[str, Any] = field(default_factory=dict)
    base: float | None = None  # the need-free part of the score (`static_score`), cached
    #: (working, days, timezone): the key of `LocalClock`'s cache, made once
    schedule: tuple[Span | None, tuple[str, ...], str] = field(init=False)

    def __post_init__(self) -> None:
        self.schedule = (self.working, self.days, self.timezone)
        self.declined_at = tuple(sorted(self.declined_at))  # `recent` counts by bisection

    def static_score(self, w: MatchingSettings) -> float:
        """availability, load and reputation, weighted (the same for every case)."""
        if self.base is None:
            load = 1.0 - self.swarms / self.capacity if self.capacity else 0.0
            self.base = (
                w.availability * STATUS_VALUE.get(self.availability, 0.0)
                + w.load * load
                + w.reputation * self.reputation
            )
        return self.base


@dataclass(frozen=True, slots=True)
class Need:
    """What a case wants and who is already in it."""

    case_id: str
    wanted: tuple[str, ...]  # lower-cased skills, from the open swarm requests or the area
    source: str  # "swarm_request", "product_area" or "none"
    owner: str
    participants: frozenset[str]
    invited: frozenset[str]
    declined: frozenset[str]


@dataclass(frozen=True, slots=True)
class Suggestion:
    agent_id: str
    name: str
    score: float
    factors: dict[str, dict[str, float]]  # factor -> {value, weight, contribution}


def reputation(contribution: Mapping[str, Any], w: MatchingSettings) -> tuple[float, float]:
    """(points, score in [0, 1)) of a contribution document."""
    points = (
        w.points_accepted * contribution.get("proposals_accepted", 0)
        + w.points_cited * contribution.get("insights_cited", 0)
        + w.points_insight * contribution.get("insights_posted", 0)
        + w.points_help * contribution.get("help_offered", 0)
        + w.points_reused
        * (contribution.get("articles_reused", 0) + contribution.get("cases_reused", 0))
    )
    return points, round(points / (points + w.reputation_half), 6)


def exclusion(c: Candidate, need: Need) -> str | None:
    if c.agent_id == need.owner:
        return "owner"
    if c.agent_id in need.participants:
        return "participant"
    if c.agent_id in need.invited:
        return "invited"
    if c.agent_id in need.declined or need.case_id in c.declined_cases:
        return "declined"
    if c.swarms >= c.capacity:
        return "at_capacity"
    return None


class LocalClock:
    """`now` in each zone's local time, computed once per zone (ranking asks thousands
    of times for a few zones)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.cache: dict[tuple[Span | None, tuple[str, ...], str], bool] = {}

    def within(self, span: Span | None, days: tuple[str, ...], zone: str) -> bool:
        key = (span, days, zone)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = within(span, days, zone, self.now)
        return found


FACTORS = ("skills", "interests", "availability", "working_hours", "online", "load",
           "reputation", "recent_declines")  # fmt: skip


def factors(
    c: Candidate, need: Need, w: MatchingSettings, clock: LocalClock, online: bool
) -> tuple[float, ...]:
    """Each factor's value in [0, 1], in `FACTORS` order (see the module docstring)."""
    wanted = need.wanted
    if wanted:
        skills = sum(c.skills.get(s, 0) for s in wanted) / (MAX_LEVEL * len(wanted))
        interests = sum(1 for s in wanted if s in c.interests) / len(wanted)
    else:
        skills = interests = 0.0
    recent = 0
    if c.declined_at:
        since = clock.now - timedelta(days=w.recent_days)
        recent = sum(1 for at in c.declined_at if at >= since)
    return (
        skills,
        interests,
        STATUS_VALUE.get(c.availability, 0.0),
        1.0 if clock.within(c.working, c.days, c.timezone) else 0.0,
        1.0 if online else 0.0,
        1.0 - c.swarms / c.capacity if c.capacity else 0.0,
        c.reputation,
        min(recent, DECLINES_CAP) / DECLINES_CAP,
    )


def weights_of(w: MatchingSettings) -> dict[str, float]:
    """Each factor's weight; recent declines count against (negative)."""
    return {
        "skills": w.skills,
        "interests": w.interests,
        "availability": w.availability,
        "working_hours": w.working_hours,
        "online": w.online,
        "load": w.load,
        "reputation": w.reputation,
        "recent_declines": -w.recent_declines,
    }


def explain(c: Candidate, values: tuple[float, ...], weights: dict[str, float]) -> Suggestion:
    detail = {
        name: {
            "value": round(value, 6),
            "weight": weights[name],
            "contribution": round(weights[name] * value, 6),
        }
        for name, value in zip(FACTORS, values, strict=True)
    }
    score = round(sum(d["contribution"] for d in detail.values()), 6)
    return Suggestion(c.agent_id, c.name, score, detail)


@dataclass(frozen=True, slots=True)
class Ranking:
    best: list[Suggestion]  # the first `limit`, explained
    excluded: list[tuple[str, str]]  # (agent id, reason), by agent id
    ordered: list[Candidate]  # every eligible candidate, best first
    available: list[Candidate]  # those of `ordered` that are `available` now, best first


def rank(
    need: Need,
    candidates: Iterable[Candidate],
    w: MatchingSettings,
    now: datetime,
    online: Collection[str],
    limit: int,
) -> Ranking:
    """Score every candidate not excluded, order by score then agent id, explain the
    first `limit`."""
    weights = weights_of(w)
    clock = LocalClock(now)
    wanted = need.wanted
    wanted_set = frozenset(wanted)
    per_level = w.skills / (MAX_LEVEL * len(wanted)) if wanted else 0.0
    per_interest = w.interests / len(wanted) if wanted else 0.0
    since = now - timedelta(days=w.recent_days)
    blocked = dict.fromkeys(need.declined, "declined")  # later updates take precedence
    blocked.update(dict.fromkeys(need.invited, "invited"))
    blocked.update(dict.fromkeys(need.participants, "participant"))
    blocked[need.owner] = "owner"
    case_id = need.case_id
    scored: list[tuple[float, str, Candidate, bool]] = []
    excluded: list[tuple[str, str]] = []
    hours = clock.cache
    w_hours, w_online, w_declines = w.working_hours, w.online, w.recent_declines
    # The hot loop (measured, `bench/matching.py`: ~1,000 candidates a call): the factors'
    # sum without the explanation; set operations and bisection in C where they can be.
    for c in candidates:
        agent = c.agent_id
        reason = blocked.get(agent)
        if reason is None and c.declined_cases and case_id in c.declined_cases:
            reason = "declined"
        if reason is None and c.swarms >= c.capacity:
            reason = "at_capacity"
        if reason is not None:
            excluded.append((agent, reason))
            continue
        score = c.base if c.base is not None else c.static_score(w)
        skills = c.skills
        levels = 0
        for s in wanted:
            level = skills.get(s)
            if level:
                levels += level
        score += per_level * levels
        if c.interests:
            score += per_interest * len(c.interests & wanted_set)
        inside = hours.get(c.schedule)
        if inside is None:
            inside = clock.within(*c.schedule)
        if inside:
            score += w_hours
        if agent in online:
            score += w_online
        declined = c.declined_at
        if declined:
            recent = len(declined) - bisect_left(declined, since)
            score -= w_declines * min(recent, DECLINES_CAP) / DECLINES_CAP
        scored.append((-score, agent, c, inside))
    scored.sort(key=_order)
    best = [
        explain(c, factors(c, need, w, clock, c.agent_id in online), weights)
        for _, _, c, _ in scored[:limit]
    ]
    return Ranking(
        best,
        sorted(excluded),
        [item[2] for item in scored],
        [c for _, _, c, inside in scored if inside and c.availability == "available"],
    )


def _order(item: tuple[float, str, Candidate, bool]) -> tuple[float, str]:
    return (item[0], item[1])


def available(c: Candidate, clock: LocalClock) -> bool:
    return c.availability == "available" and clock.within(c.working, c.days, c.timezone)


def cover(
    wanted: Collection[str], ranked: list[Candidate], exact_up_to: int, min_level: int = 1
) -> tuple[list[str], list[str]]:
    """(agent ids covering the coverable wanted skills, the skills nobody covers), the
    agents in `ranked` order (`ranked` holds only available, eligible agents, best first)."""
    skills = list(dict.fromkeys(wanted))
    bit = {s: 1 << i for i, s in enumerate(skills)}
    masks: dict[int, int] = {}  # coverage mask -> rank of the best agent with it
    for i, c in enumerate(ranked):
        mask = 0
        for s, level in c.skills.items():
            if level >= min_level and s in bit:
                mask |= bit[s]
        if mask and mask not in masks:
            masks[mask] = i
    coverable = 0
    for mask in masks:
        coverable |= mask
    uncovered = [s for s in skills if not coverable & bit[s]]
    if not coverable:
        return [], uncovered
    exact = len(skills) <= exact_up_to
    chosen = _exact(coverable, masks) if exact else _greedy(coverable, masks)
    return [ranked[i].agent_id for i in sorted(chosen)], uncovered


def _exact(goal: int, masks: Mapping[int, int]) -> list[int]:
    """The fewest agents (ranks) covering `goal`; among those, the lowest ranks."""
    best: dict[int, tuple[int, ...]] = {0: ()}
    frontier = [0]
    while goal not in best and frontier:
        found: dict[int, tuple[int, ...]] = {}
        for state in frontier:
            taken = best[state]
            for mask, i in masks.items():
                new = state | mask
                if new == state or new in best:
                    continue
                pick = tuple(sorted((*taken, i)))
                if new not in found or pick < found[new]:
                    found[new] = pick
        best.update(found)
        frontier = list(found)
    return list(best[goal])


def _greedy(goal: int, masks: Mapping[int, int]) -> list[int]:
    covered, chosen = 0, []
    while covered != goal:
        mask, i = max(
            masks.items(), key=lambda item: (bin(item[0] & ~covered).count("1"), -item[1])
        )
        chosen.append(i)
        covered |= mask
    return chosen

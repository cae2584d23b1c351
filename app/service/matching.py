"""Who can help: ranking agents for a case, and the smallest covering set (pure: no I/O).

`rank(need, candidates, weights, now, online)` scores every candidate not excluded as the
sum over factors of `weight * value` (each value in [0, 1]; recent declines subtract):

  skills           mean over wanted skills of (level / 5), 0 for a skill they lack
  interests        share of the wanted skills the agent wants to learn (interests)
  availability     status: available 1, busy 0.5, away 0.25, offline 0
  working_hours    1 when `now` is inside their working hours and days, in their zone
  online           1 when they have an inbox socket open now
  load             1 - open swarms / capacity
  reputation       points / (points + half), points from their contribution (see
                   `reputation`)
  recent_declines  min(declines and expiries in the last `recent_days`, 3) / 3 (negative)

Excluded, with the reason: the owner ("owner"), participants ("participant"), anyone with
a pending invitation to the case ("invited"), anyone who declined or let expire an
invitation to this case ("declined"), anyone at capacity ("at_capacity"). The order is
by score, then agent id, so the same history and clock give the same answer. Scores are
rounded to 6 decimals.

`cover(wanted, ranked, exact_up_to)` answers the fewest *available* ranked agents (status
available and inside working hours) whose skills cover every wanted skill: exact (dynamic
programming over the subsets of skills, ties to the better-ranked agents) for up to
`exact_up_to` wanted skills, greedy set cover (most uncovered skills, then rank) beyond.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Mapping
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
    contribution: dict[str, Any] = field(default_factory=dict)


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
    )
    return points, round(points / (points + w.reputation_half), 6)


def exclusion(c: Candidate, need: Need) -> str | None:
    if c.agent_id == need.owner:
        return "owner"
    if c.agent_id in need.participants:
        return "participant"
    if c.agent_id in need.invited:
        return "invited"
    if c.agent_id in need.declined:
        return "declined"
    if c.swarms >= c.capacity:
        return "at_capacity"
    return None


def factors(
    c: Candidate, need: Need, w: MatchingSettings, now: datetime, online: bool
) -> dict[str, float]:
    """Each factor's value in [0, 1] (see the module docstring)."""
    wanted = need.wanted
    if wanted:
        skills = sum(c.skills.get(s, 0) for s in wanted) / (MAX_LEVEL * len(wanted))
        interests = sum(1 for s in wanted if s in c.interests) / len(wanted)
    else:
        skills = interests = 0.0
    since = now - timedelta(days=w.recent_days)
    recent = sum(1 for at in c.declined_at if at >= since)
    return {
        "skills": skills,
        "interests": interests,
        "availability": STATUS_VALUE.get(c.availability, 0.0),
        "working_hours": 1.0 if within(c.working, c.days, c.timezone, now) else 0.0,
        "online": 1.0 if online else 0.0,
        "load": 1.0 - c.swarms / c.capacity if c.capacity else 0.0,
        "reputation": c.reputation,
        "recent_declines": min(recent, DECLINES_CAP) / DECLINES_CAP,
    }


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


def suggest(
    c: Candidate, need: Need, w: MatchingSettings, now: datetime, online: bool
) -> Suggestion:
    weights = weights_of(w)
    values = factors(c, need, w, now, online)
    detail = {
        name: {
            "value": round(value, 6),
            "weight": weights[name],
            "contribution": round(weights[name] * value, 6),
        }
        for name, value in values.items()
    }
    score = round(sum(d["contribution"] for d in detail.values()), 6)
    return Suggestion(c.agent_id, c.name, score, detail)


def rank(
    need: Need,
    candidates: Iterable[Candidate],
    w: MatchingSettings,
    now: datetime,
    online: Callable[[str], bool],
    limit: int,
) -> tuple[list[Suggestion], list[tuple[str, str]]]:
    """The best `limit` suggestions, best first, and the (agent id, reason) of every
    candidate excluded, by agent id."""
    scored: list[Suggestion] = []
    excluded: list[tuple[str, str]] = []
    for c in candidates:
        reason = exclusion(c, need)
        if reason is not None:
            excluded.append((c.agent_id, reason))
            continue
        scored.append(suggest(c, need, w, now, online(c.agent_id)))
    best = heapq.nsmallest(limit, scored, key=lambda s: (-s.score, s.agent_id))
    return best, sorted(excluded)


def available(c: Candidate, now: datetime) -> bool:
    return c.availability == "available" and within(c.working, c.days, c.timezone, now)


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

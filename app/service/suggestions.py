"""`GET /api/cases/{id}/suggestions`: whom to invite, with the why (see
`app.service.matching` for the factors, exclusions and the covering set).

The wanted skills are those of the case's open swarm requests (lower-cased, in order);
with none open, the case's product area (as one skill) when it has one; else nothing is
wanted and every agent is a candidate, ranked on the other factors.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from app.matching_settings import MatchingSettings
from app.service.directory import Directory
from app.service.matching import Need, cover, rank, weights_of


def need_of(case: dict[str, Any]) -> Need:
    """What the case view `case` wants, and who is already in it."""
    wanted: list[str] = []
    for request in case["swarm_requests"].values():
        if request["status"] == "open":
            wanted += [s.strip().lower() for s in request["skills_wanted"] if s.strip()]
    source = "swarm_request"
    if not wanted and case.get("product_area", "").strip():
        wanted, source = [case["product_area"].strip().lower()], "product_area"
    elif not wanted:
        source = "none"
    invitations = case["invitations"].values()
    return Need(
        case_id=case["case_id"],
        wanted=tuple(dict.fromkeys(wanted)),
        source=source,
        owner=case["owner"]["id"],
        participants=frozenset(a for a, p in case["participants"].items() if p["left_at"] is None),
        invited=frozenset(i["expert_id"] for i in invitations if i["status"] == "pending"),
        declined=frozenset(  # decided invitations leave the case view: also see
            i["expert_id"] for i in invitations if i["status"] in ("declined", "expired")
        ),  # `Candidate.declined_cases`
    )


def suggestions(
    case: dict[str, Any],
    directory: Directory,
    weights: MatchingSettings,
    now: datetime,
    online: Collection[str],
    limit: int,
) -> dict[str, Any]:
    """The answer of `GET /api/cases/{id}/suggestions` (a JSON-ready document)."""
    need = need_of(case)
    candidates = directory.matching(need.wanted)
    ranking = rank(need, candidates, weights, now, online, limit)
    best, excluded = ranking.best, ranking.excluded
    # the cover looks past `limit`: every eligible available candidate, best first
    pool = ranking.available if need.wanted else []
    covering, uncovered = cover(need.wanted, pool, weights.exact_cover_skills)
    return {
        "case_id": need.case_id,
        "position": directory.position,
        "at": now.isoformat(),
        "wanted": list(need.wanted),
        "wanted_from": need.source,
        "weights": weights_of(weights),
        "suggestions": [
            {
                "rank": n,
                "agent_id": s.agent_id,
                "name": s.name,
                "score": s.score,
                "factors": s.factors,
            }
            for n, s in enumerate(best, 1)
        ],
        "excluded": [{"agent_id": a, "reason": r} for a, r in excluded],
        "cover": {
            "agent_ids": covering,
            "uncovered": uncovered,
            "method": "exact" if len(need.wanted) <= weights.exact_cover_skills else "greedy",
        },
    }

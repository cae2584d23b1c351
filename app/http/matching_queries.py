"""Who can help: an agent's profile with contribution and reputation, and the ranked
suggestions for a case (`app.service.suggestions`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from app.http.case_queries import JSON, MinPosition, caught_up
from app.http.deps import PrincipalDep, ServicesDep
from app.schemas.matching import AgentDetail, Suggestions
from app.service.errors import CaseNotFound, NotPermitted, ResourceNotFound
from app.service.matching import reputation
from app.service.suggestions import suggestions
from projections.contribution import new_contribution
from projections.queries import case_text

router = APIRouter(prefix="/api", tags=["matching"])


@router.get("/agents/me", response_model=AgentDetail)
async def get_my_agent(
    services: ServicesDep, principal: PrincipalDep, min_position: MinPosition = None
) -> Response:
    """The caller's own profile, contribution and reputation (404 before the first PUT)."""
    return await get_agent(principal.actor.id, services, principal, min_position)


@router.get(
    "/agents/{agent_id}",
    response_model=AgentDetail,
    responses={404: {"description": "no such agent"}},
)
async def get_agent(
    agent_id: UUID, services: ServicesDep, principal: PrincipalDep, min_position: MinPosition = None
) -> Response:
    """An agent's profile, contribution (counted from the log) and reputation."""
    await caught_up(services, min_position)
    directory = services.directory
    await directory.refresh(min_position or 0)
    key = str(agent_id)
    profile = directory.profiles.get(key)
    if profile is None:
        raise ResourceNotFound("agent", agent_id)
    contribution = directory.contributions.get(key) or new_contribution(key)
    points, score = reputation(contribution, services.settings.matching)
    body = {
        **profile,
        "contribution": contribution,
        "reputation": {"points": points, "score": score},
    }
    return Response(json.dumps(body), media_type=JSON)


@router.get(
    "/cases/{case_id}/suggestions",
    response_model=Suggestions,
    responses={403: {"description": "not the owner, a participant or a supervisor"},
               404: {"description": "no such case"}},
)  # fmt: skip
async def get_suggestions(
    case_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    min_position: MinPosition = None,
) -> Response:
    """Agents ranked for the case's open swarm request (or its product area), each with
    every factor's value and contribution to the score; who is excluded and why; the
    smallest set of available agents covering every wanted skill. For the owner,
    participants and supervisors."""
    views = await caught_up(services, min_position)
    actor = principal.actor
    found = await case_text(views.engine, case_id, actor, views.pool)
    if found is None or not found.readable:
        raise CaseNotFound(case_id, f"no case {case_id} that you may read")
    case = json.loads(found.doc)
    member = case["participants"].get(str(actor.id))
    if not actor.is_supervisor and (member is None or member["left_at"] is not None):
        raise NotPermitted(
            "only the owner, participants and supervisors see suggestions", case_id=str(case_id)
        )
    directory = services.directory
    await directory.refresh(max(min_position or 0, found.position))
    online = {key for view, key in services.push.hub.channels if view == "inbox"}
    body = suggestions(
        case,
        directory,
        services.settings.matching,
        datetime.now(UTC),
        online,
        limit or services.settings.matching.limit,
    )
    return Response(json.dumps(body), media_type=JSON)

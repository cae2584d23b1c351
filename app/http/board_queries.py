"""The swarm board, the caller's inbox and agent profiles (stored documents as is)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.http.case_queries import JSON, Cursor, MinPosition, caught_up
from app.http.deps import PrincipalDep, ServicesDep
from app.schemas.views import AgentPage, Inbox, SwarmPage
from projections.queries import agents_text, inbox_text, swarm_board_text

router = APIRouter(prefix="/api", tags=["board queries"])


@router.get("/swarms", response_model=SwarmPage)
async def get_swarms(
    services: ServicesDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Response:
    """Open swarm requests of open cases (a summary every agent may see), newest first."""
    views = await caught_up(services, min_position)
    return Response(await swarm_board_text(views.engine, limit, cursor), media_type=JSON)


@router.get("/me/inbox", response_model=Inbox)
async def get_inbox(
    services: ServicesDep, principal: PrincipalDep, min_position: MinPosition = None
) -> Response:
    """The caller's invitations, mentions and decisions on their proposals, and the
    invitations to their cases that were declined or expired (with the suggestions' link)."""
    views = await caught_up(services, min_position)
    return Response(await inbox_text(views.engine, principal.actor.id), media_type=JSON)


@router.get("/agents", response_model=AgentPage)
async def get_agents(
    services: ServicesDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
    min_position: MinPosition = None,
) -> Response:
    """Agent profiles, by agent id."""
    views = await caught_up(services, min_position)
    return Response(await agents_text(views.engine, limit, cursor), media_type=JSON)

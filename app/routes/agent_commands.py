"""`PUT /api/agents/me`: the caller registers or updates its own agent profile."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes.commander import CommanderDep
from app.schemas.agents import AgentProfile
from app.schemas.results import COMMAND_PROBLEMS, ProfileSaved

router = APIRouter(prefix="/api/agents", tags=["agent commands"])


@router.put(
    "/me",
    response_model=ProfileSaved,
    responses={k: v for k, v in COMMAND_PROBLEMS.items() if k != 404},
)
async def put_my_profile(body: AgentProfile, commander: CommanderDep) -> ProfileSaved:
    """Register (first call) or update the caller's profile (`Registered`/`ProfileUpdated`)."""
    result = await commander.agents.put_me(commander.context(body), body.model_dump())
    return ProfileSaved(agent_id=result.case_id, version=result.version, position=result.position)

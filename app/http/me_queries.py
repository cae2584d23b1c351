"""Who the caller is (`GET /api/me`): the console's first question after sign-in."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from app.http.deps import PrincipalDep

router = APIRouter(prefix="/api", tags=["agent queries"])


class Me(BaseModel):
    """The caller: agent id (the one in case documents), subject, display name, role."""

    id: UUID
    subject: str
    name: str
    role: str


@router.get("/me", response_model=Me)
async def get_me(principal: PrincipalDep) -> Me:
    """The caller of this request (401 without a valid token or session)."""
    actor = principal.actor
    return Me(id=actor.id, subject=principal.subject, name=principal.name, role=actor.role.value)

"""Response bodies of the commands.

Every case command answers `CommandAccepted` (`{case_id, version, position}`); a command
that creates an element inside the case also answers that element's server-chosen id
(`insight_id`, ...). An idempotent replay answers exactly what the first call answered.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

CASE = "8d0f6a52-3c1e-4b7a-9f2d-6e5c4b3a2910"


class CommandAccepted(BaseModel):
    """A committed command: the case, its new version, the global position of its last
    event (pass it as `min_position` to a query to read your own write)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"case_id": CASE, "version": 4, "position": 1207}]}
    )
    case_id: UUID
    version: int = Field(ge=1)
    position: int = Field(ge=0)


class ContextAdded(CommandAccepted):
    context_id: UUID


class MessageLogged(CommandAccepted):
    message_id: UUID


class SwarmRequested(CommandAccepted):
    request_id: UUID


class ExpertInvited(CommandAccepted):
    invitation_id: UUID


class InsightPosted(CommandAccepted):
    insight_id: UUID


class ResolutionProposed(CommandAccepted):
    proposal_id: UUID


class ProfileSaved(BaseModel):
    """The caller's agent profile was recorded."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"agent_id": CASE, "version": 2, "position": 1208}]}
    )
    agent_id: UUID
    version: int = Field(ge=1)
    position: int = Field(ge=0)

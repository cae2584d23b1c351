"""Response bodies of the commands, and the problem-details schema for OpenAPI.

Every case command answers `CommandAccepted` (`{case_id, version, position}`); a command
that creates an element inside the case also answers that element's server-chosen id
(`insight_id`, ...). An idempotent replay answers exactly what the first call answered.
"""

from __future__ import annotations

from typing import Any
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


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; ids involved are added as extra members.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "case_id": {"type": "string"},
        "current_version": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    400: "the body cannot be read at all (not UTF-8, or not the declared content type)",
    401: "missing, malformed, expired or forged bearer token",
    403: "the caller's role or relation to the case does not permit this",
    404: "no such case (or not visible to the caller), or no such element in it",
    409: "another command changed the case first; `current_version` says where it is",
    412: "`If-Match` names a version other than the case's current one",
    422: "invalid body, path or header (`errors` lists the fields), or a reused idempotency key",
    503: "the event store is unavailable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given statuses, as problem+json."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


COMMAND_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 412, 422, 503)

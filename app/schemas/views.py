"""Response schemas of the read side, for OpenAPI only: the routes serve the stored
JSON documents as they are (no re-validation on the hot path)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CaseView(_Open):
    """The case briefing (see projections/case_view.py for every member): the newest
    entries of each growing collection (a window) and totals; older ones are paged
    (`GET /api/cases/{id}/insights` and the like)."""

    case_id: str
    version: int
    position: int
    status: str
    priority: str
    owner: dict[str, Any]
    customer: dict[str, Any]
    problem: dict[str, Any]
    context: dict[str, list[dict[str, Any]]]
    customer_messages: list[dict[str, Any]]
    swarm_requests: dict[str, dict[str, Any]]
    participants: dict[str, dict[str, Any]]
    invitations: dict[str, dict[str, Any]]
    insights: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    resolution: dict[str, Any] | None
    acknowledgements: dict[str, int]
    timeline: list[dict[str, Any]]
    timeline_total: int
    totals: dict[str, Any]


class ItemPage(BaseModel):
    """A page of a case's items, oldest first; `next_before`: where the older page
    starts (null: none older)."""

    items: list[dict[str, Any]]
    next_before: int | None


class CaseSummary(BaseModel):
    case_id: str
    owner_id: str
    status: str
    priority: str
    subject: str
    customer: str
    opened_at: str
    updated_at: str
    version: int
    position: int
    opened_position: int


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: int | None


class CaseEvent(BaseModel):
    position: int
    version: int
    type: str
    data: dict[str, Any]


class NewSinceAck(BaseModel):
    """What changed on a case since the caller last acknowledged the briefing."""

    case_id: str
    version: int
    acknowledged_version: int
    new_events: int
    timeline: list[dict[str, Any]]


class SwarmPage(_Open):
    items: list[dict[str, Any]]
    next_cursor: int | None


class Inbox(_Open):
    agent_id: str
    position: int
    items: list[dict[str, Any]]


class AgentPage(_Open):
    items: list[dict[str, Any]]
    next_cursor: str | None

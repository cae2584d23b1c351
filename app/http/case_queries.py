"""Case queries: list, the case view (now or `?at_version=`), its events, and what is
new since the caller's last acknowledgement. Strangers to a case get 404.

Read-your-writes: `?min_position=P` waits (asynchronously, at most
`SWARMDESK_MIN_POSITION_WAIT_SECONDS`, 5 by default) until the views have reached P,
else answers 503
`view-behind` with `Retry-After: 1`.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from app.bootstrap import Services
from app.http.deps import PrincipalDep, ServicesDep
from app.schemas.base import MAX_POSITION, MAX_VERSION
from app.schemas.views import CaseEvent, CasePage, CaseView, NewSinceAck
from app.service.errors import CaseNotFound, ViewBehind
from app.store.codec import decode, event_data, event_name
from projections.envelope import Envelope
from projections.fold import ViewSet
from projections.queries import case_text, list_cases
from projections.service import Views

JSON = "application/json"

router = APIRouter(prefix="/api/cases", tags=["case queries"])

MinPosition = Annotated[
    int | None, Query(ge=0, le=MAX_POSITION, description="wait until views reach it")
]
Cursor = Annotated[int | None, Query(ge=0, le=MAX_POSITION)]


async def caught_up(services: Services, min_position: int | None) -> Views:
    """The views, once they have reached `min_position` (else `ViewBehind`)."""
    views = services.views
    if min_position is None:
        return views
    waited = services.settings.min_position_wait_seconds
    if not await views.wait_for_position(min_position, waited):
        raise ViewBehind(min_position, waited)
    return views


def _missing(case_id: UUID) -> CaseNotFound:
    return CaseNotFound(case_id, f"no case {case_id} that you may read")


@router.get("", response_model=CasePage)
async def get_cases(
    services: ServicesDep,
    principal: PrincipalDep,
    owner: Literal["me"] | None = None,
    participant: Literal["me"] | None = None,
    status: Literal["open", "resolved", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Response:
    """Case summaries, newest first. Agents see cases they own, participate in or are
    invited to; supervisors and admins see all. Page with `next_cursor`."""
    views = await caught_up(services, min_position)
    me = principal.actor
    page = await list_cases(
        views.engine,
        me,
        owner=me.id if owner else None,
        participant=me.id if participant else None,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    body = json.dumps({"items": page.items, "next_cursor": page.next_cursor})
    return Response(body, media_type=JSON)


@router.get("/{case_id}", response_model=CaseView, responses={404: {"description": "no such case"}})
async def get_case(
    case_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    at_version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="the case as of a version")
    ] = None,
    min_position: MinPosition = None,
) -> Response:
    """The case view (the briefing) as stored, or as it stood at `at_version`."""
    views = await caught_up(services, min_position)
    found = await case_text(views.engine, case_id, principal.actor, views.pool)
    if found is None or not found.readable:
        raise _missing(case_id)
    if at_version is None:
        return Response(found.doc, media_type=JSON)
    rows = await services.store.read_stream(case_id, lte=at_version)
    if not rows or rows[-1].originator_version != at_version:
        raise CaseNotFound(case_id, f"case {case_id} has no version {at_version}")
    folded = ViewSet()
    for row in rows:
        await folded.apply(Envelope(row.position, decode(services.mapper, row)))
    return Response(json.dumps(folded.docs[("case", str(case_id))]), media_type=JSON)


@router.get("/{case_id}/events", response_model=list[CaseEvent])
async def get_case_events(
    case_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=MAX_VERSION, description="a case version")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The case's events with version > `after`, oldest first (readers of the case)."""
    views = services.views
    found = await case_text(views.engine, case_id, principal.actor, views.pool)
    if found is None or not found.readable:
        raise _missing(case_id)
    rows = await services.store.read_stream(case_id, gt=after, limit=limit)
    out = [
        {
            "position": r.position,
            "version": r.originator_version,
            "type": event_name(r.topic),
            "data": event_data(decode(services.mapper, r)),
        }
        for r in rows
    ]
    return Response(json.dumps(out), media_type=JSON)


@router.get("/{case_id}/new", response_model=NewSinceAck)
async def get_new_since_ack(
    case_id: UUID, services: ServicesDep, principal: PrincipalDep
) -> NewSinceAck:
    """What happened since the caller's last `BriefingAcknowledged` (timeline entries
    with a higher version; the document keeps the last 50)."""
    views = services.views
    found = await case_text(views.engine, case_id, principal.actor, views.pool)
    if found is None or not found.readable:
        raise _missing(case_id)
    doc = json.loads(found.doc)
    acked = int(doc["acknowledgements"].get(str(principal.actor.id), 0))
    return NewSinceAck(
        case_id=doc["case_id"],
        version=doc["version"],
        acknowledged_version=acked,
        new_events=max(0, doc["version"] - acked),
        timeline=[t for t in doc["timeline"] if t["version"] > acked],
    )

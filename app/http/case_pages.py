"""Pages of a case's collections beyond the windows of its document (the briefing keeps
only the newest entries of each; see `projections.case_view`): insights, proposals,
customer messages, context items by kind, timeline entries. Readers of the case only
(else 404, as for the case itself).

``?before=N&limit=L``: the L items created just before case version N (absent: the
newest), oldest first; continue with ``before=next_before`` until it is null.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from app.auth.tokens import Principal
from app.bootstrap import Services
from app.http.case_queries import MinPosition, caught_up
from app.http.deps import PrincipalDep, ServicesDep
from app.schemas.base import MAX_VERSION
from app.schemas.views import ItemPage
from app.service.errors import CaseNotFound
from domain.values import ContextKind
from projections.case_items import INSIGHT, MESSAGE, PROPOSAL, TIMELINE, context_kind
from projections.changes import can_read_case
from projections.item_queries import item_page_text

JSON = "application/json"

router = APIRouter(prefix="/api/cases", tags=["case queries"])

Before = Annotated[
    int | None,
    Query(ge=1, le=MAX_VERSION, description="items created before this case version"),
]
Limit = Annotated[int, Query(ge=1, le=200)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such case"}}


async def _page(
    services: Services,
    principal: Principal,
    case_id: UUID,
    kind: str,
    before: int | None,
    limit: int,
    min_position: int | None,
) -> Response:
    views = await caught_up(services, min_position)
    if not await can_read_case(views.engine, case_id, principal.actor):
        raise CaseNotFound(case_id, f"no case {case_id} that you may read")
    text = await item_page_text(views.engine, str(case_id), kind, before, limit)
    return Response(text, media_type=JSON)


def _collection(path: str, kind: str, what: str) -> None:
    async def page(
        case_id: UUID,
        services: ServicesDep,
        principal: PrincipalDep,
        before: Before = None,
        limit: Limit = 50,
        min_position: MinPosition = None,
    ) -> Response:
        return await _page(services, principal, case_id, kind, before, limit, min_position)

    page.__doc__ = f"The case's {what}, a page at a time, oldest first within the page."
    page.__name__ = f"get_case_{path.replace('-', '_')}"
    route: Callable[..., Awaitable[Response]] = page
    router.get(f"/{{case_id}}/{path}", response_model=ItemPage, responses=_NOT_FOUND)(route)


_collection("insights", INSIGHT, "insights")
_collection("proposals", PROPOSAL, "resolution proposals")
_collection("customer-messages", MESSAGE, "customer messages")
_collection("timeline", TIMELINE, "timeline entries (one per event)")


@router.get("/{case_id}/context/{kind}", response_model=ItemPage, responses=_NOT_FOUND)
async def get_case_context(
    case_id: UUID,
    kind: ContextKind,
    services: ServicesDep,
    principal: PrincipalDep,
    before: Before = None,
    limit: Limit = 50,
    min_position: MinPosition = None,
) -> Response:
    """The case's context items of one kind, a page at a time, oldest first within it."""
    return await _page(
        services, principal, case_id, context_kind(kind.value), before, limit, min_position
    )

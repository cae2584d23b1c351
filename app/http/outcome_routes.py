"""The SLA policies, the KPIs and the cases at risk of breach (supervisors). Defining and
changing a policy are declared commands (`app.service.policy_commands`)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response

from app.auth.tokens import Principal
from app.http.case_queries import JSON
from app.http.deps import ServicesDep, require_role
from app.service.context import IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN
from app.service.errors import InvalidParameter, ViewBehind
from domain.actors import Role
from projections.kpi_queries import FAMILIES, GROUPS, Period, kpis
from projections.outcome_queries import at_risk, policies_text

router = APIRouter(prefix="/api", tags=["outcomes"])
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Supervisor = Annotated[Principal, Depends(require_role(Role.SUPERVISOR, Role.ADMIN))]
IdempotencyKey = Annotated[str | None, Header(pattern=IDEMPOTENCY_KEY_PATTERN)]
IfMatch = Annotated[str | None, Header(pattern=IF_MATCH_PATTERN)]
MAX_DAYS = 3 * 366


async def _caught_up(services: ServicesDep, min_position: int | None) -> None:
    projector = services.outcomes.kpis
    if min_position is None:
        return
    waited = services.settings.min_position_wait_seconds
    if projector is not None and await projector.wait_for(min_position, waited):
        return
    if projector is None and await services.outcomes.position() >= min_position:
        return
    raise ViewBehind(min_position, waited)


MinPosition = Annotated[int | None, Query(ge=0, le=2**63 - 1)]


@router.get("/sla/policies")
async def list_policies(
    services: ServicesDep, principal: Supervisor, min_position: MinPosition = None
) -> Response:
    """Every SLA policy with its latest document, most recently changed first."""
    await _caught_up(services, min_position)
    return Response(await policies_text(services.engine), media_type=JSON)


@router.get("/sla/at-risk")
async def get_at_risk(
    services: ServicesDep,
    principal: Supervisor,
    within: Annotated[int, Query(ge=0, le=30 * 86400)] = 4 * 3600,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    min_position: MinPosition = None,
) -> Response:
    """Cases whose SLA clock is breached, warned, or due within `within` seconds, by due
    time (paused clocks are not at risk: the case waits on the customer)."""
    await _caught_up(services, min_position)
    items = await at_risk(services.engine, time.time() + within, limit)
    return Response(json.dumps({"items": items}), media_type=JSON)


@router.get("/kpis/changes")
async def kpi_changes(
    services: ServicesDep,
    principal: Supervisor,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    wait: Annotated[float, Query(ge=0, le=25)] = 20,
) -> Response:
    """`{"position": P}` as soon as the KPI projection passes `after` (or after `wait`
    seconds): the dashboard's long poll, so it refreshes as events arrive, not on a timer."""
    deadline = time.monotonic() + wait
    projector = services.outcomes.kpis
    while True:
        position = await services.outcomes.position()
        left = deadline - time.monotonic()
        if position > after or left <= 0 or services.shutdown.draining:
            return Response(json.dumps({"position": position}), media_type=JSON)
        if projector is not None and projector.leading:
            await projector.wait_for(after + 1, min(left, 1.0))
        else:
            await asyncio.sleep(min(left, 0.5))


@router.get("/kpis")
async def get_kpis(
    services: ServicesDep,
    principal: Supervisor,
    from_: Annotated[date, Query(alias="from")],
    to: date,
    by: Literal["day", "week"] = "week",
    group: Annotated[Literal["product_area", "priority", "owner"] | None, Query()] = None,
    product_area: Annotated[str | None, Query(max_length=200)] = None,
    priority: Annotated[str | None, Query(max_length=200)] = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    families: Annotated[str | None, Query(max_length=200)] = None,
    min_position: MinPosition = None,
) -> Response:
    """The KPIs of every day or week from `from` to `to` (inclusive), from the KPI
    projection; `group` splits them, `product_area`/`priority`/`owner` filter them,
    `families` (comma list) picks some. Definitions: README "KPIs"."""
    if to < from_ or (to - from_).days > MAX_DAYS:
        raise InvalidParameter(f"`to` must follow `from` within {MAX_DAYS} days", parameter="to")
    wanted = tuple(f for f in (families or ",".join(FAMILIES)).split(",") if f)
    unknown = sorted(set(wanted) - set(FAMILIES))
    if unknown:
        raise InvalidParameter(
            f"unknown KPI families: {', '.join(unknown)}",
            parameter="families",
            allowed=list(FAMILIES),
        )
    await _caught_up(services, min_position)
    filters = {
        k: v
        for k, v in (("product_area", product_area), ("priority", priority), ("owner", owner))
        if v is not None
    }
    assert set(filters) <= set(GROUPS)
    period = Period(from_, to, by, group, filters, wanted)
    return Response(await kpis(services.engine, period), media_type=JSON)  # JSON text

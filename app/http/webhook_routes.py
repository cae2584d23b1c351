"""Signed webhook subscriptions: register, list, delete, the delivery log, replay
(`app.notify.subscriptions`). Unknown (or someone else's) subscriptions are 404."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.http.deps import PrincipalDep, ServicesDep
from app.schemas.base import MAX_POSITION

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

Kind = Literal["invitation", "mention", "invitation_declined", "invitation_expired",
               "proposal_decided"]  # fmt: skip
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such subscription"}}


class NewSubscription(BaseModel):
    """A receiver for the caller's notifications (`all_agents`: every agent's; admins)."""

    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=8, max_length=2000)]
    events: Annotated[list[Kind], Field(max_length=10)] = []
    all_agents: bool = False


class Subscription(BaseModel):
    id: str
    url: str
    events: list[str]
    all_agents: bool
    owner_id: str | None
    created_at: float


class CreatedSubscription(Subscription):
    secret: str  # `whsec_...`: verify signatures with it; never shown again


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after: Annotated[int, Field(ge=0, le=MAX_POSITION)]


class Replayed(BaseModel):
    deliveries: int


@router.post("", status_code=201, response_model=CreatedSubscription)
async def create_subscription(
    body: NewSubscription, request: Request, services: ServicesDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Register a receiver; the answer holds its signing secret (shown once)."""
    subs = services.notifier.subscriptions
    here = [str(request.base_url)]
    server = request.scope.get("server")
    if server:
        here.append(f"http://{server[0]}:{server[1]}/")
    actor = principal.actor
    return await subs.create(actor, body.url, list(body.events), body.all_agents, here)


@router.get("", response_model=list[Subscription])
async def list_subscriptions(services: ServicesDep, principal: PrincipalDep) -> Any:
    """The caller's subscriptions (an admin's: all)."""
    return await services.notifier.subscriptions.mine(principal.actor)


@router.delete("/{subscription_id}", status_code=204, responses=NOT_FOUND)
async def delete_subscription(
    subscription_id: UUID, services: ServicesDep, principal: PrincipalDep
) -> Response:
    """Remove a subscription (its pending deliveries then fail as gone)."""
    await services.notifier.subscriptions.delete(principal.actor, subscription_id)
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", responses=NOT_FOUND)
async def get_deliveries(
    subscription_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The delivery log: each delivery's `webhook-id`, stream position, kind, status
    (pending, delivered, failed), attempts and last answer."""
    subs = services.notifier.subscriptions
    return await subs.log(principal.actor, subscription_id, after, limit)


@router.post("/{subscription_id}/replay", response_model=Replayed, responses=NOT_FOUND)
async def replay(
    subscription_id: UUID, body: Replay, services: ServicesDep, principal: PrincipalDep
) -> Replayed:
    """Send again every delivery of the subscription after stream position `after`,
    with the same `webhook-id`s."""
    subs = services.notifier.subscriptions
    count = await subs.replay(principal.actor, subscription_id, body.after)
    services.notifier.sender.wake.set()
    return Replayed(deliveries=count)

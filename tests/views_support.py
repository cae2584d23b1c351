"""Helpers for read-side tests: build valid case histories through the domain, append
them to a real store, run a projector, compare views."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from eventsourcing.domain import Aggregate

from app.store import EventStore
from app.store.codec import create_mapper, decode
from app.store.types import AppendRequest
from domain import Actor, Agent, Case, Role
from projections.db import create_views_engine
from projections.projector import Projector

MAPPER = create_mapper()


def actor(name: str, role: Role = Role.AGENT) -> Actor:
    return Actor(uuid.uuid4(), role, name)


async def append(store: EventStore, aggregate: Aggregate) -> int:
    """Append the aggregate's pending events as one request; the last position."""
    events = [MAPPER.to_stored_event(e) for e in aggregate.collect_events()]
    if not events:
        return await store.max_position()
    result = await store.append(AppendRequest(events=events))
    return result.position


def briefing_case(owner: Actor, expert: Actor, other: Actor) -> Case:
    """A case that exercises most event types (not yet appended)."""
    case = Case.open(owner, customer="ACME", subject="Checkout fails", description="500s")
    case.add_context(owner, context_id=uuid.uuid4(), kind="symptom", text="HTTP 500")
    case.log_customer_message(owner, message_id=uuid.uuid4(), direction="inbound", text="help")
    case.request_swarm(owner, request_id=uuid.uuid4(), help_needed="db", skills_wanted=["pg"])
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=expert.id, reason="pg")
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=other.id, reason="maybe")
    case.join(expert)
    insight = uuid.uuid4()
    case.post_insight(
        expert,
        insight_id=insight,
        kind="finding",
        text="pool exhausted",
        mentions=[owner.id, other.id],
    )
    case.acknowledge_briefing(expert, version=case.version)
    proposal = uuid.uuid4()
    case.propose_resolution(expert, proposal_id=proposal, summary="raise pool", cites=[insight])
    case.accept_proposal(owner, proposal_id=proposal)
    return case


def projector_for(store: EventStore, url: str, schema: str | None, **kw: Any) -> Projector:
    engine = create_views_engine(url, schema=schema)

    def subscribe(after: int) -> Any:
        return store.subscribe(after)

    return Projector(
        engine, subscribe, lambda row: decode(MAPPER, row), schema=schema, retry=0.1, **kw
    )


def canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True)


def agent(name: str) -> Agent:
    return Agent.register(uuid.uuid4(), name=name, skills={"pg": 4})


__all__: Sequence[str] = ["actor", "append", "briefing_case", "canonical", "projector_for"]

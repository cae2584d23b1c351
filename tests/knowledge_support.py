"""Helpers for knowledge tests: solved cases and articles built through the domain,
appended to a real store, projected and indexed."""

from __future__ import annotations

import uuid
from typing import Any

from app.store import EventStore
from domain import Actor, Case
from domain.article import Article
from domain.knowledge import compose
from projections.knowledge_index import KnowledgeIndex
from projections.projector import Projector
from tests.views_support import MAPPER, actor, append


def solved_case(
    owner: Actor,
    expert: Actor,
    *,
    subject: str,
    description: str = "",
    area: str = "",
    finding: str = "It was the configuration.",
    summary: str = "Fix the configuration.",
    steps: tuple[str, ...] = (),
    resolve: bool = True,
) -> tuple[Case, list[Any]]:
    """A case solved by `expert`'s accepted proposal; its events (appended later)."""
    case = Case.open(
        owner, customer="ACME", subject=subject, description=description, product_area=area
    )
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=expert.id, reason="help")
    case.join(expert)
    insight = uuid.uuid4()
    case.post_insight(expert, insight_id=insight, kind="finding", text=finding)
    proposal = uuid.uuid4()
    case.propose_resolution(
        expert, proposal_id=proposal, summary=summary, steps=list(steps), cites=[insight]
    )
    case.accept_proposal(owner, proposal_id=proposal)
    if resolve:
        case.resolve(owner, summary=summary, proposal_id=proposal)
    return case, list(case.pending_events)  # still pending: `append` collects them


def article_of(owner: Actor, events: list[Any]) -> Article:
    return Article.draft(owner, compose(events))


async def append_all(store: EventStore, *aggregates: Any) -> int:
    last = 0
    for aggregate in aggregates:
        last = await append(store, aggregate)
    return last


async def project_and_index(projector: Projector, index: KnowledgeIndex, position: int) -> None:
    """Wait for the views to reach `position`, then index until caught up."""
    assert await projector.wait_for(position, 20)
    while await index.step():
        pass
    assert index.position >= position


__all__ = ["MAPPER", "actor", "append_all", "article_of", "project_and_index", "solved_case"]

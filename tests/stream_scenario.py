"""Real domain events for the stream's tests and benchmark: every event type, appended
through the store (not through the command API), so a server sharing the database sees
them as foreign writes (PostgreSQL NOTIFY, SQLite polling)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from app.store import AppendRequest, EventStore, create_store
from app.store.codec import create_mapper
from domain.actors import Actor, Role
from domain.agent import Agent
from domain.article import Article
from domain.case import Case
from domain.knowledge import compose


def case_story(full: bool = True) -> Case:
    """A case through every kind of event (`full=False`: just opened and one insight)."""
    owner = Actor(uuid4(), Role.AGENT, "Olga Owner")
    shy, expert = Actor(uuid4(), Role.AGENT, "Sam Shy"), Actor(uuid4(), Role.AGENT, "Eve Expert")
    case = Case.open(owner, customer="ACME", subject="Login fails", description="since 9:00")
    case.post_insight(owner, insight_id=uuid4(), kind="finding", text="401 on /login")
    if not full:
        return case
    case.add_context(owner, context_id=uuid4(), kind="symptom", text="401 after SSO")
    case.log_customer_message(owner, message_id=uuid4(), direction="inbound", text="Still down")
    case.request_swarm(owner, request_id=uuid4(), help_needed="SSO expert", skills_wanted=["sso"])
    case.invite_expert(owner, invitation_id=uuid4(), expert_id=shy.id, reason="you know SSO")
    case.decline_invitation(shy, reason="on leave")
    late, due = uuid4(), datetime(2026, 1, 1, tzinfo=UTC)
    case.invite_expert(owner, invitation_id=late, expert_id=shy.id, reason="again", expires_at=due)
    case.expire_invitation(owner, invitation_id=late, now=due)
    case.invite_expert(owner, invitation_id=uuid4(), expert_id=expert.id, reason="SSO owner")
    case.join(expert)
    case.acknowledge_briefing(expert, version=case.version)
    first = uuid4()
    case.post_insight(expert, insight_id=first, kind="hypothesis", text="clock skew")
    rejected, accepted = uuid4(), uuid4()
    case.propose_resolution(expert, proposal_id=rejected, summary="reboot", cites=[first])
    case.reject_proposal(owner, proposal_id=rejected, reason="too blunt")
    case.propose_resolution(expert, proposal_id=accepted, summary="sync NTP", steps=["ntpdate"])
    case.accept_proposal(owner, proposal_id=accepted)
    case.change_priority(owner, priority="high", reason="VIP")
    case.resolve(owner, summary="NTP fixed", proposal_id=accepted)
    case.record_reuse(expert, for_case_id=uuid4())
    case.reopen(owner, reason="came back")
    case.transfer_ownership(owner, to_owner_id=expert.id, handoff_note="yours now")
    case.leave(owner, note="handed over")
    case.close(expert, note="done")
    return case


def outcome_story() -> Case:
    """A case through every outcome event (waiting, satisfaction, SLA facts)."""
    from domain.case_outcomes import SlaFact

    owner, engine = Actor(uuid4(), Role.AGENT, "Olga Owner"), Actor(uuid4(), Role.ADMIN, "SLA")
    case = Case.open(owner, customer="ACME", subject="Slow pages")
    at, due = "2026-01-05T09:00:00+00:00", "2026-01-05T10:00:00+00:00"
    clock = {"target": "resolution", "cycle": 1}
    case.record_sla(
        engine,
        SlaFact(
            "SlaClockStarted",
            **clock,
            policy_id=uuid4(),
            minutes=60,
            started_at=at,
            due_at=due,
            warn_at=due,
        ),
    )
    case.await_customer(owner, awaiting=True, note="waiting for logs")
    case.record_sla(engine, SlaFact("SlaPaused", **clock, at=at, remaining_seconds=3600))
    case.record_sla(engine, SlaFact("SlaResumed", **clock, at=at, due_at=due, warn_at=due))
    case.record_sla(engine, SlaFact("SlaWarned", **clock, due_at=due))
    case.record_sla(
        engine,
        SlaFact(
            "SwarmUrgencyRaised",
            urgency="high",
            previous="",
            target="resolution",
            reason="due soon",
        ),
    )
    case.record_sla(engine, SlaFact("SlaBreached", **clock, due_at=due))
    case.record_sla(
        engine,
        SlaFact("SlaMet", target="first_response", cycle=1, at=at, due_at=due, business_seconds=60),
    )
    case.record_satisfaction(owner, score=4, comment="ok")
    return case


def agent_story() -> Agent:
    agent = Agent.register(uuid4(), name="Ada", skills={"sso": 4}, interests=["auth"])
    agent.update_profile(Actor(agent.id, Role.AGENT, "Ada"), capacity=5)
    return agent


def article_story() -> Article:
    """An article through every kind of event (from a small swarm-resolved case)."""
    owner, expert = Actor(uuid4(), Role.AGENT, "Olga Owner"), Actor(uuid4(), Role.AGENT, "Eve")
    case = Case.open(owner, customer="ACME", subject="Login fails", description="since 9:00")
    case.invite_expert(owner, invitation_id=uuid4(), expert_id=expert.id, reason="SSO")
    case.join(expert)
    insight, proposal = uuid4(), uuid4()
    case.post_insight(expert, insight_id=insight, kind="finding", text="Clock skew.")
    case.propose_resolution(expert, proposal_id=proposal, summary="Sync NTP.", cites=[insight])
    case.accept_proposal(owner, proposal_id=proposal)
    case.resolve(owner, summary="NTP fixed", proposal_id=proposal)
    article = Article.draft(owner, compose(list(case.collect_events())))
    article.edit(owner, sections={"resolution": "Sync NTP on every node."})
    article.publish(owner)
    article.record_reuse(expert, case_id=uuid4())
    article.flag(expert, reason="NTP is chrony now")
    article.retire(owner, reason="superseded")
    return article


def requests_for(aggregates: Sequence[Aggregate]) -> list[AppendRequest]:
    """One append request (one command's worth) per aggregate's pending events."""
    mapper = create_mapper()
    return [
        AppendRequest([mapper.to_stored_event(e) for e in agg.collect_events()])
        for agg in aggregates
    ]


async def append_stories(store: EventStore, cases: int, *, full: bool = True) -> list[UUID]:
    """Append `cases` case stories (one request per case, concurrently) and one agent."""
    aggregates: list[Aggregate] = [case_story(full) for _ in range(cases)]
    aggregates.append(agent_story())
    await asyncio.gather(*(store.append(r) for r in requests_for(aggregates)))
    return [a.id for a in aggregates]


def append_to_database(url: str, schema: str | None, cases: int, *, full: bool = True) -> None:
    """Append stories from this process through a store of its own (a foreign writer)."""

    async def run() -> None:
        async with create_store(url, schema=schema) as store:
            await append_stories(store, cases, full=full)

    asyncio.run(run())

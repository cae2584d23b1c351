"""Given/when/then helpers for the domain tests (no tests here; imported by the others).

``given(*steps)`` opens a case as ``OWNER`` and runs each step (a command on the case),
then drops the pending events, so a test sees only what its *when* adds. ``then_events``
collects what the command added; ``then_rejected`` checks the error type and that nothing
was added (no pending events, version unchanged).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate

from domain import Actor, Case, DomainError, Role

T = TypeVar("T")
Step = Callable[[Case], None]

OWNER = Actor(uuid4(), Role.AGENT, "Olga Owner")
EXPERT = Actor(uuid4(), Role.AGENT, "Ed Expert")
INVITEE = Actor(uuid4(), Role.AGENT, "Ida Invitee")
OTHER = Actor(uuid4(), Role.AGENT, "Otto Other")
SUPERVISOR = Actor(uuid4(), Role.SUPERVISOR, "Sue Supervisor")
ADMIN = Actor(uuid4(), Role.ADMIN, "Ada Admin")
SERVICE = Actor(uuid4(), Role.SERVICE, "intake-bot")

INSIGHT_1 = UUID("00000000-0000-4000-8000-000000000001")
PROPOSAL_1 = UUID("00000000-0000-4000-8000-000000000002")
INVITATION_1 = UUID("00000000-0000-4000-8000-000000000003")
REQUEST_1 = UUID("00000000-0000-4000-8000-000000000004")


def open_case(**overrides: Any) -> Case:
    fields: dict[str, Any] = {
        "customer": "ACME Corp",
        "subject": "SSO login fails",
        "customer_contact": "it@acme.example",
        "description": "Since Monday nobody can log in with SSO.",
        "product_area": "identity",
        "priority": "high",
        "channel": "email",
    }
    fields.update(overrides)
    actor = fields.pop("actor", OWNER)
    return Case.open(actor, **fields)


def given(*steps: Step) -> Case:
    case = open_case()
    for step in steps:
        step(case)
    case.collect_events()
    return case


def then_events(case: Case) -> Sequence[CanMutateAggregate[UUID]]:
    return case.collect_events()


def then_one(case: Case, event_class: type[T]) -> T:
    """The single new event, checked to be an ``event_class``."""
    events = case.collect_events()
    assert len(events) == 1, events
    event = events[0]
    assert isinstance(event, event_class), event
    return event


def then_rejected(case: Case, error: type[DomainError], when: Step) -> DomainError:
    version = case.version
    with pytest.raises(error) as raised:
        when(case)
    assert case.collect_events() == []
    assert case.version == version
    assert raised.value.case_id == case.id
    return raised.value


# --- given steps ----------------------------------------------------------------------


def swarm_requested(request_id: UUID = REQUEST_1) -> Step:
    return lambda case: case.request_swarm(
        OWNER, request_id=request_id, help_needed="SAML expert", skills_wanted=["saml"]
    )


def invited(
    actor: Actor = INVITEE, invitation_id: UUID = INVITATION_1, expires_at: datetime | None = None
) -> Step:
    return lambda case: case.invite_expert(
        OWNER,
        invitation_id=invitation_id,
        expert_id=actor.id,
        expert_name=actor.name,
        reason="knows our IdP",
        expires_at=expires_at,
    )


def joined(actor: Actor = EXPERT) -> Step:
    """``actor`` joins by invitation (invited first)."""

    def step(case: Case) -> None:
        invited(actor, uuid4())(case)
        case.join(actor, expert_name=actor.name)

    return step


def insight_posted(insight_id: UUID = INSIGHT_1, author: Actor = OWNER) -> Step:
    return lambda case: case.post_insight(
        author, insight_id=insight_id, kind="finding", text="IdP certificate expired"
    )


def proposed(proposal_id: UUID = PROPOSAL_1, author: Actor = OWNER) -> Step:
    def step(case: Case) -> None:
        if INSIGHT_1 not in case.insights:
            insight_posted()(case)
        case.propose_resolution(
            author,
            proposal_id=proposal_id,
            summary="Renew the IdP certificate",
            steps=["renew cert", "upload metadata"],
            cites=[INSIGHT_1],
        )

    return step


def accepted(proposal_id: UUID = PROPOSAL_1) -> Step:
    return lambda case: case.accept_proposal(OWNER, proposal_id=proposal_id)


def resolved() -> Step:
    return lambda case: case.resolve(OWNER, summary="Certificate renewed")


def closed() -> Step:
    return lambda case: case.close(OWNER, note="done")


def transferred(to: Actor = OTHER) -> Step:
    return lambda case: case.transfer_ownership(
        OWNER, to_owner_id=to.id, to_owner_name=to.name, handoff_note="going on leave"
    )


def busy_case() -> list[Step]:
    """Open with an insight, an open proposal, a pending invitation for ``INVITEE``,
    an open swarm request and ``EXPERT`` joined: every open-case command can succeed."""
    past = datetime(2026, 1, 1, tzinfo=UTC)  # INVITEE's invitation may expire
    return [
        insight_posted(),
        proposed(),
        joined(EXPERT),
        invited(INVITEE, expires_at=past),
        swarm_requested(),
    ]

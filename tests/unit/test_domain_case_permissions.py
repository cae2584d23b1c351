"""The status gate and the role gate of every command, driven by ``PERMISSIONS``."""

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain import PERMISSIONS, Actor, Case, CaseStatus, InvalidTransition, NotAllowed, Who
from tests.unit.test_domain_support import (
    ADMIN,
    EXPERT,
    INVITATION_1,
    INVITEE,
    OTHER,
    OWNER,
    PROPOSAL_1,
    SUPERVISOR,
    busy_case,
    closed,
    given,
    resolved,
    then_one,
    then_rejected,
)

Command = Callable[[Case, Actor], None]

#: A valid call of every command (valid for the right actor on ``busy_case()``).
HELPED = uuid4()  # the case a reused solution helped

CALLS: dict[str, Command] = {
    "add_context": lambda c, a: c.add_context(
        a, context_id=uuid4(), kind="symptom", text="error 500"
    ),
    "log_customer_message": lambda c, a: c.log_customer_message(
        a, message_id=uuid4(), direction="outbound", text="we are on it"
    ),
    "request_swarm": lambda c, a: c.request_swarm(
        a, request_id=uuid4(), help_needed="DB help", skills_wanted=["postgres"], urgency="high"
    ),
    "invite_expert": lambda c, a: c.invite_expert(
        a, invitation_id=uuid4(), expert_id=OTHER.id, expert_name=OTHER.name, reason="DBA"
    ),
    "decline_invitation": lambda c, a: c.decline_invitation(a, reason="on holiday"),
    "expire_invitation": lambda c, a: c.expire_invitation(
        a, invitation_id=INVITATION_1, now=datetime.now(UTC)
    ),
    "join": lambda c, a: c.join(a, expert_name=a.name),
    "leave": lambda c, a: c.leave(a, note="bye"),
    "acknowledge_briefing": lambda c, a: c.acknowledge_briefing(a, version=1),
    "post_insight": lambda c, a: c.post_insight(a, insight_id=uuid4(), kind="question", text="?"),
    "propose_resolution": lambda c, a: c.propose_resolution(
        a, proposal_id=uuid4(), summary="restart", steps=["restart"], cites=[]
    ),
    "accept_proposal": lambda c, a: c.accept_proposal(a, proposal_id=PROPOSAL_1),
    "reject_proposal": lambda c, a: c.reject_proposal(a, proposal_id=PROPOSAL_1, reason="no"),
    "resolve": lambda c, a: c.resolve(a, summary="fixed"),
    "reopen": lambda c, a: c.reopen(a, reason="came back"),
    "close": lambda c, a: c.close(a, note="done"),
    "transfer_ownership": lambda c, a: c.transfer_ownership(
        a, to_owner_id=OTHER.id, to_owner_name=OTHER.name, handoff_note="over to you"
    ),
    "change_priority": lambda c, a: c.change_priority(a, priority="urgent", reason="VIP"),
    "record_reuse": lambda c, a: c.record_reuse(a, for_case_id=HELPED),
}

EVENT_OF: dict[str, type[object]] = {
    "add_context": Case.ContextAdded,
    "log_customer_message": Case.CustomerMessageLogged,
    "request_swarm": Case.SwarmRequested,
    "invite_expert": Case.ExpertInvited,
    "decline_invitation": Case.InvitationDeclined,
    "expire_invitation": Case.InvitationExpired,
    "join": Case.ExpertJoined,
    "leave": Case.ExpertLeft,
    "acknowledge_briefing": Case.BriefingAcknowledged,
    "post_insight": Case.InsightPosted,
    "propose_resolution": Case.ResolutionProposed,
    "accept_proposal": Case.ProposalAccepted,
    "reject_proposal": Case.ProposalRejected,
    "resolve": Case.Resolved,
    "reopen": Case.Reopened,
    "close": Case.Closed,
    "transfer_ownership": Case.OwnershipTransferred,
    "change_priority": Case.PriorityChanged,
    "record_reuse": Case.SolutionReused,
}

#: The actor for whom each command is allowed (its own rule included).
RIGHT_ACTOR: dict[str, Actor] = {
    **dict.fromkeys(CALLS, OWNER),
    "decline_invitation": INVITEE,
    "join": INVITEE,
    "leave": EXPERT,
    "acknowledge_briefing": EXPERT,
    "post_insight": EXPERT,
    "propose_resolution": EXPERT,
}


def case_in(status: CaseStatus) -> Case:
    steps = busy_case()
    if status is CaseStatus.RESOLVED:
        steps.append(resolved())
    if status is CaseStatus.CLOSED:  # after its resolution (its solution may be reused)
        steps += [resolved(), closed()]
    return given(*steps)


def test_tables_cover_every_public_command() -> None:
    commands = {
        name
        for name, value in vars(Case).items()
        if not name.startswith("_") and inspect.isfunction(value)
    }
    assert set(PERMISSIONS) == set(CALLS) == set(EVENT_OF) == commands


def test_status_table_is_the_documented_one() -> None:
    allowed_when = {
        status: {c for c, (statuses, _) in PERMISSIONS.items() if status in statuses}
        for status in CaseStatus
    }
    assert allowed_when[CaseStatus.OPEN] == set(PERMISSIONS) - {"reopen", "record_reuse"}
    assert allowed_when[CaseStatus.RESOLVED] == {
        "close",
        "reopen",
        "log_customer_message",
        "acknowledge_briefing",
        "record_reuse",
    }
    assert allowed_when[CaseStatus.CLOSED] == {"reopen", "record_reuse"}


ALLOWED = [(c, s) for c, (statuses, _) in PERMISSIONS.items() for s in sorted(statuses)]
FORBIDDEN = [
    (c, s) for c, (statuses, _) in PERMISSIONS.items() for s in CaseStatus if s not in statuses
]


@pytest.mark.parametrize(("command", "status"), ALLOWED)
def test_allowed_in_status(command: str, status: CaseStatus) -> None:
    case = case_in(status)
    CALLS[command](case, RIGHT_ACTOR[command])
    then_one(case, EVENT_OF[command])


@pytest.mark.parametrize(("command", "status"), FORBIDDEN)
@pytest.mark.parametrize("actor", [OWNER, SUPERVISOR, INVITEE, EXPERT], ids=lambda a: a.name)
def test_forbidden_in_status(command: str, status: CaseStatus, actor: Actor) -> None:
    error = then_rejected(case_in(status), InvalidTransition, lambda c: CALLS[command](c, actor))
    assert status.value in str(error)
    assert error.actor_id == actor.id


def _who(who: Who) -> list[str]:
    return [c for c, (_, w) in PERMISSIONS.items() if w is who]


def _status_for(command: str) -> CaseStatus:
    statuses = PERMISSIONS[command][0]
    return CaseStatus.OPEN if CaseStatus.OPEN in statuses else CaseStatus.RESOLVED


@pytest.mark.parametrize("command", _who(Who.OWNER))
@pytest.mark.parametrize("actor", [EXPERT, SUPERVISOR, ADMIN, OTHER], ids=lambda a: a.name)
def test_owner_only(command: str, actor: Actor) -> None:
    case = case_in(_status_for(command))
    error = then_rejected(case, NotAllowed, lambda c: CALLS[command](c, actor))
    assert error.actor_id == actor.id
    assert str(OWNER.id) in str(error)


@pytest.mark.parametrize("command", _who(Who.OWNER_OR_SUPERVISOR))
@pytest.mark.parametrize("actor", [OWNER, SUPERVISOR, ADMIN], ids=lambda a: a.name)
def test_owner_or_supervisor_allowed(command: str, actor: Actor) -> None:
    case = case_in(_status_for(command))
    CALLS[command](case, actor)
    then_one(case, EVENT_OF[command])


@pytest.mark.parametrize("command", _who(Who.OWNER_OR_SUPERVISOR))
@pytest.mark.parametrize("actor", [EXPERT, OTHER], ids=lambda a: a.name)
def test_owner_or_supervisor_refuses_others(command: str, actor: Actor) -> None:
    case = case_in(_status_for(command))
    then_rejected(case, NotAllowed, lambda c: CALLS[command](c, actor))


@pytest.mark.parametrize("command", _who(Who.PARTICIPANT))
@pytest.mark.parametrize("actor", [OWNER, EXPERT], ids=lambda a: a.name)
def test_participants_allowed(command: str, actor: Actor) -> None:
    case = case_in(CaseStatus.OPEN)
    CALLS[command](case, actor)
    then_one(case, EVENT_OF[command])


@pytest.mark.parametrize("command", _who(Who.PARTICIPANT))
@pytest.mark.parametrize("actor", [OTHER, SUPERVISOR, ADMIN, INVITEE], ids=lambda a: a.name)
def test_non_participants_refused(command: str, actor: Actor) -> None:
    case = case_in(CaseStatus.OPEN)
    error = then_rejected(case, NotAllowed, lambda c: CALLS[command](c, actor))
    assert "participants" in str(error)

"""Opening, resolving, reopening, closing, transferring and re-prioritising a case."""

from uuid import uuid4

import pytest

from domain import (
    Actor,
    Case,
    CaseStatus,
    Channel,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFoundInCase,
    Priority,
    ProposalStatus,
    Role,
)
from tests.unit.test_domain_support import (
    EXPERT,
    INVITEE,
    OTHER,
    OWNER,
    PROPOSAL_1,
    SERVICE,
    SUPERVISOR,
    Step,
    accepted,
    closed,
    given,
    insight_posted,
    invited,
    joined,
    open_case,
    proposed,
    resolved,
    swarm_requested,
    then_one,
    then_rejected,
    transferred,
)

# --- open -----------------------------------------------------------------------------


def test_open_records_opened_with_plain_values_and_owner_as_participant() -> None:
    case_id = uuid4()
    case = open_case(case_id=case_id, priority=Priority.URGENT, channel="chat", subject=" x ")
    opened = then_one(case, Case.Opened)
    assert case.id == case_id == opened.originator_id
    assert opened.originator_version == 1
    assert opened.owner_id == OWNER.id
    assert opened.owner_name == OWNER.name
    assert (opened.customer, opened.subject) == ("ACME Corp", "x")
    assert (opened.priority, opened.channel) == ("urgent", "chat")
    assert type(opened.priority) is str
    assert type(opened.channel) is str
    assert case.status is CaseStatus.OPEN
    assert case.priority is Priority.URGENT
    assert case.channel is Channel.CHAT
    assert dict(case.participants) == {OWNER.id: OWNER.name}
    assert not case.swarm_open
    assert not case.ever_swarmed
    assert case.accepted_proposal_id is None


def test_open_without_id_generates_one() -> None:
    first, second = open_case(), open_case()
    assert first.id != second.id


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.ADMIN])
def test_any_person_may_open(role: Role) -> None:
    actor = Actor(uuid4(), role, "someone")
    assert open_case(actor=actor).owner_id == actor.id


def test_a_service_may_not_own_a_case() -> None:
    with pytest.raises(NotAllowed) as raised:
        open_case(actor=SERVICE)
    assert raised.value.actor_id == SERVICE.id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer", "  "),
        ("subject", ""),
        ("priority", "whenever"),
        ("channel", "pigeon"),
    ],
)
def test_open_refuses_bad_values(field: str, value: str) -> None:
    case_id = uuid4()
    with pytest.raises(InvalidInput) as raised:
        open_case(case_id=case_id, **{field: value})
    assert raised.value.field == field
    assert raised.value.case_id == case_id


# --- resolve --------------------------------------------------------------------------


def test_resolve_on_first_touch() -> None:
    case = given()
    case.resolve(OWNER, summary="  password reset  ")
    event = then_one(case, Case.Resolved)
    assert event.resolved_by == OWNER.id
    assert event.summary == "password reset"
    assert event.proposal_id is None
    assert event.first_touch is True
    assert case.status is CaseStatus.RESOLVED
    assert case.resolution_summary == "password reset"


def test_invitation_alone_keeps_first_touch() -> None:
    case = given(invited(INVITEE))
    case.resolve(OWNER, summary="solved alone")
    assert then_one(case, Case.Resolved).first_touch is True


@pytest.mark.parametrize("swarmed", [swarm_requested(), joined(EXPERT)], ids=["request", "join"])
def test_resolve_after_swarming_is_not_first_touch(swarmed: Step) -> None:
    case = given(swarmed)
    assert case.ever_swarmed
    case.resolve(OWNER, summary="together")
    assert then_one(case, Case.Resolved).first_touch is False


def test_resolve_cites_the_accepted_proposal_automatically() -> None:
    case = given(proposed(), accepted())
    case.resolve(OWNER, summary="renewed")
    assert then_one(case, Case.Resolved).proposal_id == PROPOSAL_1


def test_resolve_may_name_the_accepted_proposal() -> None:
    case = given(proposed(), accepted())
    case.resolve(OWNER, summary="renewed", proposal_id=PROPOSAL_1)
    assert then_one(case, Case.Resolved).proposal_id == PROPOSAL_1


def test_resolve_refuses_a_proposal_that_is_not_accepted() -> None:
    other = uuid4()
    case = given(proposed(), proposed(other), accepted())
    error = then_rejected(
        case, InvalidTransition, lambda c: c.resolve(OWNER, summary="x", proposal_id=other)
    )
    assert error.offending_id == other


def test_resolve_refuses_an_open_proposal_when_none_accepted() -> None:
    case = given(proposed())
    then_rejected(
        case, InvalidTransition, lambda c: c.resolve(OWNER, summary="x", proposal_id=PROPOSAL_1)
    )


def test_resolve_refuses_an_unknown_proposal() -> None:
    missing = uuid4()
    error = then_rejected(
        given(), NotFoundInCase, lambda c: c.resolve(OWNER, summary="x", proposal_id=missing)
    )
    assert isinstance(error, NotFoundInCase)
    assert error.missing_id == missing == error.offending_id
    assert str(missing) in str(error)


def test_resolve_needs_a_summary() -> None:
    then_rejected(given(), InvalidInput, lambda c: c.resolve(OWNER, summary=" "))


def test_resolve_ends_swarming_and_withdraws_invitations() -> None:
    case = given(swarm_requested(), invited(INVITEE), resolved())
    assert not case.swarm_open
    assert dict(case.pending_invitations) == {}


# --- reopen ---------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [OWNER, SUPERVISOR], ids=lambda a: a.name)
@pytest.mark.parametrize("end", [resolved(), closed()], ids=["resolved", "closed"])
def test_reopen(actor: Actor, end: Step) -> None:
    case = given(proposed(), accepted(), end)
    case.reopen(actor, reason=" customer says it broke again ")
    event = then_one(case, Case.Reopened)
    assert (event.reopened_by, event.reason) == (actor.id, "customer says it broke again")
    assert case.status is CaseStatus.OPEN
    assert case.accepted_proposal_id is None
    assert case.proposal_status(PROPOSAL_1) is ProposalStatus.ACCEPTED
    assert case.resolution_summary == ""
    assert not case.swarm_open


def test_reopened_case_can_accept_a_new_proposal_and_resolve_again() -> None:
    second = uuid4()
    case = given(proposed(), accepted(), resolved())
    case.reopen(OWNER, reason="again")
    proposed(second)(case)
    case.accept_proposal(OWNER, proposal_id=second)
    case.resolve(OWNER, summary="for good")
    last = case.collect_events()[-1]
    assert isinstance(last, Case.Resolved)
    assert last.proposal_id == second


def test_reopen_needs_a_reason() -> None:
    then_rejected(given(resolved()), InvalidInput, lambda c: c.reopen(OWNER, reason=""))


# --- close ----------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [[], [resolved()]], ids=["from open", "from resolved"])
def test_close(steps: list[Step]) -> None:
    case = given(swarm_requested(), invited(INVITEE), *steps)
    case.close(OWNER, note=" ")
    event = then_one(case, Case.Closed)
    assert (event.closed_by, event.note) == (OWNER.id, "")
    assert case.status is CaseStatus.CLOSED
    assert not case.swarm_open
    assert dict(case.pending_invitations) == {}


def test_closed_case_only_reopens() -> None:
    case = given(closed())
    then_rejected(case, InvalidTransition, lambda c: c.close(OWNER))
    then_rejected(case, InvalidTransition, lambda c: c.resolve(OWNER, summary="x"))
    case.reopen(SUPERVISOR, reason="wrongly closed")
    then_one(case, Case.Reopened)


# --- transfer -------------------------------------------------------------------------


def test_transfer_ownership() -> None:
    case = given(invited(OTHER))
    case.transfer_ownership(
        OWNER, to_owner_id=OTHER.id, to_owner_name=OTHER.name, handoff_note=" over to you "
    )
    event = then_one(case, Case.OwnershipTransferred)
    assert event.from_owner_id == OWNER.id
    assert event.to_owner_id == OTHER.id
    assert event.to_owner_name == OTHER.name
    assert event.transferred_by == OWNER.id
    assert event.handoff_note == "over to you"
    assert case.owner_id == OTHER.id
    assert dict(case.participants) == {OWNER.id: OWNER.name, OTHER.id: OTHER.name}
    assert OTHER.id not in case.pending_invitations


def test_transfer_by_supervisor_records_who_did_it() -> None:
    case = given()
    case.transfer_ownership(
        SUPERVISOR, to_owner_id=OTHER.id, to_owner_name="", handoff_note="rebalancing"
    )
    event = then_one(case, Case.OwnershipTransferred)
    assert (event.from_owner_id, event.transferred_by) == (OWNER.id, SUPERVISOR.id)


def test_transfer_to_a_joined_expert_keeps_their_name_when_none_given() -> None:
    case = given(joined(EXPERT))
    case.transfer_ownership(OWNER, to_owner_id=EXPERT.id, to_owner_name="", handoff_note="yours")
    assert case.participants[EXPERT.id] == EXPERT.name
    assert case.owner_name == EXPERT.name


def test_after_transfer_the_new_owner_rules_and_the_old_one_is_a_participant() -> None:
    case = given(transferred(OTHER))
    then_rejected(case, NotAllowed, lambda c: c.resolve(OWNER, summary="x"))
    case.post_insight(OWNER, insight_id=uuid4(), kind="answer", text="context from me")
    case.leave(OWNER, note="handed over")
    case.resolve(OTHER, summary="done")
    assert [type(e) for e in case.collect_events()] == [
        Case.InsightPosted,
        Case.ExpertLeft,
        Case.Resolved,
    ]


def test_transfer_to_the_current_owner_is_refused() -> None:
    error = then_rejected(
        given(),
        InvalidInput,
        lambda c: c.transfer_ownership(
            OWNER, to_owner_id=OWNER.id, to_owner_name="", handoff_note="x"
        ),
    )
    assert error.offending_id == OWNER.id


def test_transfer_needs_a_handoff_note() -> None:
    then_rejected(
        given(),
        InvalidInput,
        lambda c: c.transfer_ownership(OWNER, to_owner_id=OTHER.id, handoff_note=" "),
    )


# --- priority -------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [OWNER, SUPERVISOR], ids=lambda a: a.name)
def test_change_priority(actor: Actor) -> None:
    case = given()
    case.change_priority(actor, priority=Priority.LOW, reason="workaround in place")
    event = then_one(case, Case.PriorityChanged)
    assert (event.priority, event.previous) == ("low", "high")
    assert (event.changed_by, event.reason) == (actor.id, "workaround in place")
    assert case.priority is Priority.LOW


@pytest.mark.parametrize(
    ("priority", "reason"), [("high", "same"), ("someday", "bad"), ("low", "")]
)
def test_change_priority_refuses_bad_values(priority: str, reason: str) -> None:
    then_rejected(
        given(), InvalidInput, lambda c: c.change_priority(OWNER, priority=priority, reason=reason)
    )


def test_is_participant() -> None:
    case = given(insight_posted())
    assert case.is_participant(OWNER.id)
    assert not case.is_participant(EXPERT.id)

"""Context, customer messages, insights and resolution proposals."""

from uuid import uuid4

import pytest

from domain import (
    Case,
    ContextKind,
    InsightKind,
    InvalidInput,
    InvalidTransition,
    MessageDirection,
    NotAllowed,
    NotFoundInCase,
    ProposalStatus,
)
from tests.unit.test_domain_support import (
    EXPERT,
    INSIGHT_1,
    OWNER,
    PROPOSAL_1,
    accepted,
    given,
    insight_posted,
    joined,
    proposed,
    resolved,
    then_one,
    then_rejected,
)

# --- context --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ContextKind))
def test_add_context_of_every_kind(kind: ContextKind) -> None:
    case = given(joined(EXPERT))
    context_id = uuid4()
    case.add_context(EXPERT, context_id=context_id, kind=kind.value, text=" Okta, SAML 2.0 ")
    event = then_one(case, Case.ContextAdded)
    assert (event.context_id, event.author_id) == (context_id, EXPERT.id)
    assert (event.kind, event.text) == (kind.value, "Okta, SAML 2.0")


@pytest.mark.parametrize(("kind", "text"), [("gossip", "x"), ("symptom", "  ")])
def test_add_context_refuses_bad_values(kind: str, text: str) -> None:
    then_rejected(
        given(),
        InvalidInput,
        lambda c: c.add_context(OWNER, context_id=uuid4(), kind=kind, text=text),
    )


def test_context_ids_are_unique_in_the_case() -> None:
    context_id = uuid4()
    case = given(lambda c: c.add_context(OWNER, context_id=context_id, kind="symptom", text="a"))
    error = then_rejected(
        case,
        InvalidInput,
        lambda c: c.add_context(OWNER, context_id=context_id, kind="symptom", text="b"),
    )
    assert error.offending_id == context_id


# --- customer messages ----------------------------------------------------------------


@pytest.mark.parametrize("direction", list(MessageDirection))
def test_log_customer_message(direction: MessageDirection) -> None:
    case = given()
    message_id = uuid4()
    case.log_customer_message(OWNER, message_id=message_id, direction=direction, text=" hi ")
    event = then_one(case, Case.CustomerMessageLogged)
    assert (event.message_id, event.author_id) == (message_id, OWNER.id)
    assert (event.direction, event.text) == (direction.value, "hi")
    assert type(event.direction) is str


def test_customer_messages_are_logged_after_resolution_too() -> None:
    case = given(resolved())
    case.log_customer_message(OWNER, message_id=uuid4(), direction="inbound", text="thanks!")
    then_one(case, Case.CustomerMessageLogged)


def test_experts_do_not_talk_to_the_customer() -> None:
    then_rejected(
        given(joined(EXPERT)),
        NotAllowed,
        lambda c: c.log_customer_message(
            EXPERT, message_id=uuid4(), direction="outbound", text="x"
        ),
    )


# --- insights -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(InsightKind))
def test_post_insight(kind: InsightKind) -> None:
    case = given(joined(EXPERT), insight_posted())
    insight_id = uuid4()
    case.post_insight(
        EXPERT,
        insight_id=insight_id,
        kind=kind,
        text=" the cert expired on Monday ",
        refers_to=[INSIGHT_1, INSIGHT_1],
        mentions=[OWNER.id, OWNER.id, EXPERT.id],
    )
    event = then_one(case, Case.InsightPosted)
    assert (event.insight_id, event.author_id) == (insight_id, EXPERT.id)
    assert (event.kind, event.text) == (kind.value, "the cert expired on Monday")
    assert event.refers_to == [INSIGHT_1]
    assert event.mentions == [OWNER.id, EXPERT.id]
    assert case.insights == {INSIGHT_1, insight_id}


def test_insight_may_only_refer_to_insights_of_this_case() -> None:
    missing = uuid4()
    error = then_rejected(
        given(insight_posted()),
        NotFoundInCase,
        lambda c: c.post_insight(
            OWNER, insight_id=uuid4(), kind="answer", text="x", refers_to=[INSIGHT_1, missing]
        ),
    )
    assert isinstance(error, NotFoundInCase)
    assert (error.what, error.missing_id) == ("insight", missing)


@pytest.mark.parametrize(("kind", "text"), [("rumour", "x"), ("finding", "")])
def test_post_insight_refuses_bad_values(kind: str, text: str) -> None:
    then_rejected(
        given(),
        InvalidInput,
        lambda c: c.post_insight(OWNER, insight_id=uuid4(), kind=kind, text=text),
    )


def test_insight_ids_are_unique_in_the_case() -> None:
    then_rejected(given(insight_posted()), InvalidInput, insight_posted())


# --- proposals ------------------------------------------------------------------------


def test_propose_resolution() -> None:
    case = given(joined(EXPERT), insight_posted())
    case.propose_resolution(
        EXPERT,
        proposal_id=PROPOSAL_1,
        summary=" renew the certificate ",
        steps=[" renew ", "", "upload metadata"],
        cites=[INSIGHT_1, INSIGHT_1],
    )
    event = then_one(case, Case.ResolutionProposed)
    assert (event.proposal_id, event.author_id) == (PROPOSAL_1, EXPERT.id)
    assert event.summary == "renew the certificate"
    assert event.steps == ["renew", "upload metadata"]
    assert event.cites == [INSIGHT_1]
    proposal = case.open_proposals[PROPOSAL_1]
    assert (proposal.author_id, proposal.status) == (EXPERT.id, ProposalStatus.OPEN)
    assert case.proposal_status(PROPOSAL_1) is ProposalStatus.OPEN


def test_proposal_may_only_cite_insights_of_this_case() -> None:
    missing = uuid4()
    error = then_rejected(
        given(),
        NotFoundInCase,
        lambda c: c.propose_resolution(OWNER, proposal_id=uuid4(), summary="x", cites=[missing]),
    )
    assert error.offending_id == missing


def test_proposal_needs_a_summary_and_a_fresh_id() -> None:
    case = given(proposed())
    then_rejected(
        case, InvalidInput, lambda c: c.propose_resolution(OWNER, proposal_id=uuid4(), summary="")
    )
    then_rejected(
        case,
        InvalidInput,
        lambda c: c.propose_resolution(OWNER, proposal_id=PROPOSAL_1, summary="y"),
    )


def test_accept_proposal() -> None:
    case = given(proposed())
    case.accept_proposal(OWNER, proposal_id=PROPOSAL_1)
    event = then_one(case, Case.ProposalAccepted)
    assert (event.proposal_id, event.decided_by) == (PROPOSAL_1, OWNER.id)
    assert case.accepted_proposal_id == PROPOSAL_1
    assert case.proposal_status(PROPOSAL_1) is ProposalStatus.ACCEPTED
    assert PROPOSAL_1 not in case.open_proposals


def test_reject_proposal() -> None:
    case = given(proposed())
    case.reject_proposal(OWNER, proposal_id=PROPOSAL_1, reason=" does not explain logs ")
    event = then_one(case, Case.ProposalRejected)
    assert (event.proposal_id, event.decided_by) == (PROPOSAL_1, OWNER.id)
    assert event.reason == "does not explain logs"
    assert case.accepted_proposal_id is None
    assert case.proposal_status(PROPOSAL_1) is ProposalStatus.REJECTED
    assert PROPOSAL_1 not in case.open_proposals


def test_rejection_needs_a_reason() -> None:
    then_rejected(
        given(proposed()),
        InvalidInput,
        lambda c: c.reject_proposal(OWNER, proposal_id=PROPOSAL_1, reason="  "),
    )


@pytest.mark.parametrize("decided", ["accepted", "rejected"])
@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_decided_proposals_cannot_be_decided_again(decided: str, decision: str) -> None:
    case = given(proposed())
    if decided == "accepted":
        case.accept_proposal(OWNER, proposal_id=PROPOSAL_1)
    else:
        case.reject_proposal(OWNER, proposal_id=PROPOSAL_1, reason="no")
    case.collect_events()

    def when(c: Case) -> None:
        if decision == "accept":
            c.accept_proposal(OWNER, proposal_id=PROPOSAL_1)
        else:
            c.reject_proposal(OWNER, proposal_id=PROPOSAL_1, reason="no")

    error = then_rejected(case, InvalidTransition, when)
    assert error.offending_id == PROPOSAL_1
    assert decided in str(error)


def test_only_one_accepted_proposal_at_a_time() -> None:
    second = uuid4()
    case = given(proposed(), proposed(second), accepted())
    error = then_rejected(
        case, InvalidTransition, lambda c: c.accept_proposal(OWNER, proposal_id=second)
    )
    assert str(PROPOSAL_1) in str(error)
    case.reject_proposal(OWNER, proposal_id=second, reason="we went with the other")
    then_one(case, Case.ProposalRejected)


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_deciding_an_unknown_proposal(decision: str) -> None:
    missing = uuid4()

    def when(c: Case) -> None:
        if decision == "accept":
            c.accept_proposal(OWNER, proposal_id=missing)
        else:
            c.reject_proposal(OWNER, proposal_id=missing, reason="no")

    error = then_rejected(given(proposed()), NotFoundInCase, when)
    assert error.offending_id == missing

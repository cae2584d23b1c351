"""Swarm requests, invitations, joining, leaving and briefing acknowledgements."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain import Actor, Case, InvalidInput, InvalidTransition, JoinVia, NotAllowed, Urgency
from tests.unit.test_domain_support import (
    EXPERT,
    INVITATION_1,
    INVITEE,
    OTHER,
    OWNER,
    REQUEST_1,
    Step,
    given,
    invited,
    joined,
    swarm_requested,
    then_one,
    then_rejected,
    transferred,
)

# --- request_swarm --------------------------------------------------------------------


def test_request_swarm() -> None:
    case = given()
    request_id = uuid4()
    case.request_swarm(
        OWNER,
        request_id=request_id,
        help_needed=" need a SAML expert ",
        skills_wanted=["saml", " saml", "", "okta"],
        urgency=Urgency.CRITICAL,
    )
    event = then_one(case, Case.SwarmRequested)
    assert event.request_id == request_id
    assert event.requested_by == OWNER.id
    assert event.help_needed == "need a SAML expert"
    assert event.skills_wanted == ["saml", "okta"]
    assert event.urgency == "critical"
    assert type(event.urgency) is str
    assert case.swarm_open
    assert case.ever_swarmed
    assert case.open_swarm_requests == (request_id,)


def test_several_swarm_requests_may_be_open() -> None:
    second = uuid4()
    case = given(swarm_requested(), swarm_requested(second))
    assert case.open_swarm_requests == (REQUEST_1, second)


@pytest.mark.parametrize(
    ("help_needed", "urgency", "field"),
    [(" ", "high", "help_needed"), ("help", "yesterday", "urgency")],
)
def test_request_swarm_refuses_bad_values(help_needed: str, urgency: str, field: str) -> None:
    error = then_rejected(
        given(),
        InvalidInput,
        lambda c: c.request_swarm(
            OWNER, request_id=uuid4(), help_needed=help_needed, urgency=urgency
        ),
    )
    assert isinstance(error, InvalidInput)
    assert error.field == field


def test_request_ids_are_unique_in_the_case() -> None:
    error = then_rejected(given(swarm_requested()), InvalidInput, swarm_requested())
    assert error.offending_id == REQUEST_1


# --- invite / decline -----------------------------------------------------------------


def test_invite_expert() -> None:
    case = given()
    case.invite_expert(
        OWNER,
        invitation_id=INVITATION_1,
        expert_id=INVITEE.id,
        expert_name=INVITEE.name,
        reason=" wrote the SSO module ",
    )
    event = then_one(case, Case.ExpertInvited)
    assert event.invitation_id == INVITATION_1
    assert (event.expert_id, event.expert_name) == (INVITEE.id, INVITEE.name)
    assert (event.invited_by, event.reason) == (OWNER.id, "wrote the SSO module")
    assert dict(case.pending_invitations) == {INVITEE.id: INVITATION_1}
    assert not case.ever_swarmed


@pytest.mark.parametrize(
    ("steps", "expert"),
    [
        ([], OWNER),
        ([joined(EXPERT)], EXPERT),
        ([invited(INVITEE)], INVITEE),
    ],
    ids=["the owner", "a participant", "already invited"],
)
def test_invite_refuses_participants_and_pending_invitees(steps: list[Step], expert: Actor) -> None:
    error = then_rejected(
        given(*steps),
        InvalidTransition,
        lambda c: c.invite_expert(
            OWNER, invitation_id=uuid4(), expert_id=expert.id, expert_name="", reason="x"
        ),
    )
    assert error.offending_id == expert.id


def test_invite_needs_a_reason_and_a_fresh_id() -> None:
    case = given(invited(INVITEE))
    then_rejected(
        case,
        InvalidInput,
        lambda c: c.invite_expert(OWNER, invitation_id=uuid4(), expert_id=OTHER.id, reason=""),
    )
    then_rejected(
        case,
        InvalidInput,
        lambda c: c.invite_expert(
            OWNER, invitation_id=INVITATION_1, expert_id=OTHER.id, reason="x"
        ),
    )


def test_decline_invitation() -> None:
    case = given(invited(INVITEE))
    case.decline_invitation(INVITEE, reason=" on holiday ")
    event = then_one(case, Case.InvitationDeclined)
    assert (event.invitation_id, event.expert_id) == (INVITATION_1, INVITEE.id)
    assert event.reason == "on holiday"
    assert dict(case.pending_invitations) == {}


def test_decline_reason_is_optional() -> None:
    case = given(invited(INVITEE))
    case.decline_invitation(INVITEE)
    assert then_one(case, Case.InvitationDeclined).reason == ""


@pytest.mark.parametrize("actor", [OTHER, OWNER, EXPERT], ids=lambda a: a.name)
def test_decline_needs_a_pending_invitation(actor: Actor) -> None:
    case = given(joined(EXPERT), invited(INVITEE))
    then_rejected(case, NotAllowed, lambda c: c.decline_invitation(actor))


@pytest.mark.parametrize(
    "answer",
    [
        lambda c: c.decline_invitation(INVITEE),
        lambda c: c.join(INVITEE),
        lambda c: c.expire_invitation(OTHER, invitation_id=INVITATION_1, now=datetime.now(UTC)),
        lambda c: c.transfer_ownership(OWNER, to_owner_id=INVITEE.id, handoff_note="yours"),
    ],
    ids=["declined", "joined", "expired", "made owner"],
)
def test_an_expiry_is_kept_only_while_its_invitation_is_pending(answer: Step) -> None:
    """The state holds what deciding needs: an answered invitation's expiry goes."""
    case = given(invited(INVITEE, expires_at=datetime(2026, 1, 1, tzinfo=UTC)))
    assert set(case.invitation_expiry) == {INVITATION_1}
    answer(case)
    assert dict(case.invitation_expiry) == {}
    assert dict(case.pending_invitations) == {}


def test_declined_expert_may_be_invited_again() -> None:
    case = given(invited(INVITEE))
    case.decline_invitation(INVITEE)
    invited(INVITEE, uuid4())(case)
    assert INVITEE.id in case.pending_invitations


# --- join / leave ---------------------------------------------------------------------


def test_join_by_invitation() -> None:
    case = given(invited(INVITEE), swarm_requested())
    case.join(INVITEE, expert_name=" Ida ")
    event = then_one(case, Case.ExpertJoined)
    assert (event.expert_id, event.expert_name) == (INVITEE.id, "Ida")
    assert event.via == JoinVia.INVITATION.value == "invitation"
    assert event.invitation_id == INVITATION_1
    assert case.participants[INVITEE.id] == "Ida"
    assert INVITEE.id not in case.pending_invitations
    assert case.ever_swarmed


def test_join_by_swarm_request_uses_the_token_name_by_default() -> None:
    case = given(swarm_requested())
    case.join(OTHER)
    event = then_one(case, Case.ExpertJoined)
    assert (event.via, event.invitation_id) == ("swarm_request", None)
    assert event.expert_name == OTHER.name
    assert case.swarm_open  # more experts may still offer help


def test_join_needs_an_invitation_or_an_open_swarm_request() -> None:
    error = then_rejected(given(invited(INVITEE)), NotAllowed, lambda c: c.join(OTHER))
    assert error.actor_id == OTHER.id


@pytest.mark.parametrize("actor", [OWNER, EXPERT], ids=lambda a: a.name)
def test_participants_cannot_join_again(actor: Actor) -> None:
    case = given(joined(EXPERT), swarm_requested())
    then_rejected(case, InvalidTransition, lambda c: c.join(actor))


def test_leave() -> None:
    case = given(joined(EXPERT))
    case.leave(EXPERT, note=" found the cause ")
    event = then_one(case, Case.ExpertLeft)
    assert (event.expert_id, event.note) == (EXPERT.id, "found the cause")
    assert EXPERT.id not in case.participants


def test_an_expert_who_left_may_rejoin_through_a_swarm_request() -> None:
    case = given(joined(EXPERT), swarm_requested())
    case.leave(EXPERT)
    case.join(EXPERT)
    assert [type(e) for e in case.collect_events()] == [Case.ExpertLeft, Case.ExpertJoined]


@pytest.mark.parametrize(
    ("actor", "reason"), [(OWNER, "owner cannot leave"), (OTHER, "participants")]
)
def test_leave_refused(actor: Actor, reason: str) -> None:
    error = then_rejected(given(joined(EXPERT)), NotAllowed, lambda c: c.leave(actor))
    assert reason in str(error)


def test_former_owner_may_leave_after_transfer() -> None:
    case = given(transferred(OTHER))
    case.leave(OWNER)
    then_one(case, Case.ExpertLeft)


# --- briefing acknowledgements --------------------------------------------------------


def test_acknowledge_briefing_at_current_version() -> None:
    case = given(joined(EXPERT))
    case.acknowledge_briefing(EXPERT, version=case.version)
    event = then_one(case, Case.BriefingAcknowledged)
    assert (event.participant_id, event.acknowledged_version) == (EXPERT.id, 3)
    assert case.acknowledged_versions[EXPERT.id] == 3


def test_acknowledgements_keep_the_highest_version() -> None:
    case = given(joined(EXPERT))
    case.acknowledge_briefing(EXPERT, version=3)
    case.acknowledge_briefing(EXPERT, version=1)
    assert len(case.collect_events()) == 2
    assert case.acknowledged_versions[EXPERT.id] == 3


@pytest.mark.parametrize("version", [0, -1, 4, 99])
def test_acknowledged_version_must_exist(version: int) -> None:
    case = given(joined(EXPERT))
    assert case.version == 3
    error = then_rejected(
        case, InvalidInput, lambda c: c.acknowledge_briefing(EXPERT, version=version)
    )
    assert str(version) in str(error)


def test_acknowledged_version_must_be_an_int_not_a_bool() -> None:
    then_rejected(given(), InvalidInput, lambda c: c.acknowledge_briefing(OWNER, version=True))

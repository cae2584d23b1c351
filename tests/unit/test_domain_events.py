"""The event schema: stored and loaded unchanged, JSON-simple, upcastable, replayable."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex

from domain import Agent, Case, agent_id_for, aggregate_from_events, case_events
from domain.actors import Actor, Role
from tests.unit.test_domain_support import (
    EXPERT,
    INSIGHT_1,
    INVITEE,
    OTHER,
    OWNER,
    PROPOSAL_1,
    SUPERVISOR,
    Step,
    accepted,
    closed,
    insight_posted,
    invited,
    joined,
    open_case,
    proposed,
    resolved,
    swarm_requested,
    transferred,
)


def mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder=transcoder)


def full_history() -> list[CanMutateAggregate[UUID]]:
    """A case that produces every kind of event (and both forms of optional fields)."""
    case = open_case()
    second = uuid4()
    steps: list[Step] = [
        lambda c: c.add_context(OWNER, context_id=uuid4(), kind="environment", text="Okta"),
        lambda c: c.log_customer_message(
            OWNER, message_id=uuid4(), direction="inbound", text="still broken"
        ),
        swarm_requested(),
        invited(INVITEE),
        lambda c: c.decline_invitation(INVITEE, reason="busy"),
        invited(INVITEE, uuid4(), datetime(2026, 1, 1, tzinfo=UTC)),
        lambda c: c.expire_invitation(
            OWNER, invitation_id=c.pending_invitations[INVITEE.id], now=datetime.now(UTC)
        ),
        joined(EXPERT),  # ExpertInvited + ExpertJoined via invitation
        lambda c: c.join(OTHER),  # via swarm request: invitation_id None
        lambda c: c.acknowledge_briefing(OTHER, version=c.version),
        insight_posted(),
        lambda c: c.post_insight(
            EXPERT,
            insight_id=uuid4(),
            kind="answer",
            text="yes",
            refers_to=[INSIGHT_1],
            mentions=[OWNER.id],
        ),
        proposed(),
        proposed(second),
        lambda c: c.reject_proposal(OWNER, proposal_id=second, reason="no"),
        accepted(),
        lambda c: c.leave(OTHER, note="bye"),
        lambda c: c.change_priority(SUPERVISOR, priority="urgent", reason="VIP"),
        resolved(),  # cites PROPOSAL_1
        lambda c: c.reopen(SUPERVISOR, reason="again"),
        resolved(),  # proposal_id None (accepted cleared on reopen)
        lambda c: c.record_reuse(SUPERVISOR, for_case_id=UUID(int=7)),
        lambda c: c.reopen(OWNER, reason="and again"),
        transferred(OTHER),
        lambda c: c.close(OTHER, note="duplicate"),
    ]
    for step in steps:
        step(case)
    return list(case.collect_events())


def agent_history() -> list[CanMutateAggregate[UUID]]:
    agent = Agent.register(
        agent_id_for("alice"), name="Alice", skills={"saml": 4}, interests=["identity"]
    )
    agent.update_profile(Actor(agent.id, Role.AGENT), availability="busy", capacity=2)
    return list(agent.collect_events())


CASE_EVENT_NAMES = case_events.__all__


def test_every_case_event_class_is_exercised_by_the_history() -> None:
    seen = {type(e).__name__ for e in full_history()}
    assert seen == set(CASE_EVENT_NAMES)
    assert len(CASE_EVENT_NAMES) == 20


@pytest.mark.parametrize("name", CASE_EVENT_NAMES)
def test_case_event_class_is_a_versioned_nested_class(name: str) -> None:
    event_class = getattr(Case, name)
    assert event_class.class_version == (2 if name == "ExpertInvited" else 1)
    assert event_class.__qualname__ == f"Case.{name}"
    assert event_class.__module__ == "domain.case"
    assert issubclass(event_class, getattr(case_events, name))
    assert issubclass(event_class, Case.Event)


@pytest.mark.parametrize(
    "event", full_history() + agent_history(), ids=lambda e: type(e).__qualname__
)
def test_mapper_round_trip(event: CanMutateAggregate[UUID]) -> None:
    m = mapper()
    stored = m.to_stored_event(event)
    assert stored.topic == f"{type(event).__module__}:{type(event).__qualname__}"
    loaded = m.to_domain_event(stored)
    assert type(loaded) is type(event)
    assert loaded == event
    assert vars(loaded) == vars(event)


def test_optional_ids_round_trip_as_none_and_as_uuid() -> None:
    m = mapper()
    history = full_history()
    joins = [e for e in history if isinstance(e, Case.ExpertJoined)]
    resolutions = [e for e in history if isinstance(e, Case.Resolved)]
    assert {e.invitation_id is None for e in joins} == {True, False}
    assert [e.proposal_id for e in resolutions] == [PROPOSAL_1, None]
    for event in joins + resolutions:
        assert m.to_domain_event(m.to_stored_event(event)) == event


def _is_json_simple(value: Any) -> bool:
    if type(value) in (str, int, bool, UUID) or value is None:
        return True
    if type(value) is list:
        return all(type(item) in (str, UUID) for item in value)
    if type(value) is dict:  # Agent skills: str -> int
        return all(type(k) is str and type(v) is int for k, v in value.items())
    return False


@pytest.mark.parametrize(
    "event", full_history() + agent_history(), ids=lambda e: type(e).__qualname__
)
def test_event_fields_are_json_simple_with_no_enum_members(event: object) -> None:
    for name, value in vars(event).items():
        if name == "timestamp":
            assert isinstance(value, datetime)
            assert value.tzinfo is not None
        else:
            assert _is_json_simple(value), (name, value)


def test_upcasting_a_stored_v1_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raising ``class_version`` with an ``upcast_v1_v2`` migrates stored v1 state."""
    case = open_case()
    case.change_priority(OWNER, priority="low", reason="workaround")
    m = mapper()
    stored_v1 = m.to_stored_event(case.collect_events()[-1])

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["reason"] = f"{state['reason']} (migrated)"

    monkeypatch.setattr(Case.PriorityChanged, "class_version", 2)
    monkeypatch.setattr(
        Case.PriorityChanged, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False
    )
    loaded = m.to_domain_event(stored_v1)
    assert isinstance(loaded, Case.PriorityChanged)
    assert loaded.reason == "workaround (migrated)"
    restored = m.to_domain_event(m.to_stored_event(loaded))  # stored as v2: no upcast
    assert isinstance(restored, Case.PriorityChanged)
    assert restored.reason == "workaround (migrated)"


def _state(aggregate: object) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def replayed(history: Sequence[CanMutateAggregate[UUID]], through_store: bool) -> Case:
    if through_store:
        history = [round_trip(e) for e in history]
    return aggregate_from_events(Case, history)


def round_trip(event: CanMutateAggregate[UUID]) -> CanMutateAggregate[UUID]:
    m = mapper()
    loaded = m.to_domain_event(m.to_stored_event(event))
    assert isinstance(loaded, CanMutateAggregate)
    return loaded


@pytest.mark.parametrize("through_store", [False, True], ids=["in memory", "through mapper"])
def test_replay_rebuilds_the_same_state(through_store: bool) -> None:
    case = open_case()
    history: list[CanMutateAggregate[UUID]] = list(case.collect_events())
    for step in [swarm_requested(), joined(EXPERT), insight_posted(), proposed(), accepted()]:
        step(case)
        history.extend(case.collect_events())
        assert _state(replayed(history, through_store)) == _state(case)
    resolved()(case)
    closed()(case)
    history.extend(case.collect_events())
    rebuilt = replayed(history, through_store)
    assert _state(rebuilt) == _state(case)
    assert rebuilt.version == case.version == len(history)


def test_replay_never_runs_todays_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    history = full_history()

    def refuse(*_: object) -> None:
        raise AssertionError("a rule ran during replay")

    monkeypatch.setattr(Case, "_check_allowed", refuse)
    rebuilt = aggregate_from_events(Case, history)
    assert rebuilt.owner_id == OTHER.id
    assert rebuilt.version == len(history)


def test_replay_needs_a_creation_event() -> None:
    with pytest.raises(TypeError):
        aggregate_from_events(Case, [])

"""``Agent`` profiles: registration, updates, who may update, value checks, ids."""

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import (
    AGENT_NAMESPACE,
    Actor,
    Agent,
    Availability,
    InvalidInput,
    NotAllowed,
    Role,
    agent_id_for,
    aggregate_from_events,
)


def register(**overrides: Any) -> Agent:
    fields: dict[str, Any] = {
        "name": "Alice",
        "skills": {"SAML": 4, " postgres ": 2},
        "interests": ["identity", " identity", ""],
        "timezone": "Europe/Paris",
        "availability": "available",
        "capacity": 3,
    }
    fields.update(overrides)
    agent_id = fields.pop("agent_id", uuid4())
    assert isinstance(agent_id, UUID)
    return Agent.register(agent_id, **fields)


def test_agent_id_is_a_stable_uuid5_of_the_subject() -> None:
    assert agent_id_for("alice@example.com") == agent_id_for("alice@example.com")
    assert agent_id_for("alice@example.com") != agent_id_for("bob@example.com")
    assert agent_id_for("alice").version == 5
    assert UUID("cea6c259-9f5e-4a5a-8fd6-e34ac90012ea") == AGENT_NAMESPACE


def test_register() -> None:
    agent_id = agent_id_for("alice")
    agent = register(agent_id=agent_id)
    (event,) = agent.collect_events()
    assert isinstance(event, Agent.Registered)
    assert event.originator_id == agent_id == agent.id
    assert event.name == "Alice"
    assert event.skills == {"saml": 4, "postgres": 2}
    assert event.interests == ["identity"]
    assert (event.timezone, event.availability, event.capacity) == ("Europe/Paris", "available", 3)
    assert type(event.availability) is str
    assert agent.availability is Availability.AVAILABLE
    assert dict(agent.skills) == {"saml": 4, "postgres": 2}
    assert agent.interests == ("identity",)


def test_register_defaults() -> None:
    agent = Agent.register(uuid4(), name="Bob")
    assert (dict(agent.skills), agent.interests) == ({}, ())
    assert (agent.timezone, agent.availability, agent.capacity) == ("UTC", "available", 3)


BAD_VALUES = [
    ("name", " "),
    ("skills", {"": 3}),
    ("skills", {"saml": 0}),
    ("skills", {"saml": 6}),
    ("skills", {"saml": True}),
    ("skills", {"saml": "4"}),
    ("timezone", "Mars/Olympus"),
    ("timezone", ""),
    ("timezone", "../etc/passwd"),
    ("availability", "asleep"),
    ("capacity", -1),
    ("capacity", 21),
    ("capacity", False),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_register_refuses_bad_values(field: str, value: object) -> None:
    agent_id = uuid4()
    with pytest.raises(InvalidInput) as raised:
        register(agent_id=agent_id, **{field: value})
    assert raised.value.field == field
    assert raised.value.offending_id == agent_id


@pytest.mark.parametrize("actor_role", ["self", "admin"])
def test_update_profile_replaces_only_given_fields(actor_role: str) -> None:
    agent = register()
    agent.collect_events()
    actor = Actor(agent.id, Role.AGENT) if actor_role == "self" else Actor(uuid4(), Role.ADMIN)
    agent.update_profile(actor, availability=Availability.AWAY, capacity=0, skills={"Okta": 5})
    (event,) = agent.collect_events()
    assert isinstance(event, Agent.ProfileUpdated)
    assert event.updated_by == actor.id
    assert event.name == "Alice"
    assert event.skills == {"okta": 5}
    assert event.interests == ["identity"]
    assert event.timezone == "Europe/Paris"
    assert (event.availability, event.capacity) == ("away", 0)
    assert agent.availability is Availability.AWAY


def test_update_profile_with_every_field() -> None:
    agent = register()
    agent.update_profile(
        Actor(agent.id, Role.AGENT),
        name=" Alice B ",
        skills={},
        interests=["billing"],
        timezone="UTC",
        availability="offline",
        capacity=20,
    )
    assert (agent.name, dict(agent.skills), agent.interests) == ("Alice B", {}, ("billing",))
    assert (agent.timezone, agent.availability, agent.capacity) == ("UTC", "offline", 20)


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.SERVICE])
def test_only_the_agent_or_an_admin_updates_a_profile(role: Role) -> None:
    agent = register()
    agent.collect_events()
    actor = Actor(uuid4(), role)
    with pytest.raises(NotAllowed) as raised:
        agent.update_profile(actor, capacity=1)
    assert (raised.value.actor_id, raised.value.offending_id) == (actor.id, agent.id)
    assert agent.collect_events() == []


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_update_refuses_bad_values(field: str, value: object) -> None:
    agent = register()
    agent.collect_events()
    with pytest.raises(InvalidInput):
        agent.update_profile(Actor(agent.id, Role.AGENT), **{field: value})  # type: ignore[arg-type]
    assert agent.collect_events() == []
    assert agent.version == 1


def test_replay_rebuilds_the_same_profile() -> None:
    agent = register()
    agent.update_profile(Actor(agent.id, Role.AGENT), capacity=5)
    events = agent.collect_events()
    rebuilt = aggregate_from_events(Agent, events)
    assert rebuilt == agent

"""`Envelope` computes its fields once; `sid` is `str` with a cache for UUIDs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import projections.envelope as envelope
from domain import Actor, Agent, Case, Role
from projections.envelope import Envelope, s, sid


class Tagged(uuid.UUID):
    def __str__(self) -> str:
        return "tagged"


@pytest.mark.parametrize("value", [uuid.uuid4(), Tagged(int=5), "text", 7, None])
def test_sid_is_str(value: Any) -> None:
    assert sid(value) == str(value)
    assert sid(value) == str(value)  # the cached answer too


def test_sid_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envelope, "_TEXTS", {})
    values = [uuid.uuid4() for _ in range(100_001)]
    assert [sid(v) for v in values] == [str(v) for v in values]
    assert len(envelope._TEXTS) <= 100_000
    assert s([values[0], {"k": values[1]}]) == [str(values[0]), {"k": str(values[1])}]


def test_envelope_fields_match_the_event() -> None:
    owner = Actor(uuid.uuid4(), Role.AGENT, "Olga")
    case = Case.open(owner, customer="ACME", subject="Down", description="500s")
    case.change_priority(owner, priority="urgent", reason="vip")
    agent = Agent.register(uuid.uuid4(), name="Ada", skills={"pg": 3})
    events = [*case.collect_events(), *agent.collect_events()]
    envs = [Envelope(n, e) for n, e in enumerate(events, 1)]
    assert [env.name for env in envs] == ["Opened", "PriorityChanged", "Agent.Registered"]
    for env, e in zip(envs, events, strict=True):
        assert env.key == str(e.originator_id)
        assert env.stream_id == e.originator_id
        assert env.version == e.originator_version
        assert env.at == e.timestamp.isoformat()
    assert envs[0] == Envelope(1, events[0])
    assert envs[0] != envs[1]
    assert hash(envs[0]) == hash(Envelope(1, events[0]))

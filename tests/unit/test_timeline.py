"""The timeline line reads an event's fields as `getattr` would, on every path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain import Actor, Case, Role
from projections.envelope import Envelope
from projections.timeline import _plain, timeline_entry


class PriorityChanged:  # an event whose "text" is a property (not in its __dict__)
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    @property
    def text(self) -> str:
        return "from the property"


class Reopened:  # an event that answers every attribute
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> str:
        return f"<{name}>"


def _fields() -> dict[str, Any]:
    return {
        "originator_id": uuid.uuid4(),
        "originator_version": 3,
        "timestamp": datetime(2026, 1, 2, tzinfo=UTC),
        "priority": "high",
    }


def test_domain_events_take_the_dict_path_with_the_same_line() -> None:
    owner = Actor(uuid.uuid4(), Role.AGENT, "Olga")
    case = Case.open(owner, customer="ACME", subject="Down", description="500s")
    case.change_priority(owner, priority="urgent", reason="vip")
    opened, changed = case.collect_events()
    assert _plain(type(opened))
    assert _plain(type(changed))
    line = timeline_entry(Envelope(2, changed))
    assert (line["text"], line["by"], line["type"]) == ("vip", str(owner.id), "PriorityChanged")
    assert timeline_entry(Envelope(1, opened))["text"] == "Down"


def test_properties_and_getattr_are_honoured() -> None:
    assert not _plain(PriorityChanged)
    assert not _plain(Reopened)
    assert timeline_entry(Envelope(1, PriorityChanged(**_fields())))["text"] == "from the property"
    line = timeline_entry(Envelope(1, Reopened(**_fields())))
    assert (line["text"], line["by"]) == ("<subject>", "<reopened_by>")

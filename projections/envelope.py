"""What a reducer receives: a decoded domain event with its global position.

Projections never import `app/`: the composition root decodes stored rows (with
`app.codec`) and hands the projector `Envelope`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

Op = dict[str, Any]
Doc = dict[str, Any]


class Recorded(Protocol):
    """The part of a stored row (the store's `RecordedEvent`) the projector reads."""

    @property
    def position(self) -> int: ...

    @property
    def originator_id(self) -> UUID: ...


@dataclass(frozen=True, slots=True)
class Envelope:
    """A domain event at global log `position`.

    `name` (the event's class name, "Agent."-qualified for agent events) and `at` (its
    timestamp in ISO 8601, "" if it has none) are computed once, on construction:
    reducers read them many times per event."""

    position: int
    event: Any  # a domain event (domain.case_events / domain.agent.Agent.*)
    name: str = field(init=False, compare=False)
    at: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        ts = getattr(self.event, "timestamp", None)
        object.__setattr__(self, "name", _event_name(type(self.event)))
        object.__setattr__(self, "at", ts.isoformat() if isinstance(ts, datetime) else "")

    @property
    def stream_id(self) -> UUID:
        oid: UUID = self.event.originator_id
        return oid

    @property
    def version(self) -> int:
        return int(self.event.originator_version)


_NAMES: dict[type, str] = {}


def _event_name(cls: type) -> str:
    """The event's class name, qualified by aggregate for agent events."""
    name = _NAMES.get(cls)
    if name is None:
        qual = cls.__qualname__
        name = f"Agent.{cls.__name__}" if qual.startswith("Agent.") else cls.__name__
        _NAMES[cls] = name
    return name


def s(value: Any) -> Any:
    """JSON-ready: UUIDs as str, lists element-wise."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [s(v) for v in value]
    if isinstance(value, dict):
        return {str(k): s(v) for k, v in value.items()}
    return value


def add(path: str, value: Any) -> Op:
    return {"op": "add", "path": path, "value": value}


def replace(path: str, value: Any) -> Op:
    return {"op": "replace", "path": path, "value": value}


def remove(path: str) -> Op:
    return {"op": "remove", "path": path}

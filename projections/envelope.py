"""What a reducer receives: a decoded domain event with its global position.

Projections never import `app/`: the composition root decodes stored rows (with
`app.store.codec`) and hands the projector `Envelope`s.
"""

from __future__ import annotations

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


class Envelope:
    """A domain event at global log `position` (treat as immutable).

    Computed once, on construction, because reducers read them many times per event:
    `name` (the event's class name, qualified for agent, SLA policy and article events:
    "Agent.Registered", "SlaPolicy.Changed", "Article.Drafted"), `at` (its
    timestamp in ISO 8601, "" if it has none), `key` (the stream id as text: the view
    key) and `version` (the stream version)."""

    __slots__ = ("at", "event", "key", "name", "position", "version")

    position: int
    event: Any  # a domain event (domain.case_events / domain.agent.Agent.*)
    name: str
    at: str
    key: str
    version: int

    def __init__(self, position: int, event: Any) -> None:
        self.position = position
        self.event = event
        cls = type(event)
        name = _NAMES.get(cls)
        self.name = name if name is not None else _event_name(cls)
        ts = getattr(event, "timestamp", None)
        self.at = ts.isoformat() if isinstance(ts, datetime) else ""
        self.key = sid(event.originator_id)
        self.version = int(event.originator_version)

    @property
    def stream_id(self) -> UUID:
        oid: UUID = self.event.originator_id
        return oid

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Envelope):
            return NotImplemented
        return (self.position, self.event) == (other.position, other.event)

    def __hash__(self) -> int:
        return hash((self.position, self.event))

    def __repr__(self) -> str:
        return f"Envelope(position={self.position!r}, event={self.event!r})"


_NAMES: dict[type, str] = {}


def _event_name(cls: type) -> str:
    """The event's class name, qualified by aggregate for agent, policy and article events."""
    name = _NAMES.get(cls)
    if name is None:
        qual = cls.__qualname__
        owner = qual.partition(".")[0]
        qualified = ("Agent", "SlaPolicy", "Article")
        name = f"{owner}.{cls.__name__}" if owner in qualified else cls.__name__
        _NAMES[cls] = name
    return name


_TEXTS: dict[int, str] = {}  # UUID.int -> str(UUID)


def sid(value: Any) -> str:
    """`str(value)`, cached for UUIDs: the log names the same cases and agents over and
    over, and `UUID.__str__` is pure Python (about ten times the cost of this lookup)."""
    if type(value) is not UUID:
        return str(value)
    number = value.int
    text = _TEXTS.get(number)
    if text is None:
        text = str(value)
        if len(_TEXTS) >= 100_000:  # bounded: ids are endless
            _TEXTS.clear()
        _TEXTS[number] = text
    return text


def s(value: Any) -> Any:
    """JSON-ready: UUIDs as str, lists element-wise."""
    if isinstance(value, UUID):
        return sid(value)
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

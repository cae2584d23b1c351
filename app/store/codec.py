"""Domain events to stored events and back, through eventsourcing's `Mapper`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

from app.store.errors import EventDecodeError
from app.store.types import RecordedEvent


def create_mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DecimalAsStr())
    return Mapper(transcoder=transcoder)


def decode(mapper: Mapper[UUID], row: RecordedEvent | StoredEvent) -> DomainEventProtocol[UUID]:
    """The domain event of a stored row, or `EventDecodeError` naming stream and position."""
    position = row.position if isinstance(row, RecordedEvent) else None
    stored = row.to_stored_event() if isinstance(row, RecordedEvent) else row
    try:
        return mapper.to_domain_event(stored)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise EventDecodeError(
            stored.originator_id, stored.originator_version, stored.topic, reason, position
        ) from exc


def event_name(topic: str) -> str:
    """`domain.case:Case.InsightPosted` -> `InsightPosted`."""
    return topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1]


def event_data(event: DomainEventProtocol[UUID]) -> dict[str, Any]:
    """An event's own fields (no stream id or version), JSON-ready."""
    return {
        k: _plain(v)
        for k, v in vars(event).items()
        if k not in {"originator_id", "originator_version"}
    }


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value

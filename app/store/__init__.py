"""The async event store (no FastAPI imports): see `base.EventStore` for its contract."""

from app.store.base import EventStore
from app.store.errors import (
    EventDecodeError,
    IdempotencyKeyReused,
    SchemaMissing,
    StoreError,
    StoreUnavailable,
    TrackingConflict,
    VersionConflict,
)
from app.store.factory import create_store
from app.store.types import (
    AppendRequest,
    AppendResult,
    Link,
    RecordedEvent,
    Redecide,
    request_hash,
)

__all__ = [
    "AppendRequest",
    "AppendResult",
    "EventDecodeError",
    "EventStore",
    "IdempotencyKeyReused",
    "Link",
    "RecordedEvent",
    "Redecide",
    "SchemaMissing",
    "StoreError",
    "StoreUnavailable",
    "TrackingConflict",
    "VersionConflict",
    "create_store",
    "request_hash",
]

"""Errors raised by the event store.

Every class subclasses the matching `eventsourcing.persistence` exception, so the
library's conformance suite and code written against its recorder interface see the
errors it expects, while our own callers catch the precise type:

    StoreError                      (PersistenceError)
    ├── VersionConflict             (IntegrityError)  expected version != stored version
    ├── IdempotencyKeyReused        (IntegrityError)  same key, different request
    ├── TrackingConflict            (IntegrityError)  tracking position not increasing
    ├── EventDecodeError            (DataError)       a stored row cannot become an event
    ├── SchemaMissing               (ProgrammingError) tables absent: run `swarmdesk migrate`
    └── StoreUnavailable            (OperationalError) the database cannot be reached
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)


class StoreError(PersistenceError):
    """Base class of the event store's own errors."""


class VersionConflict(StoreError, IntegrityError):
    """An append stated a version that is not the next one of its stream.

    Nothing of the request was appended. `current_version` is the stream's version
    at the moment of the check (0 for a stream with no events).
    """

    def __init__(self, originator_id: UUID, expected_version: int, current_version: int):
        self.originator_id = originator_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"version conflict on {originator_id}: expected version {expected_version}, "
            f"stored version is {current_version}"
        )


class IdempotencyKeyReused(StoreError, IntegrityError):
    """An idempotency key was sent again with a different request body."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for a different request")


class TrackingConflict(StoreError, IntegrityError):
    """A tracking position was not greater than the one already recorded."""

    def __init__(self, application_name: str, position: int, recorded: int | None):
        self.application_name = application_name
        self.position = position
        self.recorded = recorded
        super().__init__(
            f"tracking for {application_name!r} is at {recorded}; cannot record {position}"
        )


class EventDecodeError(StoreError, DataError):
    """A stored event could not be turned back into a domain event."""

    def __init__(
        self,
        originator_id: UUID | str,
        originator_version: int,
        topic: str,
        reason: str,
        position: int | None = None,
    ):
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.topic = topic
        self.position = position
        self.reason = reason
        where = f" at position {position}" if position is not None else ""
        super().__init__(
            f"cannot decode event {topic!r} of {originator_id} version "
            f"{originator_version}{where}: {reason}"
        )


class SchemaMissing(StoreError, ProgrammingError):
    """The event store's tables do not exist in this database."""

    def __init__(self, detail: str):
        super().__init__(
            f"the event store's tables are missing ({detail}); run `swarmdesk migrate`"
        )


class StoreUnavailable(StoreError, OperationalError):
    """The database could not be reached or dropped the connection."""

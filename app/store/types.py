"""Value types that cross the event store's boundary."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One row of the log: an event with its global position and unique id."""

    position: int
    event_id: UUID
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    def to_stored_event(self) -> StoredEvent:
        return StoredEvent(self.originator_id, self.originator_version, self.topic, self.state)


@dataclass(eq=False, slots=True)
class Link:
    """A request's place in a chain of this process's requests on one stream.

    `failed` is set once the request is known not to have appended its events (a
    conflict, an idempotent replay, a batch that failed or a caller that gave up), so
    a request decided on top of it (`AppendRequest.after`) is refused in turn."""

    failed: bool = False


class Redecide(Protocol):
    """A request's decision taken again inside its batch, under the write lock, when its
    stream moved (another process appended first) or what it was decided on top of was
    not appended: the caller's rules run once more on the stream's committed state, so a
    command the rules still allow never fails for having lost a race.

    `base()` is the version of the state it decides on (-1: it cannot decide again);
    called with the stream's events after that version (committed, then planned earlier
    in the same batch, in version order), it returns the new events (continuing the
    stream) or raises: the rule's error, or `VersionConflict` when it cannot decide."""

    def base(self) -> int: ...

    def __call__(self, missing: Sequence[RecordedEvent]) -> Sequence[StoredEvent]: ...


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """The events of one command, appended together or not at all.

    For every stream the request touches, its first event's version states the
    version the caller expects the stream to be at (first version - 1). With an
    `idempotency_key`, a second request with the same key and the same
    `request_hash` appends nothing and receives the first request's result.

    `after`: the `link` of the request this one was decided on top of (in this
    process, not yet known to be committed); this one commits only if that one did,
    even if the versions happen to line up (another process's event could fill the
    gap). The store marks `link.failed` when this request appends nothing.

    `redecide`: how to decide the request again in its batch instead of failing it with
    a conflict (see `Redecide`; one stream only; the PostgreSQL store reads the missing
    events under its lock, the others pass what the batch itself planned).
    """

    events: Sequence[StoredEvent]
    idempotency_key: str | None = None
    request_hash: str = ""
    link: Link | None = None
    after: Link | None = None
    redecide: Redecide | None = None

    def failed(self) -> None:
        """Mark the request as not appended (its successors will be refused)."""
        if self.link is not None:
            self.link.failed = True


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an acknowledged append committed (or, when `replayed`, had committed)."""

    positions: list[int]
    originator_id: UUID | None
    version: int
    replayed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: Decided again in its batch (`AppendRequest.redecide`): the events committed are
    #: not the ones the request carried.
    redecided: bool = False

    @property
    def position(self) -> int:
        return self.positions[-1] if self.positions else 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "positions": self.positions,
                "originator_id": str(self.originator_id) if self.originator_id else None,
                "version": self.version,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AppendResult:
        data = json.loads(text)
        oid = data.get("originator_id")
        return cls(
            positions=list(data["positions"]),
            originator_id=UUID(oid) if oid else None,
            version=int(data["version"]),
            replayed=True,
        )


def request_hash(*parts: object) -> str:
    """A stable digest of a request's meaningful content, for idempotency checks."""
    payload = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()

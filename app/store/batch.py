"""Planning one group commit: which requests win, which conflict, which replay.

Pure functions over what the appender read under the write lock, so the rules are
the same for every backend and testable without a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from app.store.errors import IdempotencyKeyReused, VersionConflict
from app.store.types import AppendRequest, AppendResult, RecordedEvent


@dataclass(frozen=True, slots=True)
class Row:
    position: int
    event_id: UUID
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    def recorded(self) -> RecordedEvent:
        """The row as readers of the log see it once committed."""
        return RecordedEvent(
            self.position,
            self.event_id,
            self.originator_id,
            self.originator_version,
            self.topic,
            self.state,
        )


@dataclass(frozen=True, slots=True)
class KeyRow:
    key: str
    request_hash: str
    result: str


@dataclass(slots=True)
class BatchPlan:
    rows: list[Row] = field(default_factory=list)
    keys: list[KeyRow] = field(default_factory=list)
    outcomes: list[AppendResult | Exception] = field(default_factory=list)

    @property
    def last_position(self) -> int:
        return self.rows[-1].position if self.rows else 0


def as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def originators(requests: list[AppendRequest]) -> list[UUID]:
    seen: dict[UUID, None] = {}
    for request in requests:
        for event in request.events:
            seen.setdefault(as_uuid(event.originator_id), None)
    return list(seen)


def idempotency_keys(requests: list[AppendRequest]) -> list[str]:
    return sorted({r.idempotency_key for r in requests if r.idempotency_key})


def check_versions(
    events: Sequence[StoredEvent], versions: dict[UUID, int]
) -> VersionConflict | None:
    """Each stream's events must continue it without gap or overlap."""
    expected_next: dict[UUID, int] = {}
    for event in events:
        oid = as_uuid(event.originator_id)
        want = expected_next.get(oid)
        if want is None:
            current = versions.get(oid)
            if current is None:
                # A new stream starts at 1 (ours) or 0 (eventsourcing's other convention).
                if event.originator_version not in (0, 1):
                    return VersionConflict(oid, event.originator_version - 1, 0)
            elif event.originator_version != current + 1:
                return VersionConflict(oid, event.originator_version - 1, current)
        elif event.originator_version != want:
            return VersionConflict(oid, want - 1, event.originator_version - 1)
        expected_next[oid] = event.originator_version + 1
    return None


def broken_chain(request: AppendRequest, versions: dict[UUID, int]) -> VersionConflict:
    """The conflict of a request decided on top of one that was not appended."""
    first = request.events[0]
    oid = as_uuid(first.originator_id)
    return VersionConflict(oid, first.originator_version - 1, versions.get(oid, 0))


def needs_missing(requests: list[AppendRequest], versions: dict[UUID, int]) -> dict[UUID, int]:
    """The streams whose committed events a `redecide` of this batch may need: for each,
    the lowest base version below the stored one (read them: `missing` of `plan_batch`)."""
    wanted: dict[UUID, int] = {}
    for request in requests:
        if request.redecide is None or not request.events:
            continue
        oid = as_uuid(request.events[0].originator_id)
        base = request.redecide.base()
        if 0 <= base < versions.get(oid, 0) and base < wanted.get(oid, base + 1):
            wanted[oid] = base
    return wanted


def _again(
    request: AppendRequest,
    versions: dict[UUID, int],
    missing: dict[UUID, list[RecordedEvent]],
    planned: list[Row],
) -> Sequence[StoredEvent] | None:
    """The request decided again (`AppendRequest.redecide`), or None when it cannot be."""
    again = request.redecide
    if again is None or not request.events:
        return None
    oid = as_uuid(request.events[0].originator_id)
    if any(as_uuid(e.originator_id) != oid for e in request.events):
        return None
    base = again.base()
    if base < 0:
        return None
    seen = [e for e in missing.get(oid, ()) if e.originator_version > base]
    seen += [
        r.recorded() for r in planned if r.originator_id == oid and r.originator_version > base
    ]
    if (seen[-1].originator_version if seen else base) != versions.get(oid, 0):
        return None  # the events between its state and the stream's end were not read
    return again(seen)


def plan_batch(
    requests: list[AppendRequest],
    max_position: int,
    versions: dict[UUID, int],
    stored_keys: dict[str, tuple[str, str]],
    missing: dict[UUID, list[RecordedEvent]] | None = None,
) -> BatchPlan:
    """Decide every request of a batch in order; a conflict fails only its own request
    (and the requests chained after it: `AppendRequest.after`), unless the request can
    be decided again (`AppendRequest.redecide`, given the stream's events in `missing`
    and those planned before it): then its new events are appended in its place.

    `versions` maps each stream to its stored version and `stored_keys` maps each
    idempotency key already recorded to `(request_hash, result_json)`; both are
    updated as the batch's own requests are accepted. A request that appends nothing
    has its `link` marked failed (its successors in this or a later batch see it).
    """
    plan = BatchPlan()
    position = max_position
    for request in requests:
        key = request.idempotency_key
        if key is not None and key in stored_keys:
            request.failed()  # replayed: its events (decided again) were not appended
            stored_hash, stored_result = stored_keys[key]
            if stored_hash != request.request_hash:
                plan.outcomes.append(IdempotencyKeyReused(key))
            else:
                plan.outcomes.append(AppendResult.from_json(stored_result))
            continue
        events = request.events
        conflict = check_versions(events, versions)
        if conflict is None and request.after is not None and request.after.failed:
            conflict = broken_chain(request, versions)
        redecided = False
        if conflict is not None and request.redecide is not None:
            try:
                again = _again(request, versions, missing or {}, plan.rows)
            except Exception as error:  # the rules refuse on the newer state
                request.failed()
                plan.outcomes.append(error)
                continue
            if again is not None:
                events, redecided = again, True
                conflict = check_versions(events, versions)
        if conflict is not None:
            request.failed()
            plan.outcomes.append(conflict)
            continue
        positions: list[int] = []
        for event in events:
            position += 1
            oid = as_uuid(event.originator_id)
            versions[oid] = event.originator_version
            plan.rows.append(
                Row(position, uuid.uuid4(), oid, event.originator_version, event.topic, event.state)
            )
            positions.append(position)
        last = events[-1] if events else None
        result = AppendResult(
            positions=positions,
            originator_id=as_uuid(last.originator_id) if last else None,
            version=last.originator_version if last else 0,
            redecided=redecided,
        )
        if key is not None:
            encoded = result.to_json()
            stored_keys[key] = (request.request_hash, encoded)
            plan.keys.append(KeyRow(key, request.request_hash, encoded))
        plan.outcomes.append(result)
    return plan

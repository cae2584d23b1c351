"""Planning one group commit: which requests win, which conflict, which replay.

Pure functions over what the appender read under the write lock, so the rules are
the same for every backend and testable without a database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from uuid import UUID

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


def check_versions(request: AppendRequest, versions: dict[UUID, int]) -> VersionConflict | None:
    """Each stream's events must continue it without gap or overlap."""
    expected_next: dict[UUID, int] = {}
    for event in request.events:
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


def plan_batch(
    requests: list[AppendRequest],
    max_position: int,
    versions: dict[UUID, int],
    stored_keys: dict[str, tuple[str, str]],
) -> BatchPlan:
    """Decide every request of a batch in order; a conflict fails only its own request
    (and the requests chained after it: `AppendRequest.after`).

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
        conflict = check_versions(request, versions)
        if conflict is None and request.after is not None and request.after.failed:
            conflict = broken_chain(request, versions)
        if conflict is not None:
            request.failed()
            plan.outcomes.append(conflict)
            continue
        positions: list[int] = []
        for event in request.events:
            position += 1
            oid = as_uuid(event.originator_id)
            versions[oid] = event.originator_version
            plan.rows.append(
                Row(position, uuid.uuid4(), oid, event.originator_version, event.topic, event.state)
            )
            positions.append(position)
        last = request.events[-1] if request.events else None
        result = AppendResult(
            positions=positions,
            originator_id=as_uuid(last.originator_id) if last else None,
            version=last.originator_version if last else 0,
        )
        if key is not None:
            encoded = result.to_json()
            stored_keys[key] = (request.request_hash, encoded)
            plan.keys.append(KeyRow(key, request.request_hash, encoded))
        plan.outcomes.append(result)
    return plan

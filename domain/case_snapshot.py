"""A case's state as plain data, and back: what a snapshot stores.

A snapshot is a cache of what replaying a case's events gives (deleting one changes
nothing but the cost of loading): `snapshot_of(case)` names every attribute `Case`'s
event methods assign (`domain.case_state.CaseState`) with JSON types, but for one:
`elements`, the packed element index (`domain.case_elements`), is `bytes`, which the
store keeps as they are (`app.service.repository.dump_case`). `case_from_snapshot`
rebuilds an equal `Case` without running any event or rule, at a cost that does not
grow with the case's history: the element ids, the one part of the state that does,
come back packed, without looking at a single element.

Bump `SCHEMA` whenever `CaseState` gains, loses or changes an attribute, and upcast the
schema before it (`_UPCASTERS`) when that can be done exactly; a snapshot of a schema
with no upcaster, or bad data, is refused (`ValueError`), so the caller replays instead.
`copy_of(case)` is the same state as an independent `Case`, without the round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.case import Case
from domain.case_elements import PROPOSAL_KIND, ElementIndex, ElementKind
from domain.case_state import Proposal
from domain.values import CaseStatus, Channel, Priority, ProposalStatus

__all__ = ["SCHEMA", "case_from_snapshot", "copy_of", "snapshot_of"]

SCHEMA = 3  # 2: invitation_expiry; 3: elements packed, open proposals, no insight authors


def snapshot_of(case: Case) -> dict[str, Any]:
    """The case's state (no pending events may be held) as JSON-compatible data."""
    if case.pending_events:
        raise ValueError("a case with pending events has no committed state to snapshot")
    c: Any = case
    return {
        "schema": SCHEMA,
        "id": str(case.id),
        "version": case.version,
        "created_on": case.created_on.isoformat(),
        "modified_on": case.modified_on.isoformat(),
        "owner_id": str(c._owner_id),
        "owner_name": c._owner_name,
        "customer": c._customer,
        "customer_contact": c._customer_contact,
        "subject": c._subject,
        "description": c._description,
        "product_area": c._product_area,
        "priority": c._priority.value,
        "channel": c._channel.value,
        "status": c._status.value,
        "participants": {str(k): v for k, v in c._participants.items()},
        "pending_invitations": {str(k): str(v) for k, v in c._pending_invitations.items()},
        "invitation_expiry": {str(k): v for k, v in c._invitation_expiry.items()},
        "open_swarm_requests": [str(r) for r in c._open_swarm_requests],
        "ever_swarmed": c._ever_swarmed,
        "open_proposals": [
            [str(p.proposal_id), str(p.author_id)] for p in c._open_proposals.values()
        ],
        "accepted_proposal_id": _opt(c._accepted_proposal_id),
        "acknowledged": {str(k): v for k, v in c._acknowledged.items()},
        "elements": c._elements.pack(),
        "resolution_summary": c._resolution_summary,
    }


def case_from_snapshot(data: dict[str, Any]) -> Case:
    """The `Case` a snapshot describes (of `SCHEMA`, or upcast to it); `ValueError` for
    a schema it cannot read or bad data."""
    schema = data.get("schema")
    try:
        while schema != SCHEMA and schema in _UPCASTERS:
            data = _UPCASTERS[schema](data)
            schema = data.get("schema")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"unreadable case snapshot of schema {schema!r}: {exc}") from exc
    if schema != SCHEMA:
        raise ValueError(f"snapshot schema {schema!r} is not {SCHEMA}")
    try:
        case: Any = object.__new__(Case)
        case.__dict__.update(
            _id=UUID(data["id"]),
            _version=int(data["version"]),
            _created_on=datetime.fromisoformat(data["created_on"]),
            _modified_on=datetime.fromisoformat(data["modified_on"]),
            _pending_events=[],
            _owner_id=UUID(data["owner_id"]),
            _owner_name=data["owner_name"],
            _customer=data["customer"],
            _customer_contact=data["customer_contact"],
            _subject=data["subject"],
            _description=data["description"],
            _product_area=data["product_area"],
            _priority=Priority(data["priority"]),
            _channel=Channel(data["channel"]),
            _status=CaseStatus(data["status"]),
            _participants={UUID(k): v for k, v in data["participants"].items()},
            _pending_invitations={UUID(k): UUID(v) for k, v in data["pending_invitations"].items()},
            _invitation_expiry={UUID(k): str(v) for k, v in data["invitation_expiry"].items()},
            _open_swarm_requests=[UUID(r) for r in data["open_swarm_requests"]],
            _ever_swarmed=bool(data["ever_swarmed"]),
            _open_proposals={
                UUID(p): Proposal(UUID(p), UUID(a), ProposalStatus.OPEN)
                for p, a in data["open_proposals"]
            },
            _accepted_proposal_id=_uuid(data["accepted_proposal_id"]),
            _acknowledged={UUID(k): int(v) for k, v in data["acknowledged"].items()},
            _elements=ElementIndex.unpack(_packed(data["elements"])),
            _resolution_summary=data["resolution_summary"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"unreadable case snapshot: {exc}") from exc
    restored: Case = case
    return restored


def copy_of(case: Case) -> Case:
    """An independent `Case` in the same state (no pending events may be held): what
    `case_from_snapshot(snapshot_of(case))` gives, at the cost of the containers alone."""
    if case.pending_events:
        raise ValueError("a case with pending events has no committed state to copy")
    copy: Any = object.__new__(Case)
    copy.__dict__.update({name: _copied(value) for name, value in case.__dict__.items()})
    restored: Case = copy
    return restored


def _copied(value: Any) -> Any:
    """A copy of one attribute's container (its items are immutable), else the value."""
    if isinstance(value, ElementIndex):
        return value.copy()
    if isinstance(value, dict | list | set):
        return type(value)(value)
    return value


def _from_schema_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 -> 3: element ids (hex) with the insights and proposals among them
    packed into one index; open proposals only; the expiry of pending invitations only."""
    elements = ElementIndex()
    for number in data["element_ids"]:
        elements.add(UUID(int=int(number, 16)), ElementKind.OTHER)
    for insight_id in data["insights"]:
        elements.add(UUID(insight_id), ElementKind.INSIGHT)
    open_proposals = []
    for proposal_id, author_id, status in data["proposals"]:
        elements.add(UUID(proposal_id), PROPOSAL_KIND[ProposalStatus(status)])
        if status == ProposalStatus.OPEN.value:
            open_proposals.append([proposal_id, author_id])
    pending = set(data["pending_invitations"].values())
    dropped = {"element_ids", "insights", "proposals"}
    return {
        **{key: value for key, value in data.items() if key not in dropped},
        "schema": 3,
        "elements": elements.pack(),
        "open_proposals": open_proposals,
        "invitation_expiry": {k: v for k, v in data["invitation_expiry"].items() if k in pending},
    }


#: schema -> the function that reads it into the next one
_UPCASTERS: dict[object, Callable[[dict[str, Any]], dict[str, Any]]] = {2: _from_schema_2}


def _packed(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"the packed elements are bytes, not {type(value).__name__}")
    return value


def _opt(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)

"""A case's state as plain data, and back: what a snapshot stores.

A snapshot is a cache of what replaying a case's events gives (deleting one changes
nothing but the cost of loading): `snapshot_of(case)` names every attribute `Case`'s
event methods assign (`domain.case_state.CaseState`) with JSON types only, and
`case_from_snapshot` rebuilds an equal `Case` without running any event or rule. A
snapshot of another `SCHEMA` is refused (`ValueError`), so the caller replays instead:
bump `SCHEMA` whenever `CaseState` gains, loses or changes an attribute.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.case import Case
from domain.case_state import Proposal
from domain.values import CaseStatus, Channel, Priority, ProposalStatus

SCHEMA = 2  # 2: invitation_expiry


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
        "insights": {str(k): str(v) for k, v in c._insights.items()},
        "proposals": [
            [str(p.proposal_id), str(p.author_id), p.status.value] for p in c._proposals.values()
        ],
        "accepted_proposal_id": _opt(c._accepted_proposal_id),
        "acknowledged": {str(k): v for k, v in c._acknowledged.items()},
        "element_ids": [format(i, "x") for i in c._element_ids],
        "resolution_summary": c._resolution_summary,
    }


def case_from_snapshot(data: dict[str, Any]) -> Case:
    """The `Case` a snapshot describes; `ValueError` for another schema or bad data."""
    if data.get("schema") != SCHEMA:
        raise ValueError(f"snapshot schema {data.get('schema')!r} is not {SCHEMA}")
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
            _insights={UUID(k): UUID(v) for k, v in data["insights"].items()},
            _proposals={
                UUID(p): Proposal(UUID(p), UUID(a), ProposalStatus(s))
                for p, a, s in data["proposals"]
            },
            _accepted_proposal_id=_uuid(data["accepted_proposal_id"]),
            _acknowledged={UUID(k): int(v) for k, v in data["acknowledged"].items()},
            _element_ids={int(i, 16) for i in data["element_ids"]},
            _resolution_summary=data["resolution_summary"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"unreadable case snapshot: {exc}") from exc
    restored: Case = case
    return restored


def _opt(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)

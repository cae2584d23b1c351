"""Value vocabularies of the domain and the checks that turn raw input into them.

Enums are ``StrEnum`` so a member *is* its string value. Events never hold enum members:
they store ``member.value`` (plain ``str``), which keeps the stored schema JSON-simple and
stable even if a Python enum is later renamed. Commands accept a member or its string; an
unknown string raises ``InvalidInput``.
"""

from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from domain.errors import InvalidInput

__all__ = [
    "Availability",
    "CaseStatus",
    "Channel",
    "ContextKind",
    "InsightKind",
    "JoinVia",
    "MessageDirection",
    "Priority",
    "ProposalStatus",
    "Urgency",
    "parse_enum",
    "require_text",
    "unique_texts",
    "unique_uuids",
]


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    WEB = "web"
    OTHER = "other"


class ContextKind(StrEnum):
    """Structured context the briefing is built from."""

    SYMPTOM = "symptom"
    ENVIRONMENT = "environment"
    STEP_TRIED = "step_tried"
    HYPOTHESIS = "hypothesis"


class MessageDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InsightKind(StrEnum):
    FINDING = "finding"
    QUESTION = "question"
    ANSWER = "answer"
    HYPOTHESIS = "hypothesis"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ProposalStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class JoinVia(StrEnum):
    """How an expert came to join (the ``via`` field of ``ExpertJoined``)."""

    INVITATION = "invitation"
    SWARM_REQUEST = "swarm_request"


class Availability(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"


E = TypeVar("E", bound=StrEnum)


def parse_enum(
    enum_cls: type[E],
    value: E | str,
    field: str,
    *,
    case_id: UUID | None = None,
    actor_id: UUID | None = None,
    offending_id: UUID | None = None,
) -> E:
    """The member of ``enum_cls`` for ``value`` (a member or its string value)."""
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)
        raise InvalidInput(
            field,
            f"{value!r} is not one of: {allowed}",
            case_id=case_id,
            actor_id=actor_id,
            offending_id=offending_id,
        ) from None


def require_text(
    value: str,
    field: str,
    *,
    case_id: UUID | None = None,
    actor_id: UUID | None = None,
    offending_id: UUID | None = None,
) -> str:
    """``value`` stripped; raises ``InvalidInput`` if nothing is left."""
    text = value.strip()
    if not text:
        raise InvalidInput(
            field,
            "must not be empty",
            case_id=case_id,
            actor_id=actor_id,
            offending_id=offending_id,
        )
    return text


def unique_uuids(values: Iterable[UUID]) -> list[UUID]:
    """Drop repeated ids, keeping first-seen order."""
    return list(dict.fromkeys(values))


def unique_texts(values: Iterable[str]) -> list[str]:
    """Strip, drop empties and repeats, keeping first-seen order."""
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))

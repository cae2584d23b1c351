"""Typed domain errors: one small hierarchy that carries ids.

The tree (``code`` in brackets; the app maps codes to HTTP / WebSocket status in one table)::

    DomainError [domain_error]              base; never raised directly
    ├── NotAllowed [not_allowed]            this actor may not do this (role, ownership,
    │                                       participation, invitation rules)
    ├── InvalidTransition [invalid_transition]
    │                                       the state of the case (or of one of its parts)
    │                                       forbids it, whoever asks: case closed/resolved,
    │                                       proposal already decided, already joined ...
    ├── NotFoundInCase [not_found_in_case]  an id inside the case (insight, proposal,
    │                                       invitation) does not exist; carries the id
    └── InvalidInput [invalid_input]        a malformed value: unknown enum value, empty
                                            required text, version out of range, reused id

Every error carries ``case_id`` (the case concerned; ``None`` for ``Agent`` errors, whose
agent id is the ``offending_id``), ``actor_id`` (who asked) and ``offending_id`` (the id at
fault, when there is one), and a message that names them. ``details()`` gives a JSON-simple
dict for problem bodies. Class names are the domain's vocabulary, hence no ``Error`` suffix.
"""

from typing import ClassVar
from uuid import UUID

__all__ = [
    "DomainError",
    "InvalidInput",
    "InvalidTransition",
    "NotAllowed",
    "NotFoundInCase",
]


class DomainError(Exception):
    """Base of every rule violation raised by the domain model."""

    code: ClassVar[str] = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        case_id: UUID | None = None,
        actor_id: UUID | None = None,
        offending_id: UUID | None = None,
    ) -> None:
        self.message = message
        self.case_id = case_id
        self.actor_id = actor_id
        self.offending_id = offending_id
        super().__init__(self._full_message())

    def _full_message(self) -> str:
        ids = [
            f"{name}={value}"
            for name, value in (
                ("case", self.case_id),
                ("actor", self.actor_id),
                ("offending", self.offending_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(ids)})" if ids else self.message

    def details(self) -> dict[str, str | None]:
        """JSON-simple fields for an error body (ids as strings)."""
        return {
            "code": self.code,
            "message": self.message,
            "case_id": str(self.case_id) if self.case_id else None,
            "actor_id": str(self.actor_id) if self.actor_id else None,
            "offending_id": str(self.offending_id) if self.offending_id else None,
        }


class NotAllowed(DomainError):
    """The actor's role or relation to the case does not permit the command."""

    code: ClassVar[str] = "not_allowed"


class InvalidTransition(DomainError):
    """The current state forbids the command, whoever asks."""

    code: ClassVar[str] = "invalid_transition"


class NotFoundInCase(DomainError):
    """An id referring to something inside the case does not exist there."""

    code: ClassVar[str] = "not_found_in_case"

    def __init__(
        self,
        what: str,
        missing_id: UUID,
        *,
        case_id: UUID | None = None,
        actor_id: UUID | None = None,
    ) -> None:
        self.what = what
        self.missing_id = missing_id
        super().__init__(
            f"no {what} {missing_id} in this case",
            case_id=case_id,
            actor_id=actor_id,
            offending_id=missing_id,
        )


class InvalidInput(DomainError):
    """A value is malformed or out of range; carries the field name."""

    code: ClassVar[str] = "invalid_input"

    def __init__(
        self,
        field: str,
        message: str,
        *,
        case_id: UUID | None = None,
        actor_id: UUID | None = None,
        offending_id: UUID | None = None,
    ) -> None:
        self.field = field
        super().__init__(
            f"{field}: {message}",
            case_id=case_id,
            actor_id=actor_id,
            offending_id=offending_id,
        )

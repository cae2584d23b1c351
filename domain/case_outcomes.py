"""The outcome commands of a ``Case`` (a mixin ``Case`` extends): the owner says the case
waits on the customer, satisfaction is recorded, and the SLA engine records its facts.

Rules:
  - ``await_customer``: the owner, on an open case (``NotAllowed``, ``InvalidTransition``).
    Recorded even when nothing changes (an intent, like a profile PUT).
  - ``record_satisfaction``: the owner or a supervisor/admin (an integration acts with an
    admin token), on an open or resolved case (a closed case takes nothing but
    ``Reopened``); score an int 1..5 (``InvalidInput``).
  - ``record_sla``: only an admin (the SLA engine's own principal), in any status: SLA
    facts are records of what already happened (a clock that ran out while the case was
    being closed still ran out), never actions on the case. The fact's event name must be
    one of ``SLA_EVENTS``.
The events change no state the rules read (``domain.case_snapshot`` is unchanged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.actors import Actor
from domain.errors import InvalidInput, InvalidTransition, NotAllowed
from domain.values import CaseStatus

__all__ = ["SLA_EVENTS", "CaseOutcomes", "SlaFact"]

SLA_EVENTS = frozenset(
    {
        "SlaClockStarted",
        "SlaPaused",
        "SlaResumed",
        "SlaWarned",
        "SlaBreached",
        "SlaMet",
        "SwarmUrgencyRaised",
    }
)


class SlaFact:
    """One event the SLA engine records: its class name and fields (``domain.sla_clock``)."""

    __slots__ = ("fields", "name")

    def __init__(self, name: str, **fields: Any) -> None:
        self.name = name
        self.fields = fields

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlaFact) and (self.name, self.fields) == (
            other.name,
            other.fields,
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.fields.items()))))

    def __repr__(self) -> str:
        return f"SlaFact({self.name!r}, {self.fields!r})"


class CaseOutcomes:
    """Outcome commands; ``Case`` provides the state and ``trigger_event``."""

    if TYPE_CHECKING:
        _owner_id: UUID
        _status: CaseStatus

        @property
        def id(self) -> UUID: ...

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def await_customer(self, actor: Actor, *, awaiting: bool, note: str = "") -> None:
        if actor.id != self._owner_id:
            raise NotAllowed(
                "only the owner says the case waits on the customer",
                case_id=self.id,
                actor_id=actor.id,
            )
        if self._status is not CaseStatus.OPEN:
            raise InvalidTransition(
                f"the case is {self._status.value}", case_id=self.id, actor_id=actor.id
            )
        self.trigger_event(
            type(self).AwaitingCustomer,  # type: ignore[attr-defined]
            set_by=actor.id,
            awaiting=bool(awaiting),
            note=note.strip(),
        )

    def record_satisfaction(
        self, actor: Actor, *, score: int, comment: str = "", source: str = "owner"
    ) -> None:
        if actor.id != self._owner_id and not actor.is_supervisor:
            raise NotAllowed(
                "only the owner or a supervisor records satisfaction",
                case_id=self.id,
                actor_id=actor.id,
            )
        if self._status is CaseStatus.CLOSED:
            raise InvalidTransition("the case is closed", case_id=self.id, actor_id=actor.id)
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput(
                "score",
                f"{score!r} is not a whole number from 1 to 5",
                case_id=self.id,
                actor_id=actor.id,
            )
        self.trigger_event(
            type(self).SatisfactionRecorded,  # type: ignore[attr-defined]
            recorded_by=actor.id,
            score=score,
            comment=comment.strip(),
            source=source.strip() or "owner",
        )

    def record_sla(self, actor: Actor, fact: SlaFact) -> None:
        if not actor.is_admin:
            raise NotAllowed(
                "only the SLA engine records SLA facts", case_id=self.id, actor_id=actor.id
            )
        if fact.name not in SLA_EVENTS:
            raise InvalidInput("fact", f"{fact.name!r} is not an SLA event", case_id=self.id)
        self.trigger_event(getattr(type(self), fact.name), **fact.fields)

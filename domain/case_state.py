"""What a ``Case`` knows, and read-only accessors for the app.

``CaseState`` declares the private attributes that ``Case``'s ``@event`` methods assign
(``domain.case``) and exposes them as properties that callers cannot mutate (mappings are
``MappingProxyType`` views, sets are frozen). It holds no rules and triggers no events.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from uuid import UUID

from domain.values import CaseStatus, Channel, Priority, ProposalStatus

__all__ = ["CaseState", "Proposal"]


@dataclass(frozen=True)
class Proposal:
    """State of one resolution proposal inside a case."""

    proposal_id: UUID
    author_id: UUID
    status: ProposalStatus


class CaseState:
    """Attributes assigned by ``Case``'s event methods, exposed read-only."""

    # Assigned when the case is opened (``Case.__init__``) and by later events.
    _owner_id: UUID
    _owner_name: str
    _customer: str
    _customer_contact: str
    _subject: str
    _description: str
    _product_area: str
    _priority: Priority
    _channel: Channel
    _status: CaseStatus
    _participants: dict[UUID, str]  # owner and joined experts -> display name
    _pending_invitations: dict[UUID, UUID]  # expert id -> invitation id
    _invitation_expiry: dict[UUID, str]  # invitation id -> expires_at (ISO, UTC), if any
    _open_swarm_requests: list[UUID]
    _ever_swarmed: bool
    _insights: dict[UUID, UUID]  # insight id -> author id
    _proposals: dict[UUID, Proposal]
    _accepted_proposal_id: UUID | None
    _acknowledged: dict[UUID, int]  # participant -> highest acknowledged version
    # every id of an element added to the case, as its 128-bit integer: ints are not
    # tracked by the garbage collector, UUIDs are (a long case holds thousands)
    _element_ids: set[int]
    _resolution_summary: str

    if TYPE_CHECKING:  # provided by eventsourcing's Aggregate, which Case also extends

        @property
        def id(self) -> UUID: ...

        version: int

    # --- read-only state -------------------------------------------------------------

    @property
    def owner_id(self) -> UUID:
        return self._owner_id

    @property
    def owner_name(self) -> str:
        return self._owner_name

    @property
    def customer(self) -> str:
        return self._customer

    @property
    def customer_contact(self) -> str:
        return self._customer_contact

    @property
    def subject(self) -> str:
        return self._subject

    @property
    def description(self) -> str:
        return self._description

    @property
    def product_area(self) -> str:
        return self._product_area

    @property
    def priority(self) -> Priority:
        return self._priority

    @property
    def channel(self) -> Channel:
        return self._channel

    @property
    def status(self) -> CaseStatus:
        return self._status

    @property
    def participants(self) -> Mapping[UUID, str]:
        """Owner and joined experts, id -> display name."""
        return MappingProxyType(self._participants)

    @property
    def pending_invitations(self) -> Mapping[UUID, UUID]:
        """Expert id -> id of the invitation still awaiting an answer."""
        return MappingProxyType(self._pending_invitations)

    @property
    def invitation_expiry(self) -> Mapping[UUID, str]:
        """Invitation id -> its ``expires_at`` (ISO 8601, UTC), for those that expire."""
        return MappingProxyType(self._invitation_expiry)

    @property
    def open_swarm_requests(self) -> tuple[UUID, ...]:
        return tuple(self._open_swarm_requests)

    @property
    def swarm_open(self) -> bool:
        """True while at least one swarm request is open."""
        return bool(self._open_swarm_requests)

    @property
    def ever_swarmed(self) -> bool:
        return self._ever_swarmed

    @property
    def insights(self) -> frozenset[UUID]:
        return frozenset(self._insights)

    @property
    def proposals(self) -> Mapping[UUID, Proposal]:
        return MappingProxyType(self._proposals)

    @property
    def accepted_proposal_id(self) -> UUID | None:
        return self._accepted_proposal_id

    @property
    def acknowledged_versions(self) -> Mapping[UUID, int]:
        """Participant id -> highest case version they acknowledged."""
        return MappingProxyType(self._acknowledged)

    @property
    def resolution_summary(self) -> str:
        return self._resolution_summary

    def is_participant(self, agent_id: UUID) -> bool:
        return agent_id in self._participants

    # --- state helpers for the @event methods (assign state, check nothing) ----------

    def _set_proposal_status(self, proposal_id: UUID, status: ProposalStatus) -> None:
        proposal = self._proposals[proposal_id]
        self._proposals[proposal_id] = Proposal(proposal_id, proposal.author_id, status)

    def _end_swarming(self) -> None:
        """Resolved and Closed close swarm requests and withdraw pending invitations."""
        self._open_swarm_requests.clear()
        self._pending_invitations.clear()
        self._invitation_expiry.clear()

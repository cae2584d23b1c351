"""What a ``Case`` knows, and read-only accessors for the app.

``CaseState`` declares the private attributes that ``Case``'s ``@event`` methods assign
(``domain.case``) and exposes them as properties that callers cannot mutate (mappings are
``MappingProxyType`` views, sets are frozen). It holds no rules and triggers no events.

The state is what the rules need to decide, and no more, so that it grows with the
people on a case, not with its history: element ids live in one compact index
(``domain.case_elements``: no insight authors, no decided proposals' details), only open
proposals keep their author, and an invitation's expiry is kept while it is pending.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from uuid import UUID

from domain.case_elements import PROPOSAL_KIND, PROPOSAL_STATUS, ElementIndex, ElementKind
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
    # pending invitation id -> expires_at (ISO, UTC), for those that expire
    _invitation_expiry: dict[UUID, str]
    _open_swarm_requests: list[UUID]
    _ever_swarmed: bool
    _open_proposals: dict[UUID, Proposal]
    _accepted_proposal_id: UUID | None
    _acknowledged: dict[UUID, int]  # participant -> highest acknowledged version
    # every element id of the case and its kind (insight, proposal and its status, other)
    _elements: ElementIndex
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
        """Every insight's id (reads the whole index: for tools and tests)."""
        return frozenset(self._elements.ids(ElementKind.INSIGHT))

    def has_insight(self, insight_id: UUID) -> bool:
        return self._elements.kind(insight_id) is ElementKind.INSIGHT

    @property
    def open_proposals(self) -> Mapping[UUID, Proposal]:
        """The proposals awaiting the owner's decision."""
        return MappingProxyType(self._open_proposals)

    def proposal_status(self, proposal_id: UUID) -> ProposalStatus | None:
        """The status of a proposal of this case, None if it has no such proposal."""
        return PROPOSAL_STATUS.get(self._elements.kind(proposal_id))

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

    def _decide_proposal(self, proposal_id: UUID, status: ProposalStatus) -> None:
        self._open_proposals.pop(proposal_id, None)
        self._elements.add(proposal_id, PROPOSAL_KIND[status])

    def _withdraw_invitation(self, expert_id: UUID) -> None:
        """The expert's invitation, if pending, is no longer (its expiry goes with it)."""
        invitation_id = self._pending_invitations.pop(expert_id, None)
        if invitation_id is not None:
            self._invitation_expiry.pop(invitation_id, None)

    def _end_swarming(self) -> None:
        """Resolved and Closed close swarm requests and withdraw pending invitations."""
        self._open_swarm_requests.clear()
        self._pending_invitations.clear()
        self._invitation_expiry.clear()

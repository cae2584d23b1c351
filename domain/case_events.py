"""The events of a ``Case``: a permanent, public, JSON-simple schema.

``Case`` (``domain.case``) takes each class below as a nested event class, so stored topics
read ``domain.case:Case.<Name>``; those stored classes subclass the ones here, so
``isinstance(event, case_events.ContextAdded)`` works on events loaded from the store.

Field types are limited to ``str``, ``int``, ``bool``, ``UUID``, ``UUID | None``,
``list[str]`` and ``list[UUID]`` (plus the base ``originator_id``, ``originator_version``,
``timestamp``). Enum values are stored as their plain ``str`` value. ``None`` is stored as
JSON ``null`` and comes back as ``None``; the round trip of every class through
eventsourcing's ``Mapper`` with ``JSONTranscoder`` (``UUIDAsHex``, ``DatetimeAsISO``) is
tested.

Versioning: never change a class in place. To change one, raise its ``class_version`` and
add a static upcaster for each step, which edits the stored state dict before the event is
built, e.g.::

    class PriorityChanged(Aggregate.Event):
        class_version = 2
        ...
        new_field: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["new_field"] = ""

The ``Mapper`` stores ``class_version`` when it is above 1 and runs ``upcast_vN_vN+1``
until the stored state reaches the current version (tested with a temporary v2).
"""

from uuid import UUID

from eventsourcing.domain import Aggregate

__all__ = [
    "BriefingAcknowledged",
    "Closed",
    "ContextAdded",
    "CustomerMessageLogged",
    "ExpertInvited",
    "ExpertJoined",
    "ExpertLeft",
    "InsightPosted",
    "InvitationDeclined",
    "InvitationExpired",
    "Opened",
    "OwnershipTransferred",
    "PriorityChanged",
    "ProposalAccepted",
    "ProposalRejected",
    "Reopened",
    "ResolutionProposed",
    "Resolved",
    "SolutionReused",
    "SwarmRequested",
]


class Opened(Aggregate.Created):
    """The case is taken; the taker is its owner (concierge)."""

    class_version = 1
    owner_id: UUID
    owner_name: str
    customer: str
    customer_contact: str
    subject: str
    description: str
    product_area: str
    priority: str  # Priority value
    channel: str  # Channel value


class ContextAdded(Aggregate.Event):
    """Structured context (what the briefing is built from)."""

    class_version = 1
    context_id: UUID
    author_id: UUID
    kind: str  # ContextKind value
    text: str


class CustomerMessageLogged(Aggregate.Event):
    """The owner logged contact with the customer."""

    class_version = 1
    message_id: UUID
    author_id: UUID
    direction: str  # MessageDirection value
    text: str


class SwarmRequested(Aggregate.Event):
    """The owner raised a hand for help."""

    class_version = 1
    request_id: UUID
    requested_by: UUID
    help_needed: str
    skills_wanted: list[str]
    urgency: str  # Urgency value


class ExpertInvited(Aggregate.Event):
    """v2: ``expires_at``, an ISO 8601 UTC instant after which the invitation, still
    unanswered, expires (``InvitationExpired``); "" when it never does (and before v2)."""

    class_version = 2
    invitation_id: UUID
    expert_id: UUID
    expert_name: str
    invited_by: UUID
    reason: str
    expires_at: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        state["expires_at"] = ""


class InvitationDeclined(Aggregate.Event):
    class_version = 1
    invitation_id: UUID
    expert_id: UUID
    reason: str  # may be ""


class InvitationExpired(Aggregate.Event):
    """An invitation still unanswered at its ``expires_at`` (the due time, ISO 8601 UTC)."""

    class_version = 1
    invitation_id: UUID
    expert_id: UUID
    expired_at: str


class ExpertJoined(Aggregate.Event):
    """An expert joined; ``invitation_id`` is ``None`` when ``via`` is ``swarm_request``."""

    class_version = 1
    expert_id: UUID
    expert_name: str
    via: str  # JoinVia value
    invitation_id: UUID | None


class ExpertLeft(Aggregate.Event):
    class_version = 1
    expert_id: UUID
    note: str  # may be ""


class BriefingAcknowledged(Aggregate.Event):
    """A participant has read the case as it stood at ``acknowledged_version``."""

    class_version = 1
    participant_id: UUID
    acknowledged_version: int


class InsightPosted(Aggregate.Event):
    class_version = 1
    insight_id: UUID
    author_id: UUID
    kind: str  # InsightKind value
    text: str
    refers_to: list[UUID]  # earlier insights of this case
    mentions: list[UUID]  # agent ids mentioned (for inboxes)


class ResolutionProposed(Aggregate.Event):
    class_version = 1
    proposal_id: UUID
    author_id: UUID
    summary: str
    steps: list[str]
    cites: list[UUID]  # insights of this case


class ProposalAccepted(Aggregate.Event):
    class_version = 1
    proposal_id: UUID
    decided_by: UUID


class ProposalRejected(Aggregate.Event):
    class_version = 1
    proposal_id: UUID
    decided_by: UUID
    reason: str


class Resolved(Aggregate.Event):
    """``proposal_id`` is the accepted proposal cited, or ``None`` when there was none;
    ``first_touch`` is true when no swarm was ever requested and no expert ever joined."""

    class_version = 1
    resolved_by: UUID
    summary: str
    proposal_id: UUID | None
    first_touch: bool


class Reopened(Aggregate.Event):
    class_version = 1
    reopened_by: UUID
    reason: str


class Closed(Aggregate.Event):
    class_version = 1
    closed_by: UUID
    note: str  # may be ""


class OwnershipTransferred(Aggregate.Event):
    class_version = 1
    from_owner_id: UUID
    to_owner_id: UUID
    to_owner_name: str
    transferred_by: UUID
    handoff_note: str


class PriorityChanged(Aggregate.Event):
    class_version = 1
    priority: str  # Priority value
    previous: str  # Priority value
    changed_by: UUID
    reason: str


class SolutionReused(Aggregate.Event):
    """The solved case helped solve another, ``for_case_id`` (linked from that case's
    similar ones, as an article's ``Reused``); recorded on the solved case, once per case
    helped, whatever its status since (a closed case's knowledge is still reused)."""

    class_version = 1
    for_case_id: UUID
    reused_by: UUID

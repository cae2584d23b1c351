"""``Case``: the concierge model (owner to resolution, experts swarm). Commands take the
``Actor``, run their ``_check_*`` rules (``domain.case_rules``), then call an ``@event``
method that only assigns state (``domain.case_state``); events: ``domain.case_events``."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import case_events as ev
from domain import outcome_events as oc
from domain.actors import Actor
from domain.case_elements import ElementIndex, ElementKind
from domain.case_opening import check_open
from domain.case_outcomes import CaseOutcomes
from domain.case_permissions import reuse_id_for
from domain.case_rules import CaseRules
from domain.case_state import Proposal
from domain.values import (
    CaseStatus,
    Channel,
    ContextKind,
    InsightKind,
    MessageDirection,
    Priority,
    ProposalStatus,
    Urgency,
    unique_texts,
    unique_uuids,
)

__all__ = ["Case"]


class Case(Aggregate, CaseRules, CaseOutcomes):
    """A support case and its swarm. Create with ``Case.open``, never ``Case(...)``."""

    Opened = ev.Opened
    ContextAdded = ev.ContextAdded
    CustomerMessageLogged = ev.CustomerMessageLogged
    SwarmRequested = ev.SwarmRequested
    ExpertInvited = ev.ExpertInvited
    InvitationDeclined = ev.InvitationDeclined
    InvitationExpired = ev.InvitationExpired
    ExpertJoined = ev.ExpertJoined
    ExpertLeft = ev.ExpertLeft
    BriefingAcknowledged = ev.BriefingAcknowledged
    InsightPosted = ev.InsightPosted
    ResolutionProposed = ev.ResolutionProposed
    ProposalAccepted = ev.ProposalAccepted
    ProposalRejected = ev.ProposalRejected
    Resolved = ev.Resolved
    Reopened = ev.Reopened
    Closed = ev.Closed
    OwnershipTransferred = ev.OwnershipTransferred
    PriorityChanged = ev.PriorityChanged
    SolutionReused = ev.SolutionReused
    # outcomes (domain.outcome_events, commands in domain.case_outcomes)
    AwaitingCustomer, SatisfactionRecorded = oc.AwaitingCustomer, oc.SatisfactionRecorded
    SlaClockStarted, SlaPaused, SlaResumed = oc.SlaClockStarted, oc.SlaPaused, oc.SlaResumed
    SlaWarned, SlaBreached, SlaMet = oc.SlaWarned, oc.SlaBreached, oc.SlaMet
    SwarmUrgencyRaised = oc.SwarmUrgencyRaised

    @classmethod
    def open(
        cls,
        actor: Actor,
        *,
        case_id: UUID | None = None,
        customer: str,
        subject: str,
        customer_contact: str = "",
        description: str = "",
        product_area: str = "",
        priority: Priority | str = Priority.NORMAL,
        channel: Channel | str = Channel.OTHER,
    ) -> "Case":
        """Open a case owned by ``actor``; ``case_id`` lets the caller choose the id."""
        fields = check_open(
            actor, case_id, customer, subject, customer_contact, description, product_area,
            priority, channel,
        )  # fmt: skip
        return cls._create(cls.Opened, id=case_id, **fields)

    @event(Opened)
    def __init__(
        self,
        owner_id: UUID,
        owner_name: str,
        customer: str,
        customer_contact: str,
        subject: str,
        description: str,
        product_area: str,
        priority: str,
        channel: str,
    ) -> None:
        self._owner_id = owner_id
        self._owner_name = owner_name
        self._customer = customer
        self._customer_contact = customer_contact
        self._subject = subject
        self._description = description
        self._product_area = product_area
        self._priority = Priority(priority)
        self._channel = Channel(channel)
        self._status = CaseStatus.OPEN
        self._participants = {owner_id: owner_name}
        self._pending_invitations = {}
        self._invitation_expiry = {}
        self._open_swarm_requests = []
        self._ever_swarmed = False
        self._open_proposals = {}
        self._accepted_proposal_id = None
        self._acknowledged = {}
        self._elements = ElementIndex()
        self._resolution_summary = ""

    def add_context(
        self, actor: Actor, *, context_id: UUID, kind: ContextKind | str, text: str
    ) -> None:
        parsed, text = self._check_add_context(actor, context_id, kind, text)
        self._add_context(context_id=context_id, author_id=actor.id, kind=parsed.value, text=text)

    @event(ContextAdded)
    def _add_context(self, context_id: UUID, author_id: UUID, kind: str, text: str) -> None:
        self._elements.add(context_id, ElementKind.OTHER)

    def log_customer_message(
        self, actor: Actor, *, message_id: UUID, direction: MessageDirection | str, text: str
    ) -> None:
        parsed, text = self._check_log_customer_message(actor, message_id, direction, text)
        self._log_customer_message(
            message_id=message_id, author_id=actor.id, direction=parsed.value, text=text
        )

    @event(CustomerMessageLogged)
    def _log_customer_message(
        self, message_id: UUID, author_id: UUID, direction: str, text: str
    ) -> None:
        self._elements.add(message_id, ElementKind.OTHER)

    def request_swarm(
        self,
        actor: Actor,
        *,
        request_id: UUID,
        help_needed: str,
        skills_wanted: Sequence[str] = (),
        urgency: Urgency | str = Urgency.NORMAL,
    ) -> None:
        help_needed, parsed = self._check_request_swarm(actor, request_id, help_needed, urgency)
        self._request_swarm(
            request_id=request_id,
            requested_by=actor.id,
            help_needed=help_needed,
            skills_wanted=unique_texts(skills_wanted),
            urgency=parsed.value,
        )

    @event(SwarmRequested)
    def _request_swarm(
        self,
        request_id: UUID,
        requested_by: UUID,
        help_needed: str,
        skills_wanted: list[str],
        urgency: str,
    ) -> None:
        self._elements.add(request_id, ElementKind.OTHER)
        self._open_swarm_requests.append(request_id)
        self._ever_swarmed = True

    def invite_expert(
        self,
        actor: Actor,
        *,
        invitation_id: UUID,
        expert_id: UUID,
        expert_name: str = "",
        reason: str,
        expires_at: datetime | None = None,
    ) -> None:
        """Invite; ``expires_at`` (timezone-aware) lets the invitation expire unanswered."""
        fields = self._check_invite_expert(actor, invitation_id, expert_id, reason, expires_at)
        self._invite_expert(expert_name=expert_name.strip(), invited_by=actor.id, **fields)

    @event(ExpertInvited)
    def _invite_expert(
        self,
        invitation_id: UUID,
        expert_id: UUID,
        expert_name: str,
        invited_by: UUID,
        reason: str,
        expires_at: str,
    ) -> None:
        self._elements.add(invitation_id, ElementKind.OTHER)
        self._pending_invitations[expert_id] = invitation_id
        if expires_at:
            self._invitation_expiry[invitation_id] = expires_at

    def expire_invitation(self, actor: Actor, *, invitation_id: UUID, now: datetime) -> None:
        """Expire a pending invitation whose ``expires_at`` is at or before ``now``."""
        self._expire_invitation(**self._check_expire_invitation(actor, invitation_id, now))

    @event(InvitationExpired)
    def _expire_invitation(self, invitation_id: UUID, expert_id: UUID, expired_at: str) -> None:
        self._withdraw_invitation(expert_id)

    def decline_invitation(self, actor: Actor, *, reason: str = "") -> None:
        invitation_id = self._check_decline_invitation(actor)
        self._decline_invitation(
            invitation_id=invitation_id, expert_id=actor.id, reason=reason.strip()
        )

    @event(InvitationDeclined)
    def _decline_invitation(self, invitation_id: UUID, expert_id: UUID, reason: str) -> None:
        self._withdraw_invitation(expert_id)

    def join(self, actor: Actor, *, expert_name: str = "") -> None:
        via, invitation_id = self._check_join(actor)
        self._join(
            expert_id=actor.id,
            expert_name=expert_name.strip() or actor.name.strip(),
            via=via.value,
            invitation_id=invitation_id,
        )

    @event(ExpertJoined)
    def _join(
        self, expert_id: UUID, expert_name: str, via: str, invitation_id: UUID | None
    ) -> None:
        self._withdraw_invitation(expert_id)
        self._participants[expert_id] = expert_name
        self._ever_swarmed = True

    def leave(self, actor: Actor, *, note: str = "") -> None:
        self._check_leave(actor)
        self._leave(expert_id=actor.id, note=note.strip())

    @event(ExpertLeft)
    def _leave(self, expert_id: UUID, note: str) -> None:
        self._participants.pop(expert_id, None)

    def acknowledge_briefing(self, actor: Actor, *, version: int) -> None:
        self._check_acknowledge_briefing(actor, version)
        self._acknowledge_briefing(participant_id=actor.id, acknowledged_version=version)

    @event(BriefingAcknowledged)
    def _acknowledge_briefing(self, participant_id: UUID, acknowledged_version: int) -> None:
        previous = self._acknowledged.get(participant_id, 0)
        self._acknowledged[participant_id] = max(previous, acknowledged_version)

    def post_insight(
        self,
        actor: Actor,
        *,
        insight_id: UUID,
        kind: InsightKind | str,
        text: str,
        refers_to: Sequence[UUID] = (),
        mentions: Sequence[UUID] = (),
    ) -> None:
        parsed, text = self._check_post_insight(actor, insight_id, kind, text, refers_to)
        self._post_insight(
            insight_id=insight_id,
            author_id=actor.id,
            kind=parsed.value,
            text=text,
            refers_to=unique_uuids(refers_to),
            mentions=unique_uuids(mentions),
        )

    @event(InsightPosted)
    def _post_insight(
        self,
        insight_id: UUID,
        author_id: UUID,
        kind: str,
        text: str,
        refers_to: list[UUID],
        mentions: list[UUID],
    ) -> None:
        self._elements.add(insight_id, ElementKind.INSIGHT)

    def propose_resolution(
        self,
        actor: Actor,
        *,
        proposal_id: UUID,
        summary: str,
        steps: Sequence[str] = (),
        cites: Sequence[UUID] = (),
    ) -> None:
        summary = self._check_propose_resolution(actor, proposal_id, summary, cites)
        self._propose_resolution(
            proposal_id=proposal_id,
            author_id=actor.id,
            summary=summary,
            steps=[step.strip() for step in steps if step.strip()],
            cites=unique_uuids(cites),
        )

    @event(ResolutionProposed)
    def _propose_resolution(
        self, proposal_id: UUID, author_id: UUID, summary: str, steps: list[str], cites: list[UUID]
    ) -> None:
        self._elements.add(proposal_id, ElementKind.PROPOSAL_OPEN)
        self._open_proposals[proposal_id] = Proposal(proposal_id, author_id, ProposalStatus.OPEN)

    def accept_proposal(self, actor: Actor, *, proposal_id: UUID) -> None:
        self._check_accept_proposal(actor, proposal_id)
        self._accept_proposal(proposal_id=proposal_id, decided_by=actor.id)

    @event(ProposalAccepted)
    def _accept_proposal(self, proposal_id: UUID, decided_by: UUID) -> None:
        self._decide_proposal(proposal_id, ProposalStatus.ACCEPTED)
        self._accepted_proposal_id = proposal_id

    def reject_proposal(self, actor: Actor, *, proposal_id: UUID, reason: str) -> None:
        reason = self._check_reject_proposal(actor, proposal_id, reason)
        self._reject_proposal(proposal_id=proposal_id, decided_by=actor.id, reason=reason)

    @event(ProposalRejected)
    def _reject_proposal(self, proposal_id: UUID, decided_by: UUID, reason: str) -> None:
        self._decide_proposal(proposal_id, ProposalStatus.REJECTED)

    def resolve(self, actor: Actor, *, summary: str, proposal_id: UUID | None = None) -> None:
        """Resolve, citing the accepted proposal (automatically when not given)."""
        summary, cited = self._check_resolve(actor, summary, proposal_id)
        self._resolve(
            resolved_by=actor.id,
            summary=summary,
            proposal_id=cited,
            first_touch=not self._ever_swarmed,
        )

    @event(Resolved)
    def _resolve(
        self, resolved_by: UUID, summary: str, proposal_id: UUID | None, first_touch: bool
    ) -> None:
        self._status = CaseStatus.RESOLVED
        self._resolution_summary = summary
        self._end_swarming()

    def reopen(self, actor: Actor, *, reason: str) -> None:
        reason = self._check_reopen(actor, reason)
        self._reopen(reopened_by=actor.id, reason=reason)

    @event(Reopened)
    def _reopen(self, reopened_by: UUID, reason: str) -> None:
        self._status = CaseStatus.OPEN
        self._accepted_proposal_id = None
        self._resolution_summary = ""

    def close(self, actor: Actor, *, note: str = "") -> None:
        self._check_allowed(actor, "close")
        self._close(closed_by=actor.id, note=note.strip())

    @event(Closed)
    def _close(self, closed_by: UUID, note: str) -> None:
        self._status = CaseStatus.CLOSED
        self._end_swarming()

    def transfer_ownership(
        self, actor: Actor, *, to_owner_id: UUID, to_owner_name: str = "", handoff_note: str
    ) -> None:
        handoff_note = self._check_transfer_ownership(actor, to_owner_id, handoff_note)
        self._transfer_ownership(
            from_owner_id=self._owner_id,
            to_owner_id=to_owner_id,
            to_owner_name=to_owner_name.strip(),
            transferred_by=actor.id,
            handoff_note=handoff_note,
        )

    @event(OwnershipTransferred)
    def _transfer_ownership(
        self,
        from_owner_id: UUID,
        to_owner_id: UUID,
        to_owner_name: str,
        transferred_by: UUID,
        handoff_note: str,
    ) -> None:
        name = to_owner_name or self._participants.get(to_owner_id, "")
        self._owner_id, self._owner_name = to_owner_id, name
        self._participants[to_owner_id] = name
        self._withdraw_invitation(to_owner_id)

    def change_priority(self, actor: Actor, *, priority: Priority | str, reason: str) -> None:
        parsed, reason = self._check_change_priority(actor, priority, reason)
        self._change_priority(
            priority=parsed.value, previous=self._priority.value, changed_by=actor.id, reason=reason
        )

    @event(PriorityChanged)
    def _change_priority(self, priority: str, previous: str, changed_by: UUID, reason: str) -> None:
        self._priority = Priority(priority)

    def record_reuse(self, actor: Actor, *, for_case_id: UUID) -> None:
        """This solved case helped solve ``for_case_id`` (linked from that case)."""
        self._check_record_reuse(actor, for_case_id)
        self._record_reuse(for_case_id=for_case_id, reused_by=actor.id)

    @event(SolutionReused)
    def _record_reuse(self, for_case_id: UUID, reused_by: UUID) -> None:
        self._elements.add(reuse_id_for(for_case_id), ElementKind.OTHER)

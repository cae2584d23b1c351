"""The rules of a ``Case``: who may do what, in which status, with which values.

``CaseRules`` adds to ``CaseState`` one ``_check_*`` helper per command. ``Case``'s public
methods call them before triggering an event; the ``@event`` methods never do, so replaying
history never re-runs today's rules. Each check raises a typed ``DomainError`` carrying the
case, actor and offending ids, and returns the normalised values the event will store.

Rules
-----
Status gate, checked first (``InvalidTransition``), then who (``NotAllowed``); both are the
``PERMISSIONS`` table below:
  - open: every command except ``reopen``.
  - resolved: only ``close``, ``reopen``, ``log_customer_message``, ``acknowledge_briefing``,
    ``record_reuse``.
  - closed: only ``reopen`` and ``record_reuse`` (what the case taught is still reused).
  - ``open``: any actor except role ``service`` (an owner is a person).
  - owner only: ``invite_expert``, ``accept_proposal``, ``reject_proposal``, ``resolve``,
    ``close``, ``log_customer_message`` (single point of contact), ``request_swarm``.
  - owner or supervisor (role supervisor or admin): ``transfer_ownership``, ``reopen``,
    ``change_priority``.
  - participants (owner and joined experts): ``add_context``, ``post_insight``,
    ``propose_resolution``, ``acknowledge_briefing``.
  - ``record_reuse``: anyone but a service (the application checks that the caller sees
    the case helped), on a case resolved (or closed after its resolution), once per case
    helped (its element id derives from that case: ``reuse_id_for``), never by itself.
  - ``join``: needs a pending invitation for the actor (used first, ``via=invitation``) or
    an open swarm request (``via=swarm_request``). ``decline_invitation``: needs a pending
    invitation for the actor. ``leave``: a participant who is not the owner (a former
    owner, after a transfer, is such a participant).

State (``InvalidTransition``):
  - inviting or joining someone already a participant (the owner included), or inviting
    someone whose invitation is still pending.
  - accepting or rejecting a proposal that is not open; accepting while another proposal
    is accepted; resolving with a ``proposal_id`` other than the accepted one.

Values (``InvalidInput``; ``NotFoundInCase`` for unknown ids inside the case):
  - enum fields take a member or its string; unknown strings are refused.
  - required text (stripped, non-empty): customer, subject, context text, message text,
    help needed, invitation reason, insight text, proposal summary, rejection reason,
    resolution summary, reopen reason, hand-off note, priority-change reason. Optional:
    decline reason, leave note, close note, names, contact, description, product area.
  - element ids (context, message, swarm request, invitation, insight, proposal) are
    unique within the case; reusing one is refused.
  - ``refers_to`` and ``cites`` must be insights of this case (``NotFoundInCase``), as must
    a ``proposal_id`` given to accept, reject or resolve. Id lists are de-duplicated in
    order; ``skills_wanted`` and ``steps`` are stripped, emptied entries dropped.
  - acknowledged version: 1 <= version <= the case's current version.
  - a transfer must name someone other than the owner; a priority change must change it.

Effects (what the ``@event`` methods do):
  - several swarm requests may be open at once; each stays open (more experts may offer
    help) until the case is resolved or closed. Resolved and Closed also withdraw pending
    invitations. Reopened restores neither.
  - ``ever_swarmed`` turns true on the first swarm request or the first expert joining
    (invitations alone do not count); ``Resolved.first_touch = not ever_swarmed``.
  - resolve without ``proposal_id`` cites the accepted proposal automatically, if any;
    resolving with no proposal at all is allowed.
  - Reopened clears ``accepted_proposal_id`` (the proposal stays accepted in history), so
    a new proposal can be accepted. ``close`` works from open (abandoned or duplicate
    cases) as well as from resolved.
  - transfer: the new owner becomes a participant under ``to_owner_name`` and loses any
    pending invitation; the previous owner stays a participant.
  - acknowledgements keep the highest version per participant; acknowledging again is fine.
  - ``expires_at`` must be timezone-aware; ``expire_invitation`` (anyone: time passing is
    a fact) needs the invitation pending and ``now`` at or past its expiry (``NotAllowed``).
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.actors import Actor, Role
from domain.case_permissions import PERMISSIONS, Who, reuse_id_for
from domain.case_state import CaseState
from domain.errors import InvalidInput, InvalidTransition, NotAllowed, NotFoundInCase
from domain.values import (
    ContextKind,
    InsightKind,
    JoinVia,
    MessageDirection,
    Priority,
    ProposalStatus,
    Urgency,
    parse_enum,
    require_text,
)

__all__ = ["CaseRules"]


class CaseRules(CaseState):
    """The ``_check_*`` helpers ``Case``'s commands run before triggering events."""

    # --- shared checks ---------------------------------------------------------------

    def _check_allowed(self, actor: Actor, command: str) -> None:
        """The status gate, then the role gate, from ``PERMISSIONS``."""
        statuses, who = PERMISSIONS[command]
        what = command.replace("_", " ")
        if self._status not in statuses:
            raise InvalidTransition(
                f"cannot {what}: case is {self._status.value}",
                case_id=self.id,
                actor_id=actor.id,
            )
        if who is Who.OWNER and actor.id != self._owner_id:
            raise NotAllowed(
                f"only the owner ({self._owner_id}) may {what}",
                case_id=self.id,
                actor_id=actor.id,
            )
        if who is Who.OWNER_OR_SUPERVISOR and not (
            actor.id == self._owner_id or actor.is_supervisor
        ):
            raise NotAllowed(
                f"only the owner ({self._owner_id}) or a supervisor may {what}",
                case_id=self.id,
                actor_id=actor.id,
            )
        if who is Who.PARTICIPANT and actor.id not in self._participants:
            raise NotAllowed(f"only participants may {what}", case_id=self.id, actor_id=actor.id)

    def _check_new_element_id(self, actor: Actor, field: str, element_id: UUID) -> None:
        if element_id in self._elements:
            raise InvalidInput(
                field,
                f"id {element_id} is already used in this case",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=element_id,
            )

    def _check_text(self, actor: Actor, value: str, field: str) -> str:
        return require_text(value, field, case_id=self.id, actor_id=actor.id)

    def _check_insights_exist(self, actor: Actor, insight_ids: Iterable[UUID]) -> None:
        for insight_id in insight_ids:
            if not self.has_insight(insight_id):
                raise NotFoundInCase("insight", insight_id, case_id=self.id, actor_id=actor.id)

    def _check_not_participant(self, actor: Actor, expert_id: UUID) -> None:
        if expert_id in self._participants:
            raise InvalidTransition(
                f"{expert_id} is already a participant",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=expert_id,
            )

    def _get_proposal_status(self, actor: Actor, proposal_id: UUID) -> ProposalStatus:
        status = self.proposal_status(proposal_id)
        if status is None:
            raise NotFoundInCase("proposal", proposal_id, case_id=self.id, actor_id=actor.id)
        return status

    # --- per command -----------------------------------------------------------------

    def _check_add_context(
        self, actor: Actor, context_id: UUID, kind: ContextKind | str, text: str
    ) -> tuple[ContextKind, str]:
        self._check_allowed(actor, "add_context")
        self._check_new_element_id(actor, "context_id", context_id)
        parsed = parse_enum(ContextKind, kind, "kind", case_id=self.id, actor_id=actor.id)
        return parsed, self._check_text(actor, text, "text")

    def _check_log_customer_message(
        self, actor: Actor, message_id: UUID, direction: MessageDirection | str, text: str
    ) -> tuple[MessageDirection, str]:
        self._check_allowed(actor, "log_customer_message")
        self._check_new_element_id(actor, "message_id", message_id)
        parsed = parse_enum(
            MessageDirection, direction, "direction", case_id=self.id, actor_id=actor.id
        )
        return parsed, self._check_text(actor, text, "text")

    def _check_request_swarm(
        self, actor: Actor, request_id: UUID, help_needed: str, urgency: Urgency | str
    ) -> tuple[str, Urgency]:
        self._check_allowed(actor, "request_swarm")
        self._check_new_element_id(actor, "request_id", request_id)
        text = self._check_text(actor, help_needed, "help_needed")
        return text, parse_enum(Urgency, urgency, "urgency", case_id=self.id, actor_id=actor.id)

    def _check_invite_expert(
        self,
        actor: Actor,
        invitation_id: UUID,
        expert_id: UUID,
        reason: str,
        expires_at: datetime | None,
    ) -> dict[str, Any]:
        self._check_allowed(actor, "invite_expert")
        self._check_new_element_id(actor, "invitation_id", invitation_id)
        self._check_not_participant(actor, expert_id)
        if expert_id in self._pending_invitations:
            raise InvalidTransition(
                f"{expert_id} already has pending invitation "
                f"{self._pending_invitations[expert_id]}",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=expert_id,
            )
        if expires_at is not None and expires_at.utcoffset() is None:
            raise InvalidInput("expires_at", "must carry a time zone", case_id=self.id)
        expiry = "" if expires_at is None else expires_at.astimezone(UTC).isoformat()
        reason = self._check_text(actor, reason, "reason")
        return {"invitation_id": invitation_id, "expert_id": expert_id, "reason": reason,
                "expires_at": expiry}  # fmt: skip

    def _check_expire_invitation(
        self, actor: Actor, invitation_id: UUID, now: datetime
    ) -> dict[str, Any]:
        self._check_allowed(actor, "expire_invitation")
        experts = [e for e, i in self._pending_invitations.items() if i == invitation_id]
        due = self._invitation_expiry.get(invitation_id, "")
        if not experts or not due or now < datetime.fromisoformat(due):
            raise NotAllowed(
                f"invitation {invitation_id} is not pending past its expiry",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=invitation_id,
            )
        return {"invitation_id": invitation_id, "expert_id": experts[0], "expired_at": due}

    def _check_decline_invitation(self, actor: Actor) -> UUID:
        """The id of the actor's pending invitation."""
        self._check_allowed(actor, "decline_invitation")
        invitation_id = self._pending_invitations.get(actor.id)
        if invitation_id is None:
            raise NotAllowed("no pending invitation to decline", case_id=self.id, actor_id=actor.id)
        return invitation_id

    def _check_join(self, actor: Actor) -> tuple[JoinVia, UUID | None]:
        """How the actor may join, and the invitation used (if any)."""
        self._check_allowed(actor, "join")
        self._check_not_participant(actor, actor.id)
        invitation_id = self._pending_invitations.get(actor.id)
        if invitation_id is not None:
            return JoinVia.INVITATION, invitation_id
        if self._open_swarm_requests:
            return JoinVia.SWARM_REQUEST, None
        raise NotAllowed(
            "joining needs a pending invitation or an open swarm request",
            case_id=self.id,
            actor_id=actor.id,
        )

    def _check_leave(self, actor: Actor) -> None:
        self._check_allowed(actor, "leave")
        if actor.id == self._owner_id:
            raise NotAllowed(
                "the owner cannot leave; transfer ownership first",
                case_id=self.id,
                actor_id=actor.id,
            )
        if actor.id not in self._participants:
            raise NotAllowed("only participants may leave", case_id=self.id, actor_id=actor.id)

    def _check_acknowledge_briefing(self, actor: Actor, version: int) -> None:
        self._check_allowed(actor, "acknowledge_briefing")
        if isinstance(version, bool) or not 1 <= version <= self.version:
            raise InvalidInput(
                "version",
                f"{version} is not between 1 and the current version {self.version}",
                case_id=self.id,
                actor_id=actor.id,
            )

    def _check_post_insight(
        self,
        actor: Actor,
        insight_id: UUID,
        kind: InsightKind | str,
        text: str,
        refers_to: Iterable[UUID],
    ) -> tuple[InsightKind, str]:
        self._check_allowed(actor, "post_insight")
        self._check_new_element_id(actor, "insight_id", insight_id)
        parsed = parse_enum(InsightKind, kind, "kind", case_id=self.id, actor_id=actor.id)
        text = self._check_text(actor, text, "text")
        self._check_insights_exist(actor, refers_to)
        return parsed, text

    def _check_propose_resolution(
        self, actor: Actor, proposal_id: UUID, summary: str, cites: Iterable[UUID]
    ) -> str:
        self._check_allowed(actor, "propose_resolution")
        self._check_new_element_id(actor, "proposal_id", proposal_id)
        summary = self._check_text(actor, summary, "summary")
        self._check_insights_exist(actor, cites)
        return summary

    def _check_decide_proposal(self, actor: Actor, command: str, proposal_id: UUID) -> None:
        """Shared by accept and reject: owner, case open, proposal exists and is open."""
        self._check_allowed(actor, command)
        status = self._get_proposal_status(actor, proposal_id)
        if status is not ProposalStatus.OPEN:
            raise InvalidTransition(
                f"proposal {proposal_id} is already {status.value}",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=proposal_id,
            )

    def _check_accept_proposal(self, actor: Actor, proposal_id: UUID) -> None:
        self._check_decide_proposal(actor, "accept_proposal", proposal_id)
        if self._accepted_proposal_id is not None:
            raise InvalidTransition(
                f"proposal {self._accepted_proposal_id} is already accepted",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=proposal_id,
            )

    def _check_reject_proposal(self, actor: Actor, proposal_id: UUID, reason: str) -> str:
        self._check_decide_proposal(actor, "reject_proposal", proposal_id)
        return self._check_text(actor, reason, "reason")

    def _check_resolve(
        self, actor: Actor, summary: str, proposal_id: UUID | None
    ) -> tuple[str, UUID | None]:
        """The summary and the proposal the resolution cites."""
        self._check_allowed(actor, "resolve")
        summary = self._check_text(actor, summary, "summary")
        if proposal_id is None:
            return summary, self._accepted_proposal_id
        self._get_proposal_status(actor, proposal_id)
        if proposal_id != self._accepted_proposal_id:
            raise InvalidTransition(
                f"a resolution may only cite the accepted proposal, not {proposal_id}",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=proposal_id,
            )
        return summary, proposal_id

    def _check_reopen(self, actor: Actor, reason: str) -> str:
        self._check_allowed(actor, "reopen")
        return self._check_text(actor, reason, "reason")

    def _check_transfer_ownership(self, actor: Actor, to_owner_id: UUID, handoff_note: str) -> str:
        self._check_allowed(actor, "transfer_ownership")
        if to_owner_id == self._owner_id:
            raise InvalidInput(
                "to_owner_id",
                f"{to_owner_id} already owns the case",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=to_owner_id,
            )
        return self._check_text(actor, handoff_note, "handoff_note")

    def _check_record_reuse(self, actor: Actor, for_case_id: UUID) -> UUID:
        """The element id that records the reuse by ``for_case_id`` (once per case)."""
        self._check_allowed(actor, "record_reuse")
        if actor.role is Role.SERVICE:
            raise NotAllowed("a service cannot link a case", case_id=self.id, actor_id=actor.id)
        if not self._resolution_summary:
            raise InvalidTransition(
                "only a case closed after its resolution can be reused",
                case_id=self.id,
                actor_id=actor.id,
            )
        if for_case_id == self.id:
            raise InvalidTransition(
                "a case is not reused by itself", case_id=self.id, actor_id=actor.id
            )
        reuse_id = reuse_id_for(for_case_id)
        if reuse_id in self._elements:
            raise InvalidTransition(
                f"already linked to case {for_case_id}",
                case_id=self.id,
                actor_id=actor.id,
                offending_id=for_case_id,
            )
        return reuse_id

    def _check_change_priority(
        self, actor: Actor, priority: Priority | str, reason: str
    ) -> tuple[Priority, str]:
        self._check_allowed(actor, "change_priority")
        parsed = parse_enum(Priority, priority, "priority", case_id=self.id, actor_id=actor.id)
        if parsed is self._priority:
            raise InvalidInput(
                "priority",
                f"the priority is already {parsed.value}",
                case_id=self.id,
                actor_id=actor.id,
            )
        return parsed, self._check_text(actor, reason, "reason")

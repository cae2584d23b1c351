"""Who may run each case command, and in which statuses (`PERMISSIONS`, checked by
`domain.case_rules.CaseRules` before any command-specific rule); the ids of reuse records."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID, uuid5

from domain.values import CaseStatus

#: Namespace of the element ids that record reuses. Never change it: stored cases use it.
REUSE_NAMESPACE = UUID("a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d")


def reuse_id_for(for_case_id: UUID) -> UUID:
    """The element id recording that a solved case helped ``for_case_id``."""
    return uuid5(REUSE_NAMESPACE, str(for_case_id))


class Who(StrEnum):
    """Who may run a command (before any command-specific rule)."""

    OWNER = "owner"
    OWNER_OR_SUPERVISOR = "owner_or_supervisor"
    PARTICIPANT = "participant"
    ANYONE = "anyone"  # the command's own rule decides (join, decline, leave)


OPEN, RESOLVED, CLOSED = CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED

#: command -> (statuses in which it may run, who may run it)
PERMISSIONS: dict[str, tuple[frozenset[CaseStatus], Who]] = {
    "add_context": (frozenset({OPEN}), Who.PARTICIPANT),
    "log_customer_message": (frozenset({OPEN, RESOLVED}), Who.OWNER),
    "request_swarm": (frozenset({OPEN}), Who.OWNER),
    "invite_expert": (frozenset({OPEN}), Who.OWNER),
    "decline_invitation": (frozenset({OPEN}), Who.ANYONE),
    "expire_invitation": (frozenset({OPEN}), Who.ANYONE),
    "join": (frozenset({OPEN}), Who.ANYONE),
    "leave": (frozenset({OPEN}), Who.ANYONE),
    "acknowledge_briefing": (frozenset({OPEN, RESOLVED}), Who.PARTICIPANT),
    "post_insight": (frozenset({OPEN}), Who.PARTICIPANT),
    "propose_resolution": (frozenset({OPEN}), Who.PARTICIPANT),
    "accept_proposal": (frozenset({OPEN}), Who.OWNER),
    "reject_proposal": (frozenset({OPEN}), Who.OWNER),
    "resolve": (frozenset({OPEN}), Who.OWNER),
    "reopen": (frozenset({RESOLVED, CLOSED}), Who.OWNER_OR_SUPERVISOR),
    "close": (frozenset({OPEN, RESOLVED}), Who.OWNER),
    "transfer_ownership": (frozenset({OPEN}), Who.OWNER_OR_SUPERVISOR),
    "change_priority": (frozenset({OPEN}), Who.OWNER_OR_SUPERVISOR),
    # the one command on a closed case besides reopen: its solution helped another case
    # (the application checks that the caller sees that case)
    "record_reuse": (frozenset({RESOLVED, CLOSED}), Who.ANYONE),
}

"""Swarmdesk's pure domain model: aggregates, their events, rules and errors.

Imports only the standard library and eventsourcing's modelling API.
"""

from domain import case_events
from domain.actors import Actor, Role
from domain.agent import AGENT_NAMESPACE, Agent, agent_id_for
from domain.case import Case
from domain.case_permissions import PERMISSIONS, Who
from domain.case_state import Proposal
from domain.errors import (
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFoundInCase,
)
from domain.replay import aggregate_from_events
from domain.values import (
    Availability,
    CaseStatus,
    Channel,
    ContextKind,
    InsightKind,
    JoinVia,
    MessageDirection,
    Priority,
    ProposalStatus,
    Urgency,
)

__all__ = [
    "AGENT_NAMESPACE",
    "PERMISSIONS",
    "Actor",
    "Agent",
    "Availability",
    "Case",
    "CaseStatus",
    "Channel",
    "ContextKind",
    "DomainError",
    "InsightKind",
    "InvalidInput",
    "InvalidTransition",
    "JoinVia",
    "MessageDirection",
    "NotAllowed",
    "NotFoundInCase",
    "Priority",
    "Proposal",
    "ProposalStatus",
    "Role",
    "Urgency",
    "Who",
    "agent_id_for",
    "aggregate_from_events",
    "case_events",
]

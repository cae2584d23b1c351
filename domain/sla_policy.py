"""``SlaPolicy``: an SLA policy, defined and changed by admins, as events.

Rules: only an admin defines or changes a policy (``NotAllowed``); the document must be
valid (``InvalidInput``, see ``domain.sla_terms``). Each event carries the whole
normalised document, so a reader never needs earlier events to know the policy.

Which policy is in force: the active policy most recently defined or changed (see
``PolicyBook``); a case's clocks take the policy in force when they start and keep it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor
from domain.errors import NotAllowed
from domain.sla_terms import Policy

__all__ = ["PolicyBook", "SlaPolicy"]


class SlaPolicy(Aggregate):
    """An SLA policy. Create with ``SlaPolicy.define``."""

    class Defined(Aggregate.Created):
        class_version = 1
        defined_by: UUID
        document: dict[str, Any]

    class Changed(Aggregate.Event):
        class_version = 1
        changed_by: UUID
        document: dict[str, Any]

    @classmethod
    def define(cls, actor: Actor, *, policy_id: UUID, document: dict[str, Any]) -> SlaPolicy:
        _check_admin(actor, policy_id)
        doc = Policy.of(document).as_document()
        return cls._create(cls.Defined, id=policy_id, defined_by=actor.id, document=doc)

    @event(Defined)
    def __init__(self, defined_by: UUID, document: dict[str, Any]) -> None:
        self.document = document

    def change(self, actor: Actor, *, document: dict[str, Any]) -> None:
        _check_admin(actor, self.id)
        self._change(changed_by=actor.id, document=Policy.of(document).as_document())

    @event(Changed)
    def _change(self, changed_by: UUID, document: dict[str, Any]) -> None:
        self.document = document

    @property
    def policy(self) -> Policy:
        return Policy.of(self.document)


def _check_admin(actor: Actor, policy_id: UUID) -> None:
    if not actor.is_admin:
        raise NotAllowed(
            "only an admin defines or changes SLA policies",
            actor_id=actor.id,
            offending_id=policy_id,
        )


class PolicyBook:
    """Every policy as last defined or changed, and the one in force (the active one
    changed last). Fed events in log order; used by the SLA engine and what-if."""

    def __init__(self) -> None:
        self._policies: dict[UUID, tuple[int, Policy]] = {}
        self._seq = 0

    def record(self, policy_id: UUID, document: dict[str, Any]) -> None:
        if type(policy_id) is not UUID:  # asyncpg's own UUID class, from a row read back:
            policy_id = UUID(int=policy_id.int)  # the facts that name it must encode
        self._seq += 1
        self._policies[policy_id] = (self._seq, Policy.of(document))

    def as_data(self) -> dict[str, Any]:
        """Every policy with its order, as JSON-able data (`PolicyBook.of_data`)."""
        return {
            "seq": self._seq,
            "policies": [
                [str(pid), seq, policy.as_document()]
                for pid, (seq, policy) in self._policies.items()
            ],
        }

    @classmethod
    def of_data(cls, data: dict[str, Any]) -> PolicyBook:
        book = cls()
        book._seq = int(data["seq"])
        book._policies = {
            UUID(pid): (int(seq), Policy.of(doc)) for pid, seq, doc in data["policies"]
        }
        return book

    def fix(self, policy_id: UUID, policy: Policy) -> None:
        """Force one policy in force (what-if: the proposed policy, nothing else)."""
        self._policies = {policy_id: (0, policy)}

    def in_force(self) -> tuple[UUID, Policy] | None:
        best: tuple[int, UUID, Policy] | None = None
        for pid, (seq, policy) in self._policies.items():
            if policy.active and (best is None or seq > best[0]):
                best = (seq, pid, policy)
        return None if best is None else (best[1], best[2])

    def get(self, policy_id: UUID) -> Policy | None:
        found = self._policies.get(policy_id)
        return None if found is None else found[1]

"""SLA policies, defined and changed by admins (`domain.sla_policy.SlaPolicy`).

Same contract as case commands for idempotency (a repeated key answers the first
result), `If-Match` (`VersionMismatch`) and conflicts (decided again until the
deadline). Service tokens are refused; the domain refuses anyone but an admin.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from app.service.cases import CONFLICT_DEADLINE, replay_on_failure
from app.service.context import CommandContext
from app.service.errors import PolicyNotFound, VersionMismatch
from app.service.repository import CommandResult, Repository
from app.store import VersionConflict
from domain.actors import Actor
from domain.sla_policy import SlaPolicy

__all__ = ["Decision", "Opener", "SlaPolicyService"]

Opener = Callable[[Actor, UUID], SlaPolicy]
Decision = Callable[[SlaPolicy, Actor], None]


class SlaPolicyService:
    def __init__(
        self, repository: Repository, conflict_deadline: float = CONFLICT_DEADLINE
    ) -> None:
        self.repository = repository
        self.conflict_deadline = conflict_deadline

    async def define(self, context: CommandContext, document: dict[str, Any]) -> CommandResult:
        """A new policy (`SlaPolicy.Defined`); its id derives from the idempotency key."""
        return await self.open(
            context,
            lambda actor, policy_id: SlaPolicy.define(
                actor, policy_id=policy_id, document=document
            ),
        )

    async def change(
        self, context: CommandContext, policy_id: UUID, document: dict[str, Any]
    ) -> CommandResult:
        """The whole new document (`SlaPolicy.Changed`)."""
        return await self.execute(
            context, policy_id, lambda policy, actor: policy.change(actor, document=document)
        )

    async def open(self, context: CommandContext, opener: Opener) -> CommandResult:
        """A new policy made by `opener(actor, policy_id)`; the id derives from the
        idempotency key."""
        context.refuse_service()

        async def run() -> CommandResult:
            policy = opener(context.principal.actor, context.new_id("sla-policy"))
            return await self.repository.save(
                policy, idempotency_key=context.idempotency_key, request_hash=context.fingerprint
            )

        return await replay_on_failure(self.repository, context, run)

    async def execute(
        self, context: CommandContext, policy_id: UUID, decide: Decision
    ) -> CommandResult:
        """`decide(policy, actor)` on the latest policy (`If-Match` checked first),
        decided again on a conflict until the deadline."""
        context.refuse_service()
        return await replay_on_failure(
            self.repository, context, lambda: self._execute(context, policy_id, decide)
        )

    async def _execute(
        self, context: CommandContext, policy_id: UUID, decide: Decision
    ) -> CommandResult:
        deadline = time.monotonic() + self.conflict_deadline
        while True:
            policy = await self.repository.load(SlaPolicy, policy_id)
            if policy is None:
                raise PolicyNotFound(policy_id)
            if context.if_match is not None and context.if_match != policy.version:
                raise VersionMismatch("policy", policy_id, context.if_match, policy.version)
            decide(policy, context.principal.actor)
            try:
                return await self.repository.save(
                    policy,
                    idempotency_key=context.idempotency_key,
                    request_hash=context.fingerprint,
                )
            except VersionConflict:
                if context.if_match is not None or time.monotonic() >= deadline:
                    raise

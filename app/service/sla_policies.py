"""SLA policies, defined and changed by admins (`domain.sla_policy.SlaPolicy`).

Same contract as case commands for idempotency (a repeated key answers the first
result), `If-Match` (`VersionMismatch`) and conflicts (decided again until the
deadline). Service tokens are refused; the domain refuses anyone but an admin.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from app.service.cases import CONFLICT_DEADLINE, replay_on_failure
from app.service.context import CommandContext
from app.service.errors import PolicyNotFound, VersionMismatch
from app.service.repository import CommandResult, Repository
from app.store import VersionConflict
from domain.sla_policy import SlaPolicy

__all__ = ["SlaPolicyService"]


class SlaPolicyService:
    def __init__(
        self, repository: Repository, conflict_deadline: float = CONFLICT_DEADLINE
    ) -> None:
        self.repository = repository
        self.conflict_deadline = conflict_deadline

    async def define(self, context: CommandContext, document: dict[str, Any]) -> CommandResult:
        """A new policy (`SlaPolicy.Defined`); its id derives from the idempotency key."""
        context.refuse_service()

        async def run() -> CommandResult:
            policy = SlaPolicy.define(
                context.principal.actor, policy_id=context.new_id("sla-policy"), document=document
            )
            return await self.repository.save(
                policy, idempotency_key=context.idempotency_key, request_hash=context.fingerprint
            )

        return await replay_on_failure(self.repository, context, run)

    async def change(
        self, context: CommandContext, policy_id: UUID, document: dict[str, Any]
    ) -> CommandResult:
        """The whole new document (`SlaPolicy.Changed`)."""
        context.refuse_service()
        return await replay_on_failure(
            self.repository, context, lambda: self._change(context, policy_id, document)
        )

    async def _change(
        self, context: CommandContext, policy_id: UUID, document: dict[str, Any]
    ) -> CommandResult:
        deadline = time.monotonic() + self.conflict_deadline
        while True:
            policy = await self.repository.load(SlaPolicy, policy_id)
            if policy is None:
                raise PolicyNotFound(policy_id)
            if context.if_match is not None and context.if_match != policy.version:
                raise VersionMismatch("policy", policy_id, context.if_match, policy.version)
            policy.change(context.principal.actor, document=document)
            try:
                return await self.repository.save(
                    policy,
                    idempotency_key=context.idempotency_key,
                    request_hash=context.fingerprint,
                )
            except VersionConflict:
                if context.if_match is not None or time.monotonic() >= deadline:
                    raise

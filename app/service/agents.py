"""The agent application service: `PUT /api/agents/me` registers or updates the caller.

Contract: the agent id is `agent_id_for(token subject)`. Service tokens are refused
(`ServiceTokensCannotCommand`). The first PUT registers the agent (fields left out take
the domain's defaults, the name defaults to the token's name; the token's subject is
recorded); later PUTs update it
(fields left out keep their value). `If-Match` must equal the profile's version
(`VersionMismatch`; before the first PUT only `0` matches).
Idempotency keys and conflicts (decided again until a deadline) behave as for case
commands (`app.service.cases`).
"""

from __future__ import annotations

import time
from typing import Any

from app.service.cases import CONFLICT_DEADLINE, replay_on_failure
from app.service.context import CommandContext
from app.service.errors import VersionMismatch
from app.service.repository import CommandResult, Repository
from app.store import VersionConflict
from domain.agent import Agent, agent_id_for


class AgentService:
    """Saves the caller's own profile over a `Repository`."""

    def __init__(
        self, repository: Repository, conflict_deadline: float = CONFLICT_DEADLINE
    ) -> None:
        self.repository = repository
        self.conflict_deadline = conflict_deadline

    async def put_me(self, context: CommandContext, profile: dict[str, Any]) -> CommandResult:
        """Register or update the caller's `Agent` with `profile` (None values keep)."""
        context.refuse_service()
        given = {k: v for k, v in profile.items() if v is not None}
        return await replay_on_failure(
            self.repository, context, lambda: self._attempts(context, given)
        )

    async def _attempts(self, context: CommandContext, given: dict[str, Any]) -> CommandResult:
        principal = context.principal
        agent_id = agent_id_for(principal.subject)
        deadline = time.monotonic() + self.conflict_deadline
        while True:
            agent = await self.repository.load(Agent, agent_id)
            current = 0 if agent is None else agent.version
            if context.if_match is not None and context.if_match != current:
                raise VersionMismatch("agent", agent_id, context.if_match, current)
            if agent is None:
                fields = {"name": principal.name} | given | {"subject": principal.subject}
                agent = Agent.register(agent_id, **fields)
            else:
                agent.update_profile(principal.actor, **given)
            try:
                return await self.repository.save(
                    agent, idempotency_key=context.idempotency_key, request_hash=context.fingerprint
                )
            except VersionConflict:
                if context.if_match is not None or time.monotonic() >= deadline:
                    raise

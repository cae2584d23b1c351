"""The SLA policy commands of the declared table (`app.service.commands.COMMANDS` ends
with these) and how the runner executes one. Admins only (`Command.roles`); the domain
refuses anyone else too (`domain.sla_policy`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from app.schemas.outcomes import PolicyAccepted, PolicyDocument
from app.service.command_spec import Answer, Call, Command
from app.service.context import CommandContext
from app.service.sla_policies import SlaPolicyService
from domain.actors import Role
from domain.sla_policy import SlaPolicy

POLICIES = "/api/sla/policies"
TAG = "outcomes"


def _document(call: Call) -> dict[str, Any]:
    document: dict[str, Any] = call.body.model_dump(mode="json")
    return document


POLICY_COMMANDS: tuple[Command, ...] = (
    Command(
        "define_policy", "POST", POLICIES,
        "Define an SLA policy (`SlaPolicy.Defined`); the active one changed last is in force. "
        "Admins only. Answers 201 with a Location.",
        PolicyAccepted, target="new_policy", body=PolicyDocument, status_code=201, tag=TAG,
        roles=(Role.ADMIN,),
        new_policy=lambda actor, policy_id, c: SlaPolicy.define(
            actor, policy_id=policy_id, document=_document(c)
        ),
    ),
    Command(
        "change_policy", "PUT", f"{POLICIES}/{{policy_id}}",
        "Replace a policy's document (`SlaPolicy.Changed`); running clocks keep theirs. "
        "Admins only.",
        PolicyAccepted, target="policy", body=PolicyDocument, tag=TAG, roles=(Role.ADMIN,),
        policy=lambda p, actor, c: p.change(actor, document=_document(c)),
    ),
)  # fmt: skip


async def run_policy(
    policies: SlaPolicyService | None,
    command: Command,
    context: CommandContext,
    ids: Mapping[str, UUID],
    call: Call,
) -> Answer:
    """Execute a policy command ("new_policy" or "policy" target)."""
    if policies is None:
        raise RuntimeError("this runner has no SLA policy service")
    if command.target == "new_policy":
        opener = command.new_policy
        assert opener is not None
        result = await policies.open(context, lambda actor, pid: opener(actor, pid, call))
        location = f"{POLICIES}/{result.case_id}"
    else:
        decide = command.policy
        assert decide is not None
        result = await policies.execute(
            context, ids["policy_id"], lambda policy, actor: decide(policy, actor, call)
        )
        location = None
    answer = PolicyAccepted(
        policy_id=result.case_id, version=result.version, position=result.position
    )
    return Answer(answer, location)

"""`swarmdesk demo`: a realistic scenario written through the application services.

Runs in-process (no HTTP) against the configured store, exactly as the API would: every
command goes through `CaseService` / `AgentService`, so every rule is checked. Safe to run
again: profiles are updated, and every run opens new cases (no idempotency keys reused).

The scenario: five agents register their skills; two cases are resolved on first touch;
one case swarms (request, invitations, a decline, a join by invitation and one by offering
help, briefing acknowledgements, insights, a rejected then an accepted proposal, resolved
and closed); one case is escalated in priority and handed over to another owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from app.auth.tokens import Principal
from app.bootstrap import Services
from app.service.agents import AgentService
from app.service.cases import CaseCommand, CaseService
from app.service.context import CommandContext
from domain.actors import Actor, Role
from domain.agent import agent_id_for
from domain.case import Case

AGENTS: dict[str, dict[str, Any]] = {
    "ana": {"name": "Ana Concierge", "skills": {"billing": 3, "accounts": 4}},
    "ben": {"name": "Ben Payments", "skills": {"payments": 5, "3ds": 4}, "interests": ["fraud"]},
    "chen": {"name": "Chen Identity", "skills": {"sso": 5, "saml": 4}, "timezone": "Asia/Tokyo"},
    "dara": {"name": "Dara Webhooks", "skills": {"webhooks": 4, "queues": 3}},
    "sam": {"name": "Sam Supervisor", "skills": {"payments": 2}, "capacity": 1},
}


@dataclass
class DemoReport:
    """What the demo wrote: cases opened, commands run, the last position."""

    cases: list[UUID] = field(default_factory=list)
    commands: int = 0
    position: int = 0


class Demo:
    """Issues the scenario's commands as given principals."""

    def __init__(self, cases: CaseService, agents: AgentService) -> None:
        self.cases = cases
        self.agents = agents
        self.report = DemoReport()

    @staticmethod
    def who(subject: str) -> Principal:
        role = Role.SUPERVISOR if subject == "sam" else Role.AGENT
        return Principal(subject, AGENTS[subject]["name"], role)

    async def open(self, as_subject: str, **fields: Any) -> UUID:
        context = CommandContext(self.who(as_subject))
        result = await self.cases.open(
            context, lambda actor, case_id: Case.open(actor, case_id=case_id, **fields)
        )
        self._count(result.position)
        self.report.cases.append(result.case_id)
        return result.case_id

    async def do(self, subject: str, case_id: UUID, command: CaseCommand) -> None:
        result = await self.cases.execute(case_id, CommandContext(self.who(subject)), command)
        self._count(result.position)

    def _count(self, position: int) -> None:
        self.report.commands += 1
        self.report.position = max(self.report.position, position)


async def run_demo(services: Services) -> DemoReport:
    """Write the whole scenario; returns what was written."""
    demo = Demo(services.cases, services.agents)
    for subject, profile in AGENTS.items():
        result = await demo.agents.put_me(CommandContext(demo.who(subject)), profile)
        demo._count(result.position)
    await _first_touch(demo)
    await _swarm(demo)
    await _handover(demo)
    return demo.report


async def _first_touch(demo: Demo) -> None:
    for customer, subject, answer in (
        ("Globex", "Cannot download last month's invoice", "Re-sent the invoice link."),
        ("Initech", "Password reset email not arriving", "Address had a typo; fixed."),
    ):
        case_id = await demo.open("ana", customer=customer, subject=subject, channel="email")
        await demo.do("ana", case_id, _context("symptom", subject))
        await demo.do("ana", case_id, _resolve(answer))
        await demo.do("ana", case_id, lambda c, a: c.close(a, note="customer confirmed"))


async def _swarm(demo: Demo) -> None:
    ben, chen = agent_id_for("ben"), agent_id_for("chen")
    case_id = await demo.open(
        "ana",
        customer="Acme Corp",
        subject="Checkout fails after the 3-D Secure challenge",
        description="Every EU card payment returns card_declined since 09:40 UTC.",
        product_area="payments",
        priority="high",
        channel="phone",
    )
    await demo.do("ana", case_id, _context("symptom", "HTTP 402 after a successful 3DS step"))
    await demo.do("ana", case_id, _context("environment", "EU region, API version 2024-06"))
    await demo.do("ana", case_id, _context("step_tried", "Retried with a test card: same error"))
    await demo.do(
        "ana",
        case_id,
        lambda c, a: c.request_swarm(
            a,
            request_id=_uuid(),
            help_needed="Someone who knows the 3DS retry path",
            skills_wanted=["payments", "3ds"],
            urgency="high",
        ),
    )
    await demo.do("ana", case_id, _invite(ben, "You wrote the retry path"))
    await demo.do("ana", case_id, _invite(chen, "Could be the SSO proxy"))
    await demo.do("chen", case_id, lambda c, a: c.decline_invitation(a, reason="Not SSO-related"))
    await demo.do("ben", case_id, lambda c, a: c.join(a))
    await demo.do("dara", case_id, lambda c, a: c.join(a))  # offers help on the open request
    for subject in ("ben", "dara"):
        await demo.do(subject, case_id, lambda c, a: c.acknowledge_briefing(a, version=c.version))
    first, second = _uuid(), _uuid()
    await demo.do(
        "ben",
        case_id,
        lambda c, a: c.post_insight(
            a, insight_id=first, kind="finding", text="The retry drops the 3DS result"
        ),
    )
    await demo.do(
        "dara",
        case_id,
        lambda c, a: c.post_insight(
            a,
            insight_id=second,
            kind="hypothesis",
            text="Webhook replay may re-trigger the decline",
            refers_to=[first],
        ),
    )
    rejected, accepted = _uuid(), _uuid()
    await demo.do(
        "dara",
        case_id,
        lambda c, a: c.propose_resolution(
            a, proposal_id=rejected, summary="Disable webhook replay", cites=[second]
        ),
    )
    await demo.do(
        "ana",
        case_id,
        lambda c, a: c.reject_proposal(a, proposal_id=rejected, reason="Replay is not involved"),
    )
    await demo.do(
        "ben",
        case_id,
        lambda c, a: c.propose_resolution(
            a,
            proposal_id=accepted,
            summary="Deploy the retry fix (build 4.2.1)",
            steps=["Roll out 4.2.1 to EU", "Ask the customer to retry"],
            cites=[first],
        ),
    )
    await demo.do("ana", case_id, lambda c, a: c.accept_proposal(a, proposal_id=accepted))
    await demo.do(
        "ana",
        case_id,
        lambda c, a: c.log_customer_message(
            a, message_id=_uuid(), direction="outbound", text="Fix deployed, please retry."
        ),
    )
    await demo.do("ana", case_id, lambda c, a: c.resolve(a, summary="Retry fix deployed"))
    await demo.do("ana", case_id, lambda c, a: c.close(a, note="Customer confirmed"))


async def _handover(demo: Demo) -> None:
    case_id = await demo.open(
        "ana",
        customer="Umbrella",
        subject="Webhook deliveries delayed by 20 minutes",
        product_area="webhooks",
    )
    await demo.do("ana", case_id, _context("hypothesis", "Queue backlog after the deploy"))
    await demo.do(
        "sam",
        case_id,
        lambda c, a: c.change_priority(a, priority="urgent", reason="Affects all EU tenants"),
    )
    await demo.do(
        "sam",
        case_id,
        lambda c, a: c.transfer_ownership(
            a,
            to_owner_id=agent_id_for("dara"),
            to_owner_name=AGENTS["dara"]["name"],
            handoff_note="Ana is off shift; Dara owns the queues",
        ),
    )


def _context(kind: str, text: str) -> CaseCommand:
    def command(case: Case, actor: Actor) -> None:
        case.add_context(actor, context_id=_uuid(), kind=kind, text=text)

    return command


def _invite(expert_id: UUID, reason: str) -> CaseCommand:
    def command(case: Case, actor: Actor) -> None:
        case.invite_expert(actor, invitation_id=_uuid(), expert_id=expert_id, reason=reason)

    return command


def _resolve(summary: str) -> CaseCommand:
    def command(case: Case, actor: Actor) -> None:
        case.resolve(actor, summary=summary)

    return command


def _uuid() -> UUID:
    return uuid.uuid4()

"""The declared table of commands: each command once, as data.

A `Command` says how it is reached (method, path), what it takes (a body model, or
query parameters), what it answers (a result model), what it creates (the server-chosen
id and the result field naming it), its documentation, and the domain call it makes.
The HTTP routes, the OpenAPI document and the fast dispatcher are all generated from
`COMMANDS` (`app.http.commands`, `app.http.dispatcher`); `CommandRunner.run` is the one
place a declared command is executed, whichever path the request took.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from app.auth.tokens import Principal
from app.schemas import case_commands as cmd
from app.schemas import outcomes as oc
from app.schemas.agents import AgentProfile
from app.schemas.results import (
    CommandAccepted,
    ContextAdded,
    ExpertInvited,
    InsightPosted,
    MessageLogged,
    ProfileSaved,
    ResolutionProposed,
    SwarmRequested,
)
from app.service.agents import AgentService
from app.service.article_commands import ARTICLE_COMMANDS, run_article
from app.service.articles import ArticleService
from app.service.cases import CaseService, can_see, can_see_solution
from app.service.command_spec import NO_ID, Answer, Call, Command
from app.service.context import CommandContext
from app.service.errors import CommandTimedOut, NotPermitted
from app.service.policy_commands import POLICY_COMMANDS, run_policy
from app.service.repository import CommandResult
from app.service.sla_policies import SlaPolicyService
from app.telemetry import logs
from app.telemetry.metrics import Metrics
from app.telemetry.tracing import Tracing
from domain.case import Case

__all__ = ["COMMANDS", "NO_ID", "Answer", "Call", "Command", "CommandRunner"]


CASES = "/api/cases"
CASE = "/api/cases/{case_id}"

COMMANDS: tuple[Command, ...] = (
    Command(
        "open_case", "POST", CASES,
        "Open a case; the caller becomes its owner (`Opened`). Answers 201 with a Location.",
        CommandAccepted, target="new_case", body=cmd.OpenCase, creates="case", status_code=201,
        open=lambda actor, case_id, c: Case.open(actor, case_id=case_id, **c.body.model_dump()),
    ),
    Command(
        "add_context", "POST", f"{CASE}/context",
        "Add structured context: symptom, environment, step tried, hypothesis (`ContextAdded`).",
        ContextAdded, body=cmd.AddContext, creates="context",
        decide=lambda case, actor, c: case.add_context(
            actor, context_id=c.new_id, kind=c.body.kind, text=c.body.text
        ),
    ),
    Command(
        "log_customer_message", "POST", f"{CASE}/customer-messages",
        "The owner logs a contact with the customer (`CustomerMessageLogged`).",
        MessageLogged, body=cmd.LogCustomerMessage, creates="message",
        decide=lambda case, actor, c: case.log_customer_message(
            actor, message_id=c.new_id, direction=c.body.direction, text=c.body.text
        ),
    ),
    Command(
        "request_swarm", "POST", f"{CASE}/swarm",
        "The owner asks for help (`SwarmRequested`); every agent may then offer to join.",
        SwarmRequested, body=cmd.RequestSwarm, creates="swarm-request",
        creates_field="request_id",
        decide=lambda case, actor, c: case.request_swarm(
            actor,
            request_id=c.new_id,
            help_needed=c.body.help_needed,
            skills_wanted=c.body.skills_wanted,
            urgency=c.body.urgency,
        ),
    ),
    Command(
        "invite_expert", "POST", f"{CASE}/invitations",
        "The owner invites a named expert, saying why (`ExpertInvited`).",
        ExpertInvited, body=cmd.InviteExpert, creates="invitation",
        decide=lambda case, actor, c: case.invite_expert(
            actor,
            invitation_id=c.new_id,
            expert_id=c.body.expert_id,
            expert_name=c.body.expert_name,
            reason=c.body.reason,
            expires_at=expiry(c.body.expires_in_seconds),
        ),
    ),
    Command(
        "decline_invitation", "POST", f"{CASE}/invitations/decline",
        "The invited caller declines its pending invitation (`InvitationDeclined`).",
        CommandAccepted, body=cmd.DeclineInvitation, body_required=False,
        decide=lambda case, actor, c: case.decline_invitation(
            actor, reason=c.body.reason if c.body else ""
        ),
    ),
    Command(
        "join_case", "POST", f"{CASE}/participants",
        "The caller joins, by its invitation or an open swarm request (`ExpertJoined`).",
        CommandAccepted, body=cmd.JoinCase, body_required=False,
        decide=lambda case, actor, c: case.join(
            actor, expert_name=c.body.expert_name if c.body else ""
        ),
    ),
    Command(
        "leave_case", "DELETE", f"{CASE}/participants/me",
        "The caller (a participant, not the owner) leaves the case (`ExpertLeft`).",
        CommandAccepted, query=cmd.LeaveCase,
        decide=lambda case, actor, c: case.leave(actor, note=c.body.note),
    ),
    Command(
        "acknowledge_briefing", "POST", f"{CASE}/briefing-acks",
        "A participant confirms having read the case at `version` (`BriefingAcknowledged`).",
        CommandAccepted, body=cmd.AcknowledgeBriefing,
        decide=lambda case, actor, c: case.acknowledge_briefing(actor, version=c.body.version),
    ),
    Command(
        "post_insight", "POST", f"{CASE}/insights",
        "A participant posts a finding, question, answer or hypothesis (`InsightPosted`).",
        InsightPosted, body=cmd.PostInsight, creates="insight",
        decide=lambda case, actor, c: case.post_insight(
            actor,
            insight_id=c.new_id,
            kind=c.body.kind,
            text=c.body.text,
            refers_to=c.body.refers_to,
            mentions=c.body.mentions,
        ),
    ),
    Command(
        "propose_resolution", "POST", f"{CASE}/proposals",
        "A participant proposes a resolution citing insights (`ResolutionProposed`).",
        ResolutionProposed, body=cmd.ProposeResolution, creates="proposal",
        decide=lambda case, actor, c: case.propose_resolution(
            actor,
            proposal_id=c.new_id,
            summary=c.body.summary,
            steps=c.body.steps,
            cites=c.body.cites,
        ),
    ),
    Command(
        "accept_proposal", "POST", f"{CASE}/proposals/{{proposal_id}}/accept",
        "The owner accepts an open proposal (`ProposalAccepted`).",
        CommandAccepted,
        decide=lambda case, actor, c: case.accept_proposal(
            actor, proposal_id=c.ids["proposal_id"]
        ),
    ),
    Command(
        "reject_proposal", "POST", f"{CASE}/proposals/{{proposal_id}}/reject",
        "The owner rejects an open proposal, saying why (`ProposalRejected`).",
        CommandAccepted, body=cmd.RejectProposal,
        decide=lambda case, actor, c: case.reject_proposal(
            actor, proposal_id=c.ids["proposal_id"], reason=c.body.reason
        ),
    ),
    Command(
        "resolve_case", "POST", f"{CASE}/resolve",
        "The owner resolves, citing the accepted proposal if there is one (`Resolved`).",
        CommandAccepted, body=cmd.ResolveCase,
        decide=lambda case, actor, c: case.resolve(
            actor, summary=c.body.summary, proposal_id=c.body.proposal_id
        ),
    ),
    Command(
        "reopen_case", "POST", f"{CASE}/reopen",
        "The owner or a supervisor reopens a resolved or closed case (`Reopened`).",
        CommandAccepted, body=cmd.ReopenCase,
        decide=lambda case, actor, c: case.reopen(actor, reason=c.body.reason),
    ),
    Command(
        "close_case", "POST", f"{CASE}/close",
        "The owner closes the case (`Closed`).",
        CommandAccepted, body=cmd.CloseCase, body_required=False,
        decide=lambda case, actor, c: case.close(actor, note=c.body.note if c.body else ""),
    ),
    Command(
        "transfer_ownership", "POST", f"{CASE}/owner",
        "The owner or a supervisor hands the case over (`OwnershipTransferred`).",
        CommandAccepted, body=cmd.TransferOwnership,
        decide=lambda case, actor, c: case.transfer_ownership(
            actor,
            to_owner_id=c.body.to_owner_id,
            to_owner_name=c.body.to_owner_name,
            handoff_note=c.body.handoff_note,
        ),
    ),
    Command(
        "change_priority", "POST", f"{CASE}/priority",
        "The owner or a supervisor changes the priority, saying why (`PriorityChanged`).",
        CommandAccepted, body=cmd.ChangePriority,
        decide=lambda case, actor, c: case.change_priority(
            actor, priority=c.body.priority, reason=c.body.reason
        ),
    ),
    Command(
        "await_customer", "POST", f"{CASE}/awaiting-customer",
        "The owner says the case waits on the customer, pausing SLA clocks (`AwaitingCustomer`).",
        CommandAccepted, body=oc.AwaitCustomer, tag="outcomes",
        decide=lambda case, actor, c: case.await_customer(
            actor, awaiting=c.body.awaiting, note=c.body.note
        ),
    ),
    Command(
        "record_satisfaction", "POST", f"{CASE}/satisfaction",
        "Record customer satisfaction, 1 to 5 (`SatisfactionRecorded`).",
        CommandAccepted, body=oc.RecordSatisfaction, tag="outcomes",
        decide=lambda case, actor, c: case.record_satisfaction(
            actor, score=c.body.score, comment=c.body.comment, source=c.body.source
        ),
    ),
    Command(
        "reuse_solved_case", "POST", f"{CASE}/reuses",
        "Link a solved case to the open case it helped solve (the caller sees that case); "
        "counts for the people who solved it, as an article's reuse (`SolutionReused`).",
        CommandAccepted, body=cmd.ReuseSolvedCase, tag="knowledge commands", solved=True,
        decide=lambda case, actor, c: case.record_reuse(actor, for_case_id=c.body.case_id),
    ),
    Command(
        "put_my_profile", "PUT", "/api/agents/me",
        "Register (first call) or update the caller's profile (`Registered`/`ProfileUpdated`).",
        ProfileSaved, target="agent", body=AgentProfile, tag="agent commands",
    ),
    *ARTICLE_COMMANDS,
    *POLICY_COMMANDS,
)  # fmt: skip


class CommandRunner:
    """Runs a declared command for a caller: the one execution path of every command."""

    def __init__(
        self,
        cases: CaseService,
        agents: AgentService,
        deadline: float = 10.0,
        *,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        articles: ArticleService | None = None,
        policies: SlaPolicyService | None = None,
    ) -> None:
        self.cases = cases
        self.agents = agents
        self.articles = articles
        self.policies = policies
        self.deadline = deadline  # seconds a command may take, conflicts included
        self.metrics = metrics
        self.tracing = tracing

    async def run(
        self,
        command: Command,
        principal: Principal,
        *,
        path: str,
        ids: Mapping[str, UUID],
        body: BaseModel | None,
        idempotency_key: str | None = None,
        if_match: str | None = None,
    ) -> Answer:
        """Execute `command`; `body` is its validated body or query model (or None).
        Raises the application's, the domain's and the store's errors, and
        `CommandTimedOut` past the deadline. Its latency is observed by command and
        outcome ("ok" or the error's class name); the caller and the case are bound to
        the request's log context."""
        case_id = ids.get("case_id")
        if case_id is not None:
            logs.bind(principal_id=principal.subject, case_id=str(case_id))
        else:
            logs.bind(principal_id=principal.subject)
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with asyncio.timeout(self.deadline):
                if self.tracing is None or not self.tracing.recording():
                    return await self._run(
                        command, principal, path, ids, body, idempotency_key, if_match
                    )
                with self.tracing.span(f"command {command.name}", command=command.name):
                    return await self._run(
                        command, principal, path, ids, body, idempotency_key, if_match
                    )
        except TimeoutError:
            outcome = CommandTimedOut.__name__
            raise CommandTimedOut(command.name, self.deadline) from None
        except BaseException as exc:
            outcome = type(exc).__name__
            raise
        finally:
            if self.metrics is not None:
                self.metrics.observe_command(command.name, outcome, time.perf_counter() - started)

    async def _run(
        self,
        command: Command,
        principal: Principal,
        path: str,
        ids: Mapping[str, UUID],
        body: BaseModel | None,
        idempotency_key: str | None,
        if_match: str | None,
    ) -> Answer:
        if command.roles and principal.role not in command.roles:
            allowed = ", ".join(r.value for r in command.roles)
            raise NotPermitted(f"this needs one of the roles: {allowed}", role=principal.role)
        fingerprinted = None if body is None else body.model_dump(mode="json")
        context = CommandContext.of(
            principal,
            method=command.method,
            path=path,
            body=fingerprinted,
            idempotency_key=idempotency_key,
            if_match=if_match,
        )
        new_id = context.new_id(command.creates) if command.creates else NO_ID
        call = Call(body, ids, new_id)
        if command.target == "agent":
            assert isinstance(body, AgentProfile)
            saved = await self.agents.put_me(context, body.model_dump())
            fields = {"agent_id": saved.case_id, "version": saved.version}
            return Answer(command.result(**fields, position=saved.position))
        if command.target in ("article", "new_article"):
            return await run_article(self.articles, command, context, ids, call)
        if command.target in ("policy", "new_policy"):
            return await run_policy(self.policies, command, context, ids, call)
        if command.target == "new_case":
            opener = command.open
            assert opener is not None
            result = await self.cases.open(
                context, lambda actor, case_id: opener(actor, case_id, call)
            )
            return Answer(_result(command, result, new_id), f"{CASES}/{result.case_id}")
        decide = command.decide
        assert decide is not None
        visible = can_see
        if command.solved:  # the caller must see the case helped, named by the body
            context.refuse_service()
            await self.cases.check_visible(call.body.case_id, context.principal.actor)
            visible = can_see_solution
        result = await self.cases.execute(
            ids["case_id"], context, lambda case, actor: decide(case, actor, call), visible=visible
        )
        return Answer(_result(command, result, new_id))


def expiry(seconds: int | None) -> datetime | None:
    """When an invitation sent now expires, for `expires_in_seconds` (None: never)."""
    return None if seconds is None else datetime.now(UTC) + timedelta(seconds=seconds)


def _result(command: Command, result: CommandResult, new_id: UUID) -> BaseModel:
    fields: dict[str, Any] = result.as_dict()
    name = command.result_id_field
    if name is not None:
        fields[name] = new_id
    return command.result(**fields)

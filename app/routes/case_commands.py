"""Case commands that open a case and build it up: context, customer messages, swarm
requests, invitations, joining, leaving, briefing acknowledgements.

Every route: parse (strict body, 422), one call to `CaseService`, respond with
`{case_id, version, position}` (plus the id of what it created). Access and rules are the
service's and the domain's (see `app.cases`).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response

from app.routes.commander import CommanderDep
from app.schemas import case_commands as cmd
from app.schemas.results import (
    COMMAND_PROBLEMS,
    CommandAccepted,
    ContextAdded,
    ExpertInvited,
    MessageLogged,
    SwarmRequested,
)
from domain.actors import Actor
from domain.case import Case

router = APIRouter(prefix="/api/cases", tags=["case commands"], responses=COMMAND_PROBLEMS)


@router.post("", status_code=201, response_model=CommandAccepted)
async def open_case(
    body: cmd.OpenCase, commander: CommanderDep, response: Response
) -> CommandAccepted:
    """Open a case; the caller becomes its owner (`Opened`). Answers 201 with a Location."""
    context = commander.context(body)

    def opener(actor: Actor, case_id: UUID) -> Case:
        return Case.open(actor, case_id=case_id, **body.model_dump())

    result = await commander.cases.open(context, opener)
    response.headers["Location"] = f"/api/cases/{result.case_id}"
    return CommandAccepted(case_id=result.case_id, version=result.version, position=result.position)


@router.post("/{case_id}/context", response_model=ContextAdded)
async def add_context(case_id: UUID, body: cmd.AddContext, commander: CommanderDep) -> ContextAdded:
    """Add structured context: symptom, environment, step tried, hypothesis (`ContextAdded`)."""
    context = commander.context(body)
    new_id = context.new_id("context")
    result = await commander.cases.execute(
        case_id,
        context,
        lambda case, actor: case.add_context(
            actor, context_id=new_id, kind=body.kind, text=body.text
        ),
    )
    return ContextAdded(**result.as_dict(), context_id=new_id)


@router.post("/{case_id}/customer-messages", response_model=MessageLogged)
async def log_customer_message(
    case_id: UUID, body: cmd.LogCustomerMessage, commander: CommanderDep
) -> MessageLogged:
    """The owner logs a contact with the customer (`CustomerMessageLogged`)."""
    context = commander.context(body)
    new_id = context.new_id("message")
    result = await commander.cases.execute(
        case_id,
        context,
        lambda case, actor: case.log_customer_message(
            actor, message_id=new_id, direction=body.direction, text=body.text
        ),
    )
    return MessageLogged(**result.as_dict(), message_id=new_id)


@router.post("/{case_id}/swarm", response_model=SwarmRequested)
async def request_swarm(
    case_id: UUID, body: cmd.RequestSwarm, commander: CommanderDep
) -> SwarmRequested:
    """The owner asks for help (`SwarmRequested`); every agent may then offer to join."""
    context = commander.context(body)
    new_id = context.new_id("swarm-request")
    result = await commander.cases.execute(
        case_id,
        context,
        lambda case, actor: case.request_swarm(
            actor,
            request_id=new_id,
            help_needed=body.help_needed,
            skills_wanted=body.skills_wanted,
            urgency=body.urgency,
        ),
    )
    return SwarmRequested(**result.as_dict(), request_id=new_id)


@router.post("/{case_id}/invitations", response_model=ExpertInvited)
async def invite_expert(
    case_id: UUID, body: cmd.InviteExpert, commander: CommanderDep
) -> ExpertInvited:
    """The owner invites a named expert, saying why (`ExpertInvited`)."""
    context = commander.context(body)
    new_id = context.new_id("invitation")
    result = await commander.cases.execute(
        case_id,
        context,
        lambda case, actor: case.invite_expert(
            actor,
            invitation_id=new_id,
            expert_id=body.expert_id,
            expert_name=body.expert_name,
            reason=body.reason,
        ),
    )
    return ExpertInvited(**result.as_dict(), invitation_id=new_id)


@router.post("/{case_id}/invitations/decline", response_model=CommandAccepted)
async def decline_invitation(
    case_id: UUID, commander: CommanderDep, body: cmd.DeclineInvitation | None = None
) -> CommandAccepted:
    """The invited caller declines its pending invitation (`InvitationDeclined`)."""
    reason = body.reason if body else ""
    result = await commander.cases.execute(
        case_id,
        commander.context(body),
        lambda case, actor: case.decline_invitation(actor, reason=reason),
    )
    return CommandAccepted(**result.as_dict())


@router.post("/{case_id}/participants", response_model=CommandAccepted)
async def join_case(
    case_id: UUID, commander: CommanderDep, body: cmd.JoinCase | None = None
) -> CommandAccepted:
    """The caller joins, by its invitation or an open swarm request (`ExpertJoined`)."""
    name = body.expert_name if body else ""
    result = await commander.cases.execute(
        case_id, commander.context(body), lambda case, actor: case.join(actor, expert_name=name)
    )
    return CommandAccepted(**result.as_dict())


@router.delete("/{case_id}/participants/me", response_model=CommandAccepted)
async def leave_case(
    case_id: UUID,
    commander: CommanderDep,
    note: Annotated[str, Query(max_length=2000, description="optional parting note")] = "",
) -> CommandAccepted:
    """The caller (a participant, not the owner) leaves the case (`ExpertLeft`)."""
    context = commander.context({"note": note})
    result = await commander.cases.execute(
        case_id, context, lambda case, actor: case.leave(actor, note=note)
    )
    return CommandAccepted(**result.as_dict())


@router.post("/{case_id}/briefing-acks", response_model=CommandAccepted)
async def acknowledge_briefing(
    case_id: UUID,
    commander: CommanderDep,
    body: Annotated[cmd.AcknowledgeBriefing, Body()],
) -> CommandAccepted:
    """A participant confirms having read the case at `version` (`BriefingAcknowledged`)."""
    result = await commander.cases.execute(
        case_id,
        commander.context(body),
        lambda case, actor: case.acknowledge_briefing(actor, version=body.version),
    )
    return CommandAccepted(**result.as_dict())

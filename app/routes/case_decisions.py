"""Case commands that decide: insights, proposals and their acceptance or rejection,
resolve, reopen, close, ownership transfer and priority changes.

Every route: parse (strict body, 422), one call to `CaseService`, respond with
`{case_id, version, position}` (plus the id of what it created).
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from app.routes.commander import CommanderDep
from app.schemas import case_commands as cmd
from app.schemas.results import (
    COMMAND_PROBLEMS,
    CommandAccepted,
    InsightPosted,
    ResolutionProposed,
)

router = APIRouter(prefix="/api/cases", tags=["case commands"], responses=COMMAND_PROBLEMS)


@router.post("/{case_id}/insights", response_model=InsightPosted)
async def post_insight(
    case_id: UUID, body: cmd.PostInsight, commander: CommanderDep
) -> InsightPosted:
    """A participant posts a finding, question, answer or hypothesis (`InsightPosted`)."""
    context = commander.context(body)
    new_id = context.new_id("insight")
    result = await commander.cases.execute(
        case_id,
        context,
        lambda case, actor: case.post_insight(
            actor,
            insight_id=new_id,
            kind=body.kind,
            text=body.text,
            refers_to=body.refers_to,
            mentions=body.mentions,
        ),
    )
    return InsightPosted(**result.as_dict(), insight_id=new_id)


@router.post("/{case_id}/proposals", response_model=ResolutionProposed)
async def propose_resolution(
    case_id: UUID, body: cmd.ProposeResolution, commander: CommanderDep
) -> ResolutionProposed:
    """A participant proposes a resolution citing insights (`ResolutionProposed`)."""
    context = commander.context(body)
    new_id = context.new_id("proposal")
    result = await commander.cases.execute(
        case_id,
        context,
        lambda case, actor: case.propose_resolution(
            actor, proposal_id=new_id, summary=body.summary, steps=body.steps, cites=body.cites
        ),
    )
    return ResolutionProposed(**result.as_dict(), proposal_id=new_id)


@router.post("/{case_id}/proposals/{proposal_id}/accept", response_model=CommandAccepted)
async def accept_proposal(
    case_id: UUID, proposal_id: UUID, commander: CommanderDep
) -> CommandAccepted:
    """The owner accepts an open proposal (`ProposalAccepted`)."""
    result = await commander.cases.execute(
        case_id,
        commander.context(),
        lambda case, actor: case.accept_proposal(actor, proposal_id=proposal_id),
    )
    return CommandAccepted(**result.as_dict())


@router.post("/{case_id}/proposals/{proposal_id}/reject", response_model=CommandAccepted)
async def reject_proposal(
    case_id: UUID, proposal_id: UUID, body: cmd.RejectProposal, commander: CommanderDep
) -> CommandAccepted:
    """The owner rejects an open proposal, saying why (`ProposalRejected`)."""
    result = await commander.cases.execute(
        case_id,
        commander.context(body),
        lambda case, actor: case.reject_proposal(
            actor, proposal_id=proposal_id, reason=body.reason
        ),
    )
    return CommandAccepted(**result.as_dict())


@router.post("/{case_id}/resolve", response_model=CommandAccepted)
async def resolve_case(
    case_id: UUID, body: cmd.ResolveCase, commander: CommanderDep
) -> CommandAccepted:
    """The owner resolves, citing the accepted proposal if there is one (`Resolved`)."""
    result = await commander.cases.execute(
        case_id,
        commander.context(body),
        lambda case, actor: case.resolve(actor, summary=body.summary, proposal_id=body.proposal_id),
    )
    return CommandAccepted(**result.as_dict())


@router.post("/{case_id}/reopen", response_model=CommandAccepted)
async def reopen_case(
    case_id: UUID, body: cmd.ReopenCase, commander: CommanderDep
) -> CommandAccepted:
    """The owner or a supervisor reopens a resolved or closed case (`Reopened`)."""
    result = await commander.cases.execute(
        case_id, commander.context(body), lambda case, actor: case.reopen(actor, reason=body.reason)
    )
    return CommandAccepted(**result.as_dict())


@router.post("/{case_id}/close", response_model=CommandAccepted)
async def close_case(
    case_id: UUID, commander: CommanderDep, body: cmd.CloseCase | None = None
) -> CommandAccepted:
    """The owner closes the case (`Closed`)."""
    note = body.note if body else ""
    result = await commander.cases.execute(
        case_id, commander.context(body), lambda case, actor: case.close(actor, note=note)
    )
    return CommandAccepted(**result.as_dict())


@router.post("/{case_id}/owner", response_model=CommandAccepted)
async def transfer_ownership(
    case_id: UUID, body: cmd.TransferOwnership, commander: CommanderDep
) -> CommandAccepted:
    """The owner or a supervisor hands the case over (`OwnershipTransferred`)."""
    result = await commander.cases.execute(
        case_id,
        commander.context(body),
        lambda case, actor: case.transfer_ownership(
            actor,
            to_owner_id=body.to_owner_id,
            to_owner_name=body.to_owner_name,
            handoff_note=body.handoff_note,
        ),
    )
    return CommandAccepted(**result.as_dict())


@router.post("/{case_id}/priority", response_model=CommandAccepted)
async def change_priority(
    case_id: UUID, body: cmd.ChangePriority, commander: CommanderDep
) -> CommandAccepted:
    """The owner or a supervisor changes the priority, saying why (`PriorityChanged`)."""
    result = await commander.cases.execute(
        case_id,
        commander.context(body),
        lambda case, actor: case.change_priority(actor, priority=body.priority, reason=body.reason),
    )
    return CommandAccepted(**result.as_dict())

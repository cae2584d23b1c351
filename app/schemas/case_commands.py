"""Request bodies of the case commands (`/api/cases...`), one model per command.

Each model carries an OpenAPI example. Enumerations are the domain's own (`domain.values`),
so the schema lists the allowed values and an unknown one is a 422 before the domain runs.
Ids of new elements (context, messages, swarm requests, invitations, insights, proposals)
are chosen by the server, never by the body (see `CommandContext.new_id`).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.schemas.base import (
    LINE_MAX,
    IdList,
    Line,
    Name,
    NameList,
    OptionalLine,
    OptionalName,
    OptionalText,
    StrictModel,
    Text,
)
from domain.values import Channel, ContextKind, InsightKind, MessageDirection, Priority, Urgency

EXPERT = "5a3c8f0e-2b1d-5e7f-9a4b-1c2d3e4f5a6b"
INSIGHT = "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"


def _example(**fields: JsonValue) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [fields]})


class OpenCase(StrictModel):
    """Take a case: the caller becomes its owner (concierge)."""

    model_config = _example(
        customer="Acme Corp",
        customer_contact="ops@acme.example",
        subject="Checkout fails after the 3-D Secure challenge",
        description="Since 09:40 UTC every card payment returns card_declined.",
        product_area="payments",
        priority="high",
        channel="email",
    )
    customer: Name
    subject: Line
    customer_contact: OptionalName = ""
    description: OptionalText = ""
    product_area: OptionalName = ""
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.OTHER


class AddContext(StrictModel):
    """Structured context the briefing is built from."""

    model_config = _example(kind="symptom", text="HTTP 402 from the gateway after 3DS.")
    kind: ContextKind
    text: Text


class LogCustomerMessage(StrictModel):
    """The owner logs a contact with the customer."""

    model_config = _example(direction="outbound", text="We are investigating; next update 11:00.")
    direction: MessageDirection
    text: Text


class RequestSwarm(StrictModel):
    """The owner raises a hand: what help is needed, from which skills, how urgently."""

    model_config = _example(
        help_needed="Need someone who knows the 3DS retry path",
        skills_wanted=["payments", "3ds"],
        urgency="high",
    )
    help_needed: Line
    skills_wanted: NameList = Field(default_factory=list)
    urgency: Urgency = Urgency.NORMAL


class InviteExpert(StrictModel):
    """The owner invites a named expert (an agent id, see `GET /api/agents`)."""

    model_config = _example(
        expert_id=EXPERT, expert_name="Bea Expert", reason="You wrote the retry path."
    )
    expert_id: UUID
    expert_name: OptionalName = ""
    reason: Line
    expires_in_seconds: Annotated[int, Field(ge=60, le=30 * 86_400, strict=True)] | None = Field(
        default=None,
        description="unanswered this long (60 s to 30 days), the invitation expires "
        "(`InvitationExpired`) and the owner sees the next suggestion; none: never",
    )


class DeclineInvitation(StrictModel):
    """The invited caller declines, optionally saying why."""

    model_config = _example(reason="On call for an outage until 14:00.")
    reason: OptionalLine = ""


class JoinCase(StrictModel):
    """The caller joins, by invitation or by offering help on an open swarm request."""

    model_config = _example(expert_name="Bea Expert")
    expert_name: OptionalName = ""


class AcknowledgeBriefing(StrictModel):
    """The caller confirms having read the case as of `version`."""

    model_config = _example(version=3)
    version: int = Field(ge=1, le=2**31 - 1, strict=True)


class PostInsight(StrictModel):
    """A finding, question, answer or hypothesis, optionally referring to earlier insights."""

    model_config = _example(
        kind="finding",
        text="The retry drops the authentication result.",
        refers_to=[INSIGHT],
        mentions=[EXPERT],
    )
    kind: InsightKind
    text: Text
    refers_to: IdList = Field(default_factory=list)
    mentions: IdList = Field(default_factory=list)


class ProposeResolution(StrictModel):
    """A resolution proposal with steps, citing the insights it rests on."""

    model_config = _example(
        summary="Deploy the retry fix",
        steps=["Roll out build 4.2.1", "Ask the customer to retry"],
        cites=[INSIGHT],
    )
    summary: Line
    steps: NameList = Field(default_factory=list)
    cites: IdList = Field(default_factory=list)


class RejectProposal(StrictModel):
    """The owner rejects a proposal, saying why."""

    model_config = _example(reason="Does not explain the EU-only failures.")
    reason: Line


class ResolveCase(StrictModel):
    """The owner resolves; `proposal_id`, if given, must be the accepted proposal."""

    model_config = _example(summary="Fixed by build 4.2.1; customer confirmed.")
    summary: Line
    proposal_id: UUID | None = None


class ReopenCase(StrictModel):
    """The owner or a supervisor reopens a resolved or closed case."""

    model_config = _example(reason="The customer reports the failure again.")
    reason: Line


class CloseCase(StrictModel):
    """The owner closes the case (resolved, abandoned or duplicate)."""

    model_config = _example(note="Customer confirmed; closing.")
    note: OptionalLine = ""


class TransferOwnership(StrictModel):
    """The owner or a supervisor hands the case to another agent, with a hand-off note."""

    model_config = _example(
        to_owner_id=EXPERT, to_owner_name="Bea Expert", handoff_note="Going on leave; see 3DS."
    )
    to_owner_id: UUID
    to_owner_name: OptionalName = ""
    handoff_note: Line


class ChangePriority(StrictModel):
    """The owner or a supervisor changes the priority, saying why."""

    model_config = _example(priority="urgent", reason="Affects every EU customer.")
    priority: Priority
    reason: Line


class ReuseSolvedCase(StrictModel):
    """The case this solved case helped solve (the caller must be able to see it)."""

    model_config = _example(case_id=EXPERT)
    case_id: UUID


class LeaveCase(BaseModel):
    """`DELETE .../participants/me` takes its optional note as a query parameter."""

    note: Annotated[str, Field(max_length=LINE_MAX, description="optional parting note")] = ""

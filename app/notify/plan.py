"""What to notify whom, from the log: a case event becomes notifications for agents, and
each notification becomes deliveries on the channels the agent chose.

Notifications (`kind`, to whom): `invitation` (the invited expert), `mention` (each agent
an insight mentions, not its author), `invitation_declined` and `invitation_expired`
(the case owner: time to invite the next suggestion), `proposal_decided` (the
proposal's author). Each carries a deep link `PUBLIC_URL/cases/{id}` into the console.

Deliveries: to each webhook subscription the agent owns when the agent's channels include
"webhook", to every subscription registered for all agents (by an admin), and to the
agent's e-mail address when the channels include "email"; only kinds a subscription's
filter names (an empty filter: all). A delivery's id is stable (`msg_` + a uuid5 of the
target, position, agent and kind), so receivers deduplicate, retries and replays reuse
it, and following a page twice creates nothing new. Deliveries to an agent's own
channels wait through the agent's quiet hours (in their time zone); those to
all-agents subscriptions do not.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.schedule import next_outside, parse_span

NAMESPACE = uuid.UUID("5b8e0c62-1f0a-4a53-9d49-2a3f0f3a9c11")
KINDS = ("invitation", "mention", "invitation_declined", "invitation_expired",
         "proposal_decided")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Notice:
    agent_id: str
    kind: str
    case_id: str
    data: dict[str, Any]


def notices(name: str, event: Any, case: Mapping[str, Any] | None) -> list[Notice]:
    """The notifications of one case event (`case`: the case view, for its owner)."""
    key = str(event.originator_id)
    if name == "ExpertInvited":
        data = {"reason": event.reason, "invited_by": str(event.invited_by),
                "expires_at": event.expires_at or None}  # fmt: skip
        return [Notice(str(event.expert_id), "invitation", key, data)]
    if name == "InsightPosted":
        author = str(event.author_id)
        data = {"author_id": author, "text": event.text}
        ids = dict.fromkeys(str(m) for m in event.mentions)
        return [Notice(a, "mention", key, data) for a in ids if a != author]
    if case is None:
        return []
    if name in ("InvitationDeclined", "InvitationExpired"):
        kind = "invitation_declined" if name == "InvitationDeclined" else "invitation_expired"
        data = {"expert_id": str(event.expert_id), "invitation_id": str(event.invitation_id)}
        return [Notice(case["owner"]["id"], kind, key, data)]
    if name in ("ProposalAccepted", "ProposalRejected"):
        proposal = case["proposals"].get(str(event.proposal_id))
        if proposal is None:
            return []
        decision = "accepted" if name == "ProposalAccepted" else "rejected"
        data = {"proposal_id": str(event.proposal_id), "decision": decision}
        return [Notice(proposal["author_id"], "proposal_decided", key, data)]
    return []


def message(notice: Notice, position: int, subject: str, public_url: str) -> dict[str, Any]:
    """The JSON document sent (webhook body; e-mail text is made from it)."""
    return {
        "type": f"swarmdesk.{notice.kind}",
        "position": position,
        "agent_id": notice.agent_id,
        "case_id": notice.case_id,
        "subject": subject,
        "link": f"{public_url.rstrip('/')}/cases/{notice.case_id}",
        "data": notice.data,
    }


def delivery_id(target: str, position: int, notice: Notice) -> str:
    name = f"{target}:{position}:{notice.agent_id}:{notice.kind}"
    return "msg_" + uuid.uuid5(NAMESPACE, name).hex


def wants(events_json: str, kind: str) -> bool:
    kinds: list[str] = json.loads(events_json)
    return not kinds or kind in kinds


def deliveries(
    notice: Notice,
    position: int,
    body: dict[str, Any],
    profile: Mapping[str, Any] | None,
    subscriptions: Sequence[Mapping[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The `deliveries` rows of one notification (see the module docstring)."""
    channels = set(profile.get("channels", [])) if profile else set()
    held = now
    if profile:
        try:
            quiet = parse_span(profile.get("quiet_hours", ""))
        except ValueError:
            quiet = None
        held = next_outside(quiet, profile.get("timezone", "UTC"), now)
    rows: list[dict[str, Any]] = []
    text = json.dumps(body)

    def row(channel: str, target: str, due: datetime) -> dict[str, Any]:
        return {
            "id": delivery_id(target, position, notice),
            "channel": channel,
            "target": target,
            "position": position,
            "kind": notice.kind,
            "payload": text,
            "status": "pending",
            "attempts": 0,
            "next_at": due.timestamp(),
            "first_at": now.timestamp(),
            "last_status": "",
            "delivered_at": None,
        }

    for sub in subscriptions:
        if not wants(sub["events"], notice.kind):
            continue
        if sub["owner_id"] == "":
            rows.append(row("webhook", sub["id"], now))
        elif sub["owner_id"] == notice.agent_id and "webhook" in channels:
            rows.append(row("webhook", sub["id"], held))
    if "email" in channels and profile and profile.get("email"):
        rows.append(row("email", notice.agent_id, held))
    return rows

"""Reducers of each agent's inbox and of agent profiles.

An inbox reducer is `(inbox, envelope, case) -> [(agent id, ops)]`: it reads the case
view as it stood *before* the event (for subjects, proposal authors, pending invitees)
and the agent's inbox (`inboxes(agent)`, None when the agent has none yet) and never
mutates either. Inbox document: {agent_id, position, items: [..]} with at most
INBOX_MAX items (oldest dropped); item kinds: "invitation" (status pending|declined|
expired|accepted|withdrawn), "mention" (an insight naming the agent), "decision" (on the
agent's proposal), and for the case's owner "invitation_declined" / "invitation_expired"
(the invitation's id; expert_id, reason (a decline's, else null), `link` the
console's case room `/cases/{id}`, whose invite picker leads with the next suggestion,
and `suggestions` the API's `/api/cases/{id}/suggestions`, which ranks who is next now:
a link, not a name, as the projection holds only what the log says and the ranking
moves with availability and the time of day).

Agent profile document ("agent" view): {agent_id, position, name, skills, interests,
timezone, availability, capacity, working_hours, working_days, quiet_hours, email,
channels, registered_at, updated_at}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.case_items import PROPOSAL, ItemSet
from projections.envelope import Doc, Envelope, Op, add, remove, replace, s, sid
from projections.inbox_index import InboxIndex

INBOX_MAX = 200

InboxLookup = Callable[[str], Doc | None]
# What a case event does to one agent's inbox: (agent, "append", item) or
# (agent, "status", (invitation id, new status)).
Intent = tuple[str, str, Any]


def new_inbox(agent: str) -> Doc:
    return {"agent_id": agent, "position": 0, "items": []}


def _append(inbox: Doc | None, agent: str, item: Doc) -> list[Op]:
    ops: list[Op] = []
    if inbox is None:
        ops.append(add("", new_inbox(agent)))
    elif len(inbox["items"]) >= INBOX_MAX:
        ops.append(remove("/items/0"))
    ops.append(add("/items/-", item))
    return ops


def _base(env: Envelope, case: Doc, kind: str, item_id: str) -> Doc:
    return {
        "id": item_id,
        "kind": kind,
        "case_id": env.key,
        "subject": case["problem"]["subject"],
        "at": env.at,
        "position": env.position,
    }


def _set_status(
    inbox: Doc | None, item_id: str, status: str, at: list[int] | None = None
) -> list[Op]:
    """Set the first pending-to-change invitation item `item_id`; `at`, when given,
    lists every index holding that id (`InboxIndex`), so no scan is needed."""
    if inbox is None:
        return []
    items = inbox["items"]
    for i in range(len(items)) if at is None else at:
        item = items[i]
        if item["id"] == item_id and item["kind"] == "invitation" and item["status"] != status:
            return [replace(f"/items/{i}/status", status)]
    return []


def inbox_changes(
    env: Envelope, case: Doc | None, inboxes: InboxLookup, items: ItemSet
) -> list[tuple[str, list[Op]]]:
    """Ops per agent inbox for one case event (without the position bookkeeping)."""
    return intent_ops(inbox_intents(env, case, items), inboxes)


def intent_ops(
    intents: list[Intent], inboxes: InboxLookup, index: InboxIndex | None = None
) -> list[tuple[str, list[Op]]]:
    """Ops per agent inbox for one event's intents (`inbox_intents`), every inbox read
    as it stood before the event; `index` (kept by the caller) spares the scans."""
    out = []
    for agent, action, payload in intents:
        inbox = inboxes(agent)
        if action == "append":
            out.append((agent, _append(inbox, agent, payload)))
        else:
            item_id, status = payload
            at = index.indexes(agent, inbox, item_id) if index is not None else None
            ops = _set_status(inbox, item_id, status, at)
            if ops:
                out.append((agent, ops))
    return out


def inbox_intents(env: Envelope, case: Doc | None, items: ItemSet) -> list[Intent]:
    """What one case event does to inboxes, from the case view as it stood before the
    event and its items (not the inboxes), so cases can be folded apart from the
    inboxes. A decided proposal is read from `items` (it may be beyond the window)."""
    e = env.event
    name = env.name
    if case is None:
        return []
    if name == "ExpertInvited":
        item = _base(env, case, "invitation", sid(e.invitation_id))
        item.update(invited_by=sid(e.invited_by), reason=e.reason, status="pending")
        item["expires_at"] = e.expires_at or None
        return [(sid(e.expert_id), "append", item)]
    if name == "InsightPosted":
        out: list[Intent] = []
        for agent in dict.fromkeys(s(e.mentions)):
            if agent == sid(e.author_id):
                continue
            item = _base(env, case, "mention", sid(e.insight_id))
            item.update(author_id=sid(e.author_id), kind_of_insight=e.kind, text=e.text)
            out.append((agent, "append", item))
        return out
    if name in ("ProposalAccepted", "ProposalRejected"):
        proposal = items.get(env.key, PROPOSAL, sid(e.proposal_id))
        if proposal is None:
            return []
        item = _base(env, case, "decision", sid(e.proposal_id))
        item.update(
            decision="accepted" if name == "ProposalAccepted" else "rejected",
            reason=getattr(e, "reason", None),
            decided_by=sid(e.decided_by),
        )
        return [(proposal["author_id"], "append", item)]
    if name in _UNANSWERED:
        return [*_invitation_updates(env, case), _owner_item(env, case)]
    return _invitation_updates(env, case)


_UNANSWERED = {
    "InvitationDeclined": "invitation_declined",
    "InvitationExpired": "invitation_expired",
}


def _owner_item(env: Envelope, case: Doc) -> Intent:
    """The owner's item for a declined or expired invitation (see the module doc)."""
    e = env.event
    item = _base(env, case, _UNANSWERED[env.name], sid(e.invitation_id))
    item.update(
        expert_id=sid(e.expert_id),
        reason=(e.reason or None) if env.name == "InvitationDeclined" else None,
        link=f"/cases/{env.key}",
        suggestions=f"/api/cases/{env.key}/suggestions",
    )
    return (case["owner"]["id"], "append", item)


# The case events that may settle invitations (every other one changes no inbox).
_SETTLING = frozenset(
    (
        "InvitationDeclined",
        "InvitationExpired",
        "ExpertJoined",
        "Resolved",
        "Closed",
        "OwnershipTransferred",
    )
)


def _invitation_updates(env: Envelope, case: Doc) -> list[Intent]:
    """Invitation items whose status the case event settles."""
    e = env.event
    name = env.name
    if name not in _SETTLING:
        return []
    settled: list[tuple[str, str, str]] = []  # (agent, invitation id, status)
    pending = [inv for inv in case["invitations"].values() if inv["status"] == "pending"]
    if name == "InvitationDeclined":
        settled.append((sid(e.expert_id), sid(e.invitation_id), "declined"))
    elif name == "InvitationExpired":
        settled.append((sid(e.expert_id), sid(e.invitation_id), "expired"))
    elif name == "ExpertJoined":
        for inv in pending:
            if inv["expert_id"] == sid(e.expert_id):
                status = "accepted" if inv["id"] == s(e.invitation_id) else "withdrawn"
                settled.append((inv["expert_id"], inv["id"], status))
    elif name in ("Resolved", "Closed"):
        settled += [(inv["expert_id"], inv["id"], "withdrawn") for inv in pending]
    elif name == "OwnershipTransferred":
        settled += [
            (inv["expert_id"], inv["id"], "withdrawn")
            for inv in pending
            if inv["expert_id"] == sid(e.to_owner_id)
        ]
    return [(agent, "status", (iid, status)) for agent, iid, status in settled]


def agent_ops(view: Doc | None, env: Envelope) -> list[Op]:
    """Ops of an `Agent` event on its profile document."""
    e = env.event
    profile: dict[str, Any] = {
        "name": e.name,
        "skills": dict(e.skills),
        "interests": list(e.interests),
        "timezone": e.timezone,
        "availability": e.availability,
        "capacity": e.capacity,
        "working_hours": e.working_hours,
        "working_days": list(e.working_days),
        "quiet_hours": e.quiet_hours,
        "email": e.email,
        "channels": list(e.channels),
    }
    if view is None:
        doc = {
            "agent_id": env.key,
            "subject": getattr(e, "subject", ""),  # Registered v2 (the token's `sub`)
            "position": env.position,
            "registered_at": env.at,
            "updated_at": env.at,
            **profile,
        }
        return [add("", doc)]
    ops = [replace(f"/{k}", v) for k, v in profile.items() if view.get(k) != v]
    return [*ops, replace("/updated_at", env.at), replace("/position", env.position)]

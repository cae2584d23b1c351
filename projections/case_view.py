"""Reducers of the case view (the briefing): one pure function per event type.

Each reducer is `(view, envelope) -> ops`: it reads the view as it stands before the
event and returns RFC 6902 ops; it never mutates the view. `case_ops` adds the
bookkeeping every event shares (version, position, updated_at, timeline entry).

Document shape (all ids are str):
  case_id, version, position, opened_at, opened_position, updated_at, status, priority, channel,
  product_area, owner {id, name}, customer {name, contact},
  problem {subject, description}, context {symptom|environment|step_tried|hypothesis: [..]},
  customer_messages [..], swarm_requests {id: {.., status open|closed}},
  participants {agent id: {id, name, role owner|expert, via, joined_at, joined_version,
  left_at, left_version, note}}, invitations {id: {.., status pending|declined|accepted|
  withdrawn}}, insights {id: {..}}, proposals {id: {.., status, cited_insights [..]}},
  resolution null|{..}, closure null|{..}, acknowledgements {agent id: version},
  timeline [last TIMELINE_MAX entries {version, position, at, type, by, text}],
  timeline_total (entries ever; the full history is GET /api/cases/{id}/events).
"""

from __future__ import annotations

from collections.abc import Callable

from domain.values import ContextKind
from projections.envelope import Doc, Envelope, Op, add, remove, replace, s, sid
from projections.outcome_view import OUTCOME_REDUCERS
from projections.timeline import timeline_entry

TIMELINE_MAX = 100

Reducer = Callable[[Doc, Envelope], list[Op]]


def opened(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    owner = sid(e.owner_id)
    doc: Doc = {
        "case_id": env.key,
        "version": env.version,
        "position": env.position,
        "opened_at": env.at,
        "opened_position": env.position,
        "updated_at": env.at,
        "status": "open",
        "priority": e.priority,
        "channel": e.channel,
        "product_area": e.product_area,
        "owner": {"id": owner, "name": e.owner_name},
        "customer": {"name": e.customer, "contact": e.customer_contact},
        "problem": {"subject": e.subject, "description": e.description},
        "context": {kind.value: [] for kind in ContextKind},
        "customer_messages": [],
        "swarm_requests": {},
        "participants": {owner: _participant(owner, e.owner_name, "owner", "opened", env)},
        "invitations": {},
        "insights": {},
        "proposals": {},
        "resolution": None,
        "closure": None,
        "acknowledgements": {},
        "timeline": [],
        "timeline_total": 0,
    }
    return [add("", doc)]


def _participant(agent: str, name: str, role: str, via: str, env: Envelope) -> Doc:
    return {
        "id": agent,
        "name": name,
        "role": role,
        "via": via,
        "joined_at": env.at,
        "joined_version": env.version,
        "left_at": None,
        "left_version": None,
        "note": "",
    }


def context_added(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    item = {
        "id": sid(e.context_id),
        "author_id": sid(e.author_id),
        "text": e.text,
        "at": env.at,
        "version": env.version,
    }
    return [add(f"/context/{e.kind}/-", item)]


def customer_message_logged(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    item = {
        "id": sid(e.message_id),
        "author_id": sid(e.author_id),
        "direction": e.direction,
        "text": e.text,
        "at": env.at,
        "version": env.version,
    }
    return [add("/customer_messages/-", item)]


def swarm_requested(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    rid = sid(e.request_id)
    item = {
        "id": rid,
        "requested_by": sid(e.requested_by),
        "help_needed": e.help_needed,
        "skills_wanted": list(e.skills_wanted),
        "urgency": e.urgency,
        "at": env.at,
        "version": env.version,
        "status": "open",
    }
    return [add(f"/swarm_requests/{rid}", item)]


def expert_invited(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    iid = sid(e.invitation_id)
    item = {
        "id": iid,
        "expert_id": sid(e.expert_id),
        "expert_name": e.expert_name,
        "invited_by": sid(e.invited_by),
        "reason": e.reason,
        "at": env.at,
        "version": env.version,
        "status": "pending",
        "decided_at": None,
        "decline_reason": None,
    }
    return [add(f"/invitations/{iid}", item)]


def _pending_of(view: Doc, expert: str) -> list[str]:
    return [
        i
        for i, inv in view["invitations"].items()
        if inv["expert_id"] == expert and inv["status"] == "pending"
    ]


def _settle(view: Doc, ids: list[str], status: str, env: Envelope) -> list[Op]:
    ops: list[Op] = []
    for iid in ids:
        ops.append(replace(f"/invitations/{iid}/status", status))
        ops.append(replace(f"/invitations/{iid}/decided_at", env.at))
    return ops


def invitation_declined(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    iid = sid(e.invitation_id)
    ops = _settle(view, [iid], "declined", env)
    ops.append(replace(f"/invitations/{iid}/decline_reason", e.reason))
    return ops


def expert_joined(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    expert = sid(e.expert_id)
    accepted = sid(e.invitation_id) if e.invitation_id is not None else None
    pending = _pending_of(view, expert)
    ops = _settle(view, [i for i in pending if i == accepted], "accepted", env)
    ops += _settle(view, [i for i in pending if i != accepted], "withdrawn", env)
    entry = _participant(expert, e.expert_name, "expert", e.via, env)
    ops.append(add(f"/participants/{expert}", entry))
    return ops


def expert_left(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    p = f"/participants/{sid(e.expert_id)}"
    return [
        replace(f"{p}/left_at", env.at),
        replace(f"{p}/left_version", env.version),
        replace(f"{p}/note", e.note),
    ]


def briefing_acknowledged(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    agent = sid(e.participant_id)
    previous = view["acknowledgements"].get(agent, 0)
    if e.acknowledged_version <= previous:
        return []
    return [add(f"/acknowledgements/{agent}", e.acknowledged_version)]


def insight_posted(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    iid = sid(e.insight_id)
    item = {
        "id": iid,
        "author_id": sid(e.author_id),
        "kind": e.kind,
        "text": e.text,
        "refers_to": s(e.refers_to),
        "mentions": s(e.mentions),
        "at": env.at,
        "version": env.version,
    }
    return [add(f"/insights/{iid}", item)]


def resolution_proposed(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    pid = sid(e.proposal_id)
    cited = []
    for iid in s(e.cites):
        insight = view["insights"].get(iid)
        if insight is not None:
            cited.append(
                {
                    "id": iid,
                    "kind": insight["kind"],
                    "text": insight["text"],
                    "author_id": insight["author_id"],
                }
            )
    item = {
        "id": pid,
        "author_id": sid(e.author_id),
        "summary": e.summary,
        "steps": list(e.steps),
        "cites": s(e.cites),
        "cited_insights": cited,
        "at": env.at,
        "version": env.version,
        "status": "open",
        "decided_by": None,
        "decided_at": None,
        "reason": None,
    }
    return [add(f"/proposals/{pid}", item)]


def _decide(env: Envelope, status: str, reason: str | None) -> list[Op]:
    e = env.event
    p = f"/proposals/{sid(e.proposal_id)}"
    return [
        replace(f"{p}/status", status),
        replace(f"{p}/decided_by", sid(e.decided_by)),
        replace(f"{p}/decided_at", env.at),
        replace(f"{p}/reason", reason),
    ]


def proposal_accepted(view: Doc, env: Envelope) -> list[Op]:
    return _decide(env, "accepted", None)


def proposal_rejected(view: Doc, env: Envelope) -> list[Op]:
    return _decide(env, "rejected", env.event.reason)


def _end_swarming(view: Doc, env: Envelope) -> list[Op]:
    ops = [
        replace(f"/swarm_requests/{rid}/status", "closed")
        for rid, req in view["swarm_requests"].items()
        if req["status"] == "open"
    ]
    pending = [i for i, inv in view["invitations"].items() if inv["status"] == "pending"]
    return ops + _settle(view, pending, "withdrawn", env)


def resolved(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    resolution = {
        "summary": e.summary,
        "resolved_by": sid(e.resolved_by),
        "proposal_id": s(e.proposal_id),
        "first_touch": e.first_touch,
        "at": env.at,
        "version": env.version,
    }
    return [
        replace("/status", "resolved"),
        replace("/resolution", resolution),
        *_end_swarming(view, env),
    ]


def reopened(view: Doc, env: Envelope) -> list[Op]:
    return [replace("/status", "open"), replace("/resolution", None), replace("/closure", None)]


def closed(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    closure = {"closed_by": sid(e.closed_by), "note": e.note, "at": env.at, "version": env.version}
    return [replace("/status", "closed"), replace("/closure", closure), *_end_swarming(view, env)]


def ownership_transferred(view: Doc, env: Envelope) -> list[Op]:
    e = env.event
    to = sid(e.to_owner_id)
    known = view["participants"].get(to)
    name = e.to_owner_name or (known["name"] if known else "")
    ops = [replace("/owner", {"id": to, "name": name})]
    ops += _settle(view, _pending_of(view, to), "withdrawn", env)
    if known is None or known["left_at"] is not None:
        ops.append(add(f"/participants/{to}", _participant(to, name, "owner", "ownership", env)))
    else:
        ops.append(replace(f"/participants/{to}/role", "owner"))
        ops.append(replace(f"/participants/{to}/name", name))
    previous = sid(e.from_owner_id)
    if previous != to and previous in view["participants"]:
        ops.append(replace(f"/participants/{previous}/role", "expert"))
    return ops


def priority_changed(view: Doc, env: Envelope) -> list[Op]:
    return [replace("/priority", env.event.priority)]


REDUCERS: dict[str, Reducer] = {
    "Opened": opened,
    "ContextAdded": context_added,
    "CustomerMessageLogged": customer_message_logged,
    "SwarmRequested": swarm_requested,
    "ExpertInvited": expert_invited,
    "InvitationDeclined": invitation_declined,
    "ExpertJoined": expert_joined,
    "ExpertLeft": expert_left,
    "BriefingAcknowledged": briefing_acknowledged,
    "InsightPosted": insight_posted,
    "ResolutionProposed": resolution_proposed,
    "ProposalAccepted": proposal_accepted,
    "ProposalRejected": proposal_rejected,
    "Resolved": resolved,
    "Reopened": reopened,
    "Closed": closed,
    "OwnershipTransferred": ownership_transferred,
    "PriorityChanged": priority_changed,
    **OUTCOME_REDUCERS,
}


def case_ops(view: Doc | None, env: Envelope) -> list[Op]:
    """All ops of one case event on the case view (`None` before `Opened`)."""
    reducer = REDUCERS.get(env.name)
    if reducer is None:
        raise KeyError(f"no case reducer for {env.name}")
    if view is None:
        if env.name != "Opened":
            raise ValueError(f"case {env.stream_id}: {env.name} before Opened")
        view = {}
        ops = reducer(view, env)
        ops[0]["value"]["timeline"] = [timeline_entry(env)]
        ops[0]["value"]["timeline_total"] = 1
        return ops
    ops = reducer(view, env)
    ops += [
        replace("/version", env.version),
        replace("/position", env.position),
        replace("/updated_at", env.at),
    ]
    if len(view["timeline"]) >= TIMELINE_MAX:
        ops.append(remove("/timeline/0"))
    ops.append(add("/timeline/-", timeline_entry(env)))
    ops.append(replace("/timeline_total", view["timeline_total"] + 1))
    return ops

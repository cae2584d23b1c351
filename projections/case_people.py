"""Reducers of the people around a case (its participants, invitations, swarm requests,
acknowledgements, ownership): part of the case view, see `projections.case_view`.

Only what is live stays in the document: open swarm requests, pending invitations (a
decided one leaves it; the timeline, the events and the invitee's inbox keep it).
"""

from __future__ import annotations

from projections.case_items import ItemSet
from projections.envelope import Doc, Envelope, Op, add, remove, replace, sid


def count(view: Doc, path: str) -> Op:
    """Add one to the total at `path` under the document's `totals`."""
    target = view["totals"]
    tokens = path.split("/")
    for token in tokens[:-1]:
        target = target[token]
    return replace(f"/totals/{path}", target[tokens[-1]] + 1)


def participant(agent: str, name: str, role: str, via: str, env: Envelope) -> Doc:
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


def swarm_requested(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
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
    return [add(f"/swarm_requests/{rid}", item), count(view, "swarm_requests")]


def expert_invited(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
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
    return [add(f"/invitations/{iid}", item), count(view, "invitations")]


def _pending_of(view: Doc, expert: str) -> list[str]:
    return [
        i
        for i, inv in view["invitations"].items()
        if inv["expert_id"] == expert and inv["status"] == "pending"
    ]


def _settle(view: Doc, ids: list[str]) -> list[Op]:
    """Decided invitations leave the document (the timeline and inboxes keep them)."""
    return [remove(f"/invitations/{iid}") for iid in ids if iid in view["invitations"]]


def invitation_declined(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return _settle(view, [sid(env.event.invitation_id)])


def expert_joined(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    expert = sid(e.expert_id)
    ops = _settle(view, _pending_of(view, expert))
    entry = participant(expert, e.expert_name, "expert", e.via, env)
    ops.append(add(f"/participants/{expert}", entry))
    return ops


def expert_left(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    p = f"/participants/{sid(e.expert_id)}"
    return [
        replace(f"{p}/left_at", env.at),
        replace(f"{p}/left_version", env.version),
        replace(f"{p}/note", e.note),
    ]


def briefing_acknowledged(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    agent = sid(e.participant_id)
    previous = view["acknowledgements"].get(agent, 0)
    if e.acknowledged_version <= previous:
        return []
    return [add(f"/acknowledgements/{agent}", e.acknowledged_version)]


def end_swarming(view: Doc) -> list[Op]:
    ops = [remove(f"/swarm_requests/{rid}") for rid in view["swarm_requests"]]
    return ops + _settle(view, list(view["invitations"]))


def ownership_transferred(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    to = sid(e.to_owner_id)
    known = view["participants"].get(to)
    name = e.to_owner_name or (known["name"] if known else "")
    ops = [replace("/owner", {"id": to, "name": name})]
    ops += _settle(view, _pending_of(view, to))
    if known is None or known["left_at"] is not None:
        ops.append(add(f"/participants/{to}", participant(to, name, "owner", "ownership", env)))
    else:
        ops.append(replace(f"/participants/{to}/role", "owner"))
        ops.append(replace(f"/participants/{to}/name", name))
    previous = sid(e.from_owner_id)
    if previous != to and previous in view["participants"]:
        ops.append(replace(f"/participants/{previous}/role", "expert"))
    return ops

"""Reducers of the case view (the briefing): one function per event type.

Each reducer is `(view, envelope, items) -> ops`: it reads the view as it stands before
the event and returns RFC 6902 ops; it never mutates the view. It reads items outside
the document's windows from `items` (cited insights, decided proposals) and records
there the `case_items` rows it writes (`projections.case_items`). `case_ops` adds the
bookkeeping every event shares (version, position, updated_at, timeline entry).

Bounded by design: the document holds what an expert needs first, and only the newest
entries of each growing collection (a window), with totals for everything; so its size,
its snapshot and the write per event do not grow with the number of events. Every item,
inside its window or not, is also a row of `case_items`, paged on demand:
``GET /api/cases/{id}/insights|proposals|customer-messages|timeline?before=&limit=`` and
``GET /api/cases/{id}/context/{kind}?before=&limit=`` (`before` = an item's `seq`, the
case version that created it; a page is the `limit` items just before it, oldest first,
with `next_before` while older ones remain). The full history is also
``GET /api/cases/{id}/events``.

Stored (`projections.case_store`): the `case_views` row of a case holds the document
without its windows (small: it is what changes with every event); the windows are the
newest `case_items` rows, read with that row in one statement. The push snapshot and
`GET /api/cases/{id}` are that document; `?at_version=V` folds the case's events up to
V with the same reducers (the windows as they stood).

Document shape (all ids are str; "[..] (last N)": a list, oldest first, of the newest N;
a patch that appends to a full window first removes its entry 0, so a client's copy
keeps the same window):
  case_id, version, position, opened_at, opened_position, updated_at, status, priority,
  channel, product_area, owner {id, name}, customer {name, contact},
  problem {subject, description},
  context {symptom|environment|step_tried|hypothesis: [{id, author_id, text, at,
      version}] (last CONTEXT_WINDOW each)},
  customer_messages [{id, author_id, direction, text, at, version}] (last MESSAGES_WINDOW),
  insights [{id, author_id, kind, text, refers_to, mentions, at, version}]
      (last INSIGHTS_WINDOW),
  proposals [{id, author_id, summary, steps, cites, cited_insights [{id, kind, text
      (at most CITED_TEXT characters), author_id}], at, version, status open|accepted|
      rejected, decided_by, decided_at, reason}] (last PROPOSALS_WINDOW; a decision on
      an older proposal changes its row only),
  swarm_requests {id: {id, requested_by, help_needed, skills_wanted, urgency, at, version,
      status "open"}} (open ones only: resolving or closing removes them),
  participants {agent id: {id, name, role owner|expert, via, joined_at, joined_version,
      left_at, left_version, note}},
  invitations {id: {id, expert_id, expert_name, invited_by, reason, expires_at, at,
      version, status "pending", decided_at null, decline_reason null}} (pending ones
      only: a decline, an expiry, a join, a resolution or a transfer removes them),
  resolution null|{..}, closure null|{..}, acknowledgements {agent id: version},
  reuse_count (once solved: the cases its solution helped, `SolutionReused`; absent
      before the first),
  timeline [{version, position, at, type, by, text}] (last TIMELINE_MAX),
  timeline_total (timeline entries ever),
  totals {insights, proposals, customer_messages, swarm_requests, invitations,
      context {kind: n}} (items ever, in or out of their windows).
"""

from __future__ import annotations

from collections.abc import Callable

from domain.values import ContextKind
from projections.case_items import (
    INSIGHT,
    MESSAGE,
    PROPOSAL,
    TIMELINE,
    ItemSet,
    context_kind,
    index_of,
    window_add,
)
from projections.case_people import (
    briefing_acknowledged,
    count,
    end_swarming,
    expert_invited,
    expert_joined,
    expert_left,
    invitation_declined,
    ownership_transferred,
    participant,
    swarm_requested,
)
from projections.envelope import Doc, Envelope, Op, add, remove, replace, s, sid
from projections.outcome_view import OUTCOME_REDUCERS
from projections.timeline import timeline_entry

TIMELINE_MAX = 50
INSIGHTS_WINDOW = 20
PROPOSALS_WINDOW = 10
MESSAGES_WINDOW = 20
CONTEXT_WINDOW = 5
CITED_TEXT = 500

Reducer = Callable[[Doc, Envelope, ItemSet], list[Op]]


def opened(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
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
        "participants": {owner: participant(owner, e.owner_name, "owner", "opened", env)},
        "invitations": {},
        "insights": [],
        "proposals": [],
        "resolution": None,
        "closure": None,
        "acknowledgements": {},
        "timeline": [],
        "timeline_total": 0,
        "totals": {
            "insights": 0,
            "proposals": 0,
            "customer_messages": 0,
            "swarm_requests": 0,
            "invitations": 0,
            "context": {kind.value: 0 for kind in ContextKind},
        },
    }
    return [add("", doc)]


def _item(
    view: Doc, env: Envelope, items: ItemSet, kind: str, path: str, window: int, item: Doc
) -> list[Op]:
    """A new item: its row, its place in its window, its total."""
    items.put(env.key, kind, item["id"], env.version, env.position, item)
    return window_add(view, path, window, item)


def context_added(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    item = {
        "id": sid(e.context_id),
        "author_id": sid(e.author_id),
        "text": e.text,
        "at": env.at,
        "version": env.version,
    }
    kind = str(e.kind)
    path = f"/context/{kind}"
    ops = _item(view, env, items, context_kind(kind), path, CONTEXT_WINDOW, item)
    return [*ops, count(view, f"context/{kind}")]


def customer_message_logged(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    item = {
        "id": sid(e.message_id),
        "author_id": sid(e.author_id),
        "direction": e.direction,
        "text": e.text,
        "at": env.at,
        "version": env.version,
    }
    ops = _item(view, env, items, MESSAGE, "/customer_messages", MESSAGES_WINDOW, item)
    return [*ops, count(view, "customer_messages")]


def insight_posted(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    item = {
        "id": sid(e.insight_id),
        "author_id": sid(e.author_id),
        "kind": e.kind,
        "text": e.text,
        "refers_to": s(e.refers_to),
        "mentions": s(e.mentions),
        "at": env.at,
        "version": env.version,
    }
    ops = _item(view, env, items, INSIGHT, "/insights", INSIGHTS_WINDOW, item)
    return [*ops, count(view, "insights")]


def _excerpt(text: str) -> str:
    return text if len(text) <= CITED_TEXT else text[: CITED_TEXT - 1] + "…"


def resolution_proposed(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    cited = []
    for iid in s(e.cites):
        insight = items.get(env.key, INSIGHT, iid)
        if insight is not None:
            cited.append(
                {
                    "id": iid,
                    "kind": insight["kind"],
                    "text": _excerpt(insight["text"]),
                    "author_id": insight["author_id"],
                }
            )
    item = {
        "id": sid(e.proposal_id),
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
    ops = _item(view, env, items, PROPOSAL, "/proposals", PROPOSALS_WINDOW, item)
    return [*ops, count(view, "proposals")]


def _decide(view: Doc, env: Envelope, items: ItemSet, status: str, reason: str | None) -> list[Op]:
    e = env.event
    pid = sid(e.proposal_id)
    decision = {
        "status": status,
        "decided_by": sid(e.decided_by),
        "decided_at": env.at,
        "reason": reason,
    }
    proposal = items.get(env.key, PROPOSAL, pid)
    if proposal is not None:  # always, for a proposal of this case (the fold loads it)
        proposal.update(decision)
        items.put(env.key, PROPOSAL, pid, proposal["version"], env.position, proposal)
    at = index_of(view["proposals"], pid)
    if at is None:  # beyond the window: its row only
        return []
    return [replace(f"/proposals/{at}/{name}", value) for name, value in decision.items()]


def proposal_accepted(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return _decide(view, env, items, "accepted", None)


def proposal_rejected(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return _decide(view, env, items, "rejected", env.event.reason)


def resolved(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
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
        *end_swarming(view),
    ]


def reopened(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return [replace("/status", "open"), replace("/resolution", None), replace("/closure", None)]


def closed(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    e = env.event
    closure = {"closed_by": sid(e.closed_by), "note": e.note, "at": env.at, "version": env.version}
    return [replace("/status", "closed"), replace("/closure", closure), *end_swarming(view)]


def priority_changed(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    return [replace("/priority", env.event.priority)]


def solution_reused(view: Doc, env: Envelope, items: ItemSet) -> list[Op]:
    # `add`: documents from before the first reuse have no count (and need none)
    return [add("/reuse_count", int(view.get("reuse_count", 0)) + 1)]


REDUCERS: dict[str, Reducer] = {
    "Opened": opened,
    "ContextAdded": context_added,
    "CustomerMessageLogged": customer_message_logged,
    "SwarmRequested": swarm_requested,
    "ExpertInvited": expert_invited,
    "InvitationDeclined": invitation_declined,
    "InvitationExpired": invitation_declined,  # it leaves the document the same way
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
    "SolutionReused": solution_reused,
    **OUTCOME_REDUCERS,
}


def case_ops(view: Doc | None, env: Envelope, items: ItemSet | None = None) -> list[Op]:
    """All ops of one case event on the case view (`None` before `Opened`); the rows it
    writes go to `items` (a throwaway set when None)."""
    reducer = REDUCERS.get(env.name)
    if reducer is None:
        raise KeyError(f"no case reducer for {env.name}")
    if items is None:
        items = ItemSet()
    entry = timeline_entry(env)
    items.put(env.key, TIMELINE, str(env.version), env.version, env.position, entry)
    if view is None:
        if env.name != "Opened":
            raise ValueError(f"case {env.stream_id}: {env.name} before Opened")
        ops = reducer({}, env, items)
        ops[0]["value"]["timeline"] = [entry]
        ops[0]["value"]["timeline_total"] = 1
        return ops
    ops = reducer(view, env, items)
    ops += [
        replace("/version", env.version),
        replace("/position", env.position),
        replace("/updated_at", env.at),
    ]
    if len(view["timeline"]) >= TIMELINE_MAX:
        ops.append(remove("/timeline/0"))
    ops.append(add("/timeline/-", entry))
    ops.append(replace("/timeline_total", view["timeline_total"] + 1))
    return ops

"""Contribution per agent ("contribution" view, keyed by agent id): what each person gave
to the swarms, counted from the log (CSI's "Recognize": contribution, not task counts).

Like the inboxes, a contribution document gathers events of many cases, so a case event
first becomes *intents* read from the case view as it stood before the event
(`contribution_intents`, folded apart from the documents with the case), then the intents
become ops on the documents (`contribution_ops`, in log order). Same ops stored and
replayed: `swarmdesk rebuild` gives the documents a replay gives.

Article events count too (`article_intents`): a `Reused` article (linked to the case it
helped) counts once for each of its authors as the article stood before the reuse
(`authors` of the article view: whoever wrote a sentence of it, editors included). A
solved case reused by another (`SolutionReused`) counts likewise for the people who
solved it: its owner and every expert who joined its swarm (`cases_reused`).

Document: {agent_id, position, insights_posted, insights_cited (insights of theirs cited
by accepted proposals, each once per proposal), proposals_accepted, help_offered (joined
a swarm request unprompted), articles_reused (reuses of articles they wrote, once per
reuse and author), cases_reused (reuses of cases they solved, once per reuse and
person), invitations, joined_by_invitation, declines, expired,
join_seconds (invitation to joining, the last JOIN_SAMPLES), median_join_seconds (null
before the first), declined_at (the last RECENT_MAX declines and expiries, ISO 8601),
declined_cases (the cases of the last RECENT_MAX of them: suggestions skip those),
swarms (open cases the agent helps on as an expert: the load)}.
"""

from __future__ import annotations

from datetime import datetime
from statistics import median
from typing import Any

from projections.case_items import PROPOSAL, ItemSet
from projections.envelope import Doc, Envelope, Op, add, remove, replace, sid

JOIN_SAMPLES = 50
RECENT_MAX = 20
COUNTS = (
    "insights_posted",
    "insights_cited",
    "proposals_accepted",
    "help_offered",
    "articles_reused",
    "cases_reused",
    "invitations",
    "joined_by_invitation",
    "declines",
    "expired",
)
ACTION = "contribution"  # the intent's action (`projections.inbox_view.Intent`)

Intent = tuple[str, str, Any]


def new_contribution(agent: str) -> Doc:
    return {
        "agent_id": agent,
        "position": 0,
        **dict.fromkeys(COUNTS, 0),
        "join_seconds": [],
        "median_join_seconds": None,
        "declined_at": [],
        "declined_cases": [],
        "swarms": [],
    }


def _count(agent: str, field: str) -> Intent:
    return (agent, ACTION, ("count", field))


def _experts(case: Doc) -> list[str]:
    """Experts currently in the case (joined, not left, not the owner)."""
    owner = case["owner"]["id"]
    return [a for a, p in case["participants"].items() if p["left_at"] is None and a != owner]


def contribution_intents(env: Envelope, case: Doc | None, items: ItemSet) -> list[Intent]:
    """What one case event does to contribution documents (from the case before it and
    the items the fold holds for the event: the decided proposal)."""
    if case is None:
        return []
    e = env.event
    name = env.name
    key = env.key
    if name == "InsightPosted":
        return [_count(sid(e.author_id), "insights_posted")]
    if name == "ProposalAccepted":
        proposal = items.get(key, PROPOSAL, sid(e.proposal_id))
        if proposal is None:
            return []
        out = [_count(proposal["author_id"], "proposals_accepted")]
        cited = {i["id"]: i["author_id"] for i in proposal["cited_insights"]}
        out += [_count(author, "insights_cited") for author in cited.values()]
        return out
    if name == "SolutionReused":
        solvers = dict.fromkeys([case["owner"]["id"], *case["participants"]])
        return [_count(agent, "cases_reused") for agent in solvers]
    if name == "ExpertInvited":
        return [_count(sid(e.expert_id), "invitations")]
    if name in ("InvitationDeclined", "InvitationExpired"):
        agent = sid(e.expert_id)
        field = "declines" if name == "InvitationDeclined" else "expired"
        return [_count(agent, field), (agent, ACTION, ("declined_at", (env.at, key)))]
    if name == "ExpertJoined":
        agent = sid(e.expert_id)
        out = [(agent, ACTION, ("swarm", (key, True)))]
        invitation = case["invitations"].get(sid(e.invitation_id)) if e.invitation_id else None
        if invitation is None:
            return [_count(agent, "help_offered"), *out]
        waited = _seconds(invitation["at"], env.at)
        return [_count(agent, "joined_by_invitation"), (agent, ACTION, ("joined", waited)), *out]
    if name == "ExpertLeft":
        return [(sid(e.expert_id), ACTION, ("swarm", (key, False)))]
    if name in ("Resolved", "Closed") and case["status"] == "open":
        return [(a, ACTION, ("swarm", (key, False))) for a in _experts(case)]
    if name == "Reopened":
        return [(a, ACTION, ("swarm", (key, True))) for a in _experts(case)]
    if name == "OwnershipTransferred":
        to, previous = sid(e.to_owner_id), sid(e.from_owner_id)
        out = [(to, ACTION, ("swarm", (key, False)))]
        if previous != to:
            out.append((previous, ACTION, ("swarm", (key, True))))
        return out
    return []


def article_intents(env: Envelope, article: Doc | None) -> list[Intent]:
    """What one article event does to contribution documents (from the article view as
    it stood before the event): a reuse counts for each of its authors."""
    if env.name != "Article.Reused" or article is None:
        return []
    return [_count(author, "articles_reused") for author in article.get("authors", ())]


def _seconds(start: str, end: str) -> float:
    if not start or not end:
        return 0.0
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def contribution_ops(doc: Doc | None, agent: str, changes: list[Any]) -> list[Op]:
    """The ops of one event's intents for one agent on its document (None: none yet)."""
    ops: list[Op] = []
    if doc is None:
        ops.append(add("", new_contribution(agent)))
        doc = new_contribution(agent)
    cur: dict[str, Any] = {k: list(v) if isinstance(v, list) else v for k, v in doc.items()}
    for kind, value in changes:
        if kind == "count":
            known = value in cur  # a document stored before the count existed: add it
            cur[value] = cur.get(value, 0) + 1
            ops.append((replace if known else add)(f"/{value}", cur[value]))
        elif kind == "declined_at":
            at, case = value
            if len(cur["declined_at"]) >= RECENT_MAX:
                ops.append(remove("/declined_at/0"))
                del cur["declined_at"][0]
            ops.append(add("/declined_at/-", at))
            cur["declined_at"].append(at)
            if case not in cur["declined_cases"]:
                if len(cur["declined_cases"]) >= RECENT_MAX:
                    ops.append(remove("/declined_cases/0"))
                    del cur["declined_cases"][0]
                ops.append(add("/declined_cases/-", case))
                cur["declined_cases"].append(case)
        elif kind == "joined":
            cur["join_seconds"] = [*cur["join_seconds"], value][-JOIN_SAMPLES:]
            ops.append(replace("/join_seconds", list(cur["join_seconds"])))
            ops.append(replace("/median_join_seconds", median(cur["join_seconds"])))
        else:  # "swarm": (case id, in it)
            case, joined = value
            swarms = [c for c in cur["swarms"] if c != case] + ([case] if joined else [])
            if swarms != cur["swarms"]:
                cur["swarms"] = swarms
                ops.append(replace("/swarms", list(swarms)))
    return ops

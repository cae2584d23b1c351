"""The KPI projection's fold: events in, rows out; pure, so the projection and a replay
of the whole log compute the same rows (tested equal).

Per case, one state (JSON-simple, stored with its row so the fold can continue from the
table) and one `kpi_cases` row of measures; per agent and day, whether the agent acted
and whether as an expert (`kpi_activity`); per SLA clock, its outcome (`kpi_sla`: the
first of `SlaMet`/`SlaBreached` recorded wins); per SLA policy, its latest document
(`sla_policies`). README "KPIs" defines each measure from these rows and the events.
Times are Unix seconds (floats), days are whole days since 1970-01-01 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["KpiBatch", "case_row", "fold_event", "new_case_state"]

DAY = 86400

State = dict[str, Any]


def ts(at: datetime | str) -> float:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.timestamp()


def day_of(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds // DAY)


@dataclass
class KpiBatch:
    """What a batch of events changes (rows keyed as in their tables)."""

    cases: dict[str, State] = field(default_factory=dict)  # touched case states
    activity: dict[tuple[int, str], bool] = field(default_factory=dict)  # (day, agent)
    sla: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (case, target) -> its running, paused or breached clock, None once it ended
    clocks: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)


def new_case_state(case_id: str, e: Any, at: float) -> State:
    return {
        "case_id": case_id,
        "opened_at": at,
        "product_area": e.product_area or "",
        "priority": e.priority,
        "channel": e.channel,
        "owner": str(e.owner_id),
        "status": "open",
        "first_response_at": None,
        "resolved_at": None,
        "ended_at": None,
        "first_touch": None,
        "handoffs": 0,
        "handoffs_at_resolution": None,
        "swarm_at": None,
        "first_expert_at": None,
        "experts": [],
        "invitations": 0,
        "declines": 0,
        "proposals": 0,
        "proposals_before_accept": None,
        "acked": [],
        "insight_experts": [],
        "acked_first": 0,
        "csat": None,
        "csat_at": None,
        "reopens": 0,
        "clocks": {},
    }


def fold_event(batch: KpiBatch, state: State | None, name: str, key: str, e: Any) -> State | None:
    """Fold one event into `batch`; the case's new state (None: not a case event or a
    case this projection never saw opened)."""
    if name.startswith("SlaPolicy."):
        doc = e.document
        batch.policies[key] = {
            "policy_id": key,
            "name": doc.get("name", ""),
            "active": bool(doc.get("active", True)),
            "document": doc,
            "version": int(e.originator_version),
            "updated_at": ts(e.timestamp),
        }
        return None
    if name.startswith("Agent."):
        return None
    at = ts(e.timestamp)
    if name == "Opened":
        state = new_case_state(key, e, at)
        _act(batch, at, state["owner"], False)
        batch.cases[key] = state
        return state
    if state is None:
        return None
    _FOLDS.get(name, _nothing)(batch, state, e, at)
    batch.cases[key] = state
    return state


def _act(batch: KpiBatch, at: float, agent: str, expert: bool) -> None:
    k = (int(at // DAY), agent)
    batch.activity[k] = batch.activity.get(k, False) or expert


def _nothing(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    return None


def _message(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    if e.direction == "outbound" and s["first_response_at"] is None:
        s["first_response_at"] = at
    _act(batch, at, str(e.author_id), False)


def _swarm(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    if s["swarm_at"] is None:
        s["swarm_at"] = at


def _invited(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    s["invitations"] += 1
    if s["swarm_at"] is None:  # asking a named expert is asking for help too
        s["swarm_at"] = at


def _declined(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    s["declines"] += 1


def _joined(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    expert = str(e.expert_id)
    if s["first_expert_at"] is None:
        s["first_expert_at"] = at
    if expert not in s["experts"]:
        s["experts"].append(expert)
    _act(batch, at, expert, True)


def _acked(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    who = str(e.participant_id)
    if who != s["owner"] and who not in s["acked"]:
        s["acked"].append(who)


def _insight(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    author = str(e.author_id)
    if author == s["owner"]:
        _act(batch, at, author, False)
        return
    if author not in s["insight_experts"]:
        s["insight_experts"].append(author)
        if author in s["acked"]:
            s["acked_first"] += 1
    _act(batch, at, author, True)


def _proposed(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    s["proposals"] += 1
    author = str(e.author_id)
    _act(batch, at, author, author != s["owner"])


def _accepted(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    if s["proposals_before_accept"] is None:
        s["proposals_before_accept"] = s["proposals"]


def _end_clocks(batch: KpiBatch, s: State) -> None:
    for target in s["clocks"]:
        batch.clocks[(s["case_id"], target)] = None
    s["clocks"] = {}


def _clock(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    """The at-risk list's row of a clock (`sla_clocks`)."""
    name, target = type(e).__name__, e.target
    clock = s["clocks"].get(target)
    if name == "SlaClockStarted":
        clock = {
            "case_id": s["case_id"],
            "target": target,
            "cycle": int(e.cycle),
            "status": "running",
            "due_at": ts(e.due_at),
            "warned": False,
            "priority": s["priority"],
            "product_area": s["product_area"],
            "owner_id": s["owner"],
        }
    elif clock is None or clock["cycle"] != int(e.cycle):
        return
    elif name == "SlaPaused":
        clock = {**clock, "status": "paused"}
    elif name == "SlaResumed":
        clock = {**clock, "status": "running", "due_at": ts(e.due_at)}
    elif name == "SlaWarned":
        clock = {**clock, "warned": True}
    elif name == "SlaBreached":
        clock = {**clock, "status": "breached"}
    if name == "SlaMet":
        s["clocks"].pop(target, None)
        batch.clocks[(s["case_id"], target)] = None
        return
    s["clocks"][target] = clock
    batch.clocks[(s["case_id"], target)] = clock


def _resolved(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    _end_clocks(batch, s)
    s["status"] = "resolved"
    s["resolved_at"] = s["ended_at"] = at
    if s["first_touch"] is None:
        s["first_touch"] = bool(e.first_touch)
        s["handoffs_at_resolution"] = s["handoffs"]
    _act(batch, at, str(e.resolved_by), False)


def _closed(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    _end_clocks(batch, s)
    if s["status"] == "open":
        s["ended_at"] = at
    s["status"] = "closed"


def _reopened(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    s["status"] = "open"
    s["ended_at"] = None
    s["reopens"] += 1


def _transferred(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    s["handoffs"] += 1
    s["owner"] = str(e.to_owner_id)


def _priority(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    s["priority"] = e.priority


def _csat(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    s["csat"], s["csat_at"] = int(e.score), at


def _sla_outcome(batch: KpiBatch, s: State, e: Any, at: float) -> None:
    _clock(batch, s, e, at)
    k = (s["case_id"], e.target, int(e.cycle))
    if k in batch.sla or (s.get("sla_done") and f"{e.target}:{e.cycle}" in s["sla_done"]):
        return  # the first outcome of a clock wins
    met = type(e).__name__ == "SlaMet"
    ended = ts(e.at) if met else ts(e.due_at)
    s.setdefault("sla_done", []).append(f"{e.target}:{e.cycle}")
    batch.sla[k] = {
        "case_id": s["case_id"],
        "target": e.target,
        "cycle": int(e.cycle),
        "met": met,
        "ended_at": ended,
        "ended_day": day_of(ended),
        "product_area": s["product_area"],
        "priority": s["priority"],
        "owner_id": s["owner"],
    }


_FOLDS = {
    "CustomerMessageLogged": _message,
    "SwarmRequested": _swarm,
    "ExpertInvited": _invited,
    "InvitationDeclined": _declined,
    "ExpertJoined": _joined,
    "BriefingAcknowledged": _acked,
    "InsightPosted": _insight,
    "ResolutionProposed": _proposed,
    "ProposalAccepted": _accepted,
    "Resolved": _resolved,
    "Closed": _closed,
    "Reopened": _reopened,
    "OwnershipTransferred": _transferred,
    "PriorityChanged": _priority,
    "SatisfactionRecorded": _csat,
    "SlaMet": _sla_outcome,
    "SlaBreached": _sla_outcome,
    "SlaClockStarted": _clock,
    "SlaPaused": _clock,
    "SlaResumed": _clock,
    "SlaWarned": _clock,
}


def _since(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else max(later - earlier, 0.0)


def case_row(s: State) -> dict[str, Any]:
    """The `kpi_cases` row of a case state (the state itself kept in `state`)."""
    resolved = s["resolved_at"]
    at_resolution = s["handoffs_at_resolution"]
    return {
        "case_id": s["case_id"],
        "product_area": s["product_area"],
        "priority": s["priority"],
        "owner_id": s["owner"],
        "opened_at": s["opened_at"],
        "opened_day": day_of(s["opened_at"]),
        "first_response_s": _since(s["first_response_at"], s["opened_at"]),
        "resolved_day": day_of(resolved),
        "resolution_s": _since(resolved, s["opened_at"]),
        "first_touch": s["first_touch"],
        "owner_retained": None if at_resolution is None else at_resolution == 0,
        "handed_off": s["handoffs"] > 0,
        "swarmed": s["swarm_at"] is not None,
        "first_expert_s": _since(s["first_expert_at"], s["swarm_at"]),
        "swarm_size": len(s["experts"]),
        "invitations": s["invitations"],
        "declines": s["declines"],
        "proposals_before_accept": s["proposals_before_accept"],
        "insight_experts": len(s["insight_experts"]),
        "acked_first": s["acked_first"],
        "csat": s["csat"],
        "csat_day": day_of(s["csat_at"]),
        "ended_at": s["ended_at"],
        "ended_day": day_of(s["ended_at"]),
    }

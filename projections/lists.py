"""The live lists: my cases, every case in progress, the swarm board.

Each list is a pushed document like a case or an inbox (`/ws/mycases`, `/ws/cases`,
`/ws/swarms`): a snapshot, then RFC 6902 patches with ``prev``, stored in `view_changes`
under its own (view, key), so a client resumes with ``?after=P`` exactly as on a case.

- ``mycases`` (key: agent id): ``{"cases": {case id: entry + "relation"}}``, the cases the
  agent owns, has joined (not left) or is invited to, that are not closed. A case handed
  to the agent comes in, one handed away changes its relation, a closed one goes out.
- ``cases`` (key ``"all"``, supervisors): ``{"cases": {case id: entry}}``, every case that
  is not closed (open or resolved); closed ones are the archive (`GET /api/cases`).
- ``swarms`` (key ``"open"``): ``{"requests": {request id: board entry}}``, the open swarm
  requests of open cases, the same entries as `GET /api/swarms`
  (`projections.rows.board_rows`).

The lists are not stored as documents (the all-cases one would grow with the business and
be rewritten by every event); a snapshot is assembled from rows the projector keeps anyway
plus one small ``entry`` document per case (`case_entry`), read in one statement with the
position of the list's last change (`projections.list_queries`). A change is derived per
event from the case document before and after it (`ListState`): deterministic, so the
projector, `swarmdesk rebuild` and the parallel rebuild write the same changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from projections.envelope import Doc, Op, add, remove
from projections.rows import board_rows, member_rows

MYCASES, ALL_CASES, SWARMS = "mycases", "cases", "swarms"
ALL_KEY, OPEN_KEY = "all", "open"
ENTRY = "entry"  # the view name of the per-case entry documents
LIST_VIEWS = (MYCASES, ALL_CASES, SWARMS)


def case_entry(doc: Doc) -> Doc:
    """What a case list shows of a case: status, priority, swarm state, the latest change."""
    participants = doc["participants"]
    latest = doc["timeline"][-1] if doc.get("timeline") else None
    by = latest["by"] if latest else None
    by_name = participants[by]["name"] if by in participants else None
    return {
        "case_id": doc["case_id"],
        "position": doc["position"],
        "version": doc["version"],
        "opened_at": doc["opened_at"],
        "opened_position": doc["opened_position"],
        "updated_at": doc["updated_at"],
        "status": doc["status"],
        "priority": doc["priority"],
        "product_area": doc.get("product_area"),
        "subject": doc["problem"]["subject"],
        "customer": doc["customer"]["name"],
        "owner": doc["owner"],
        "swarm": {
            "requests": sum(1 for r in doc["swarm_requests"].values() if r["status"] == "open"),
            "experts": sum(
                1 for p in participants.values() if p["role"] == "expert" and p["left_at"] is None
            ),
            "invited": sum(1 for i in doc["invitations"].values() if i["status"] == "pending"),
        },
        "latest": None
        if latest is None
        else {"type": latest["type"], "by": by, "by_name": by_name, "at": latest["at"]},
    }


@dataclass(frozen=True, slots=True)
class ListState:
    """One case as the lists see it (None members: the case is on no list)."""

    entry: Doc | None  # on the all-cases list (not closed)
    members: dict[str, str]  # agent id -> relation, on their my-cases lists
    requests: dict[str, Doc]  # request id -> board entry

    @staticmethod
    def of(doc: Doc | None) -> ListState:
        if doc is None:
            return EMPTY
        requests = {r["request_id"]: json.loads(r["doc"]) for r in board_rows(doc)}
        if doc["status"] == "closed":
            return ListState(None, {}, requests)
        members = {r["agent_id"]: r["relation"] for r in member_rows(doc)}
        return ListState(case_entry(doc), members, requests)


EMPTY = ListState(None, {}, {})


ListChange = tuple[str, str, list[Op]]  # view, key, ops


def list_changes(case_id: str, before: ListState, after: ListState) -> list[ListChange]:
    """The list changes one event made (before -> after), in (view, key) order."""
    out: list[ListChange] = []
    path = f"/cases/{case_id}"
    if after.entry != before.entry:
        ops = [add(path, after.entry)] if after.entry is not None else [remove(path)]
        out.append((ALL_CASES, ALL_KEY, ops))
    for agent in sorted(before.members.keys() | after.members.keys()):
        was, now = before.members.get(agent), after.members.get(agent)
        if now is None:
            ops = [remove(path)]
        elif was == now and before.entry == after.entry:
            continue
        else:
            assert after.entry is not None
            ops = [add(path, {**after.entry, "relation": now})]
        out.append((MYCASES, agent, ops))
    if after.requests != before.requests:
        board: list[Op] = []
        for rid in sorted(before.requests.keys() | after.requests.keys()):
            value = after.requests.get(rid)
            if value is None:
                board.append(remove(f"/requests/{rid}"))
            elif value != before.requests.get(rid):
                board.append(add(f"/requests/{rid}", value))
        out.append((SWARMS, OPEN_KEY, board))
    out.sort(key=lambda c: (c[0], c[1]))
    return out


def list_key(view: str, caller: Any) -> str:
    """The key of a list for its caller (an `Actor`): my cases are the caller's own."""
    if view == MYCASES:
        return str(caller.id)
    return ALL_KEY if view == ALL_CASES else OPEN_KEY


def empty_list(view: str) -> dict[str, Any]:
    return {"requests": {}} if view == SWARMS else {"cases": {}}

"""The live lists: my cases, every case in progress, the swarm board.

Each list is a pushed document like a case or an inbox (`/ws/mycases`, `/ws/cases`,
`/ws/swarms`): a snapshot, then RFC 6902 patches with ``prev``, stored in `view_changes`
under its own (view, key), so a client resumes with ``?after=P`` exactly as on a case.

- ``mycases`` (key: agent id): ``{"cases": {case id: entry + "relation"}}``, the cases the
  agent owns, has joined (not left) or is invited to, that are not closed. A case handed
  to the agent comes in, one handed away changes its relation, a closed one goes out.
- ``cases`` (key ``"all"``, supervisors): ``{"cases": {case id: entry}}``, every open case
  (resolved and closed ones are the archive, `GET /api/cases?status=`: a list that grows
  with the business would not do as one pushed document).
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

from dataclasses import dataclass
from typing import Any

import orjson

from projections.envelope import Doc, Op, add, remove, replace
from projections.rows import board_entries, relations

MYCASES, ALL_CASES, SWARMS = "mycases", "cases", "swarms"
ALL_KEY, OPEN_KEY = "all", "open"
ENTRY = "entry"  # the view name of the per-case entry documents
LIST_VIEWS = (MYCASES, ALL_CASES, SWARMS)


def case_entry(doc: Doc) -> Doc:
    """What a case list shows of a case: status, priority, swarm state, the latest change
    (sharing nothing with `doc`, which later events edit in place). No position or
    version: most events change only `latest`, and a patch carries only what changed."""
    participants = doc["participants"]
    latest = doc["timeline"][-1] if doc.get("timeline") else None
    by = latest["by"] if latest else None
    by_name = participants[by]["name"] if by in participants else None
    return {
        "case_id": doc["case_id"],
        "opened_at": doc["opened_at"],
        "opened_position": doc["opened_position"],
        "status": doc["status"],
        "priority": doc["priority"],
        "product_area": doc.get("product_area"),
        "subject": doc["problem"]["subject"],
        "customer": doc["customer"]["name"],
        "owner": dict(doc["owner"]),  # fresh: the document is edited in place
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

    entry: Doc | None  # the case's entry while it is not closed (None: on no list)
    members: dict[str, str]  # agent id -> relation, on their my-cases lists
    requests: dict[str, Doc]  # request id -> board entry

    @staticmethod
    def of(doc: Doc | None) -> ListState:
        if doc is None:
            return EMPTY
        # the document keeps open requests only: most cases have none
        requests = {e["id"]: e for e in board_entries(doc)} if doc["swarm_requests"] else {}
        if doc["status"] == "closed":
            return ListState(None, {}, requests)
        return ListState(case_entry(doc), relations(doc), requests)


EMPTY = ListState(None, {}, {})


ListChange = tuple[str, str, str]  # view, key, ops as JSON text


def entry_ops(path: str, before: Doc | None, after: Doc | None) -> list[Op]:
    """The ops from one list entry to the next: added or removed whole, else a
    ``replace`` per member that changed (most events: ``latest`` only)."""
    if after is None:
        return [] if before is None else [remove(path)]
    if before is None:
        return [add(path, after)]
    return [replace(f"{path}/{k}", v) for k, v in after.items() if before.get(k) != v]


def list_changes(case_id: str, before: ListState, after: ListState) -> list[ListChange]:
    """The list changes one event made (before -> after), in (view, key) order, each with
    its ops as JSON text (the same text `projections.fold.dumps` makes). The entry's ops
    are the same on every list that keeps the case: computed and encoded once."""
    out: list[ListChange] = []
    path = f"/cases/{case_id}"
    ops = entry_ops(path, before.entry, after.entry)
    text = _dumps(ops) if ops else ""
    was_open, is_open = _open(before.entry), _open(after.entry)
    if was_open is before.entry and is_open is after.entry:  # open before and after
        if ops:
            out.append((ALL_CASES, ALL_KEY, text))
    elif every := entry_ops(path, was_open, is_open):
        out.append((ALL_CASES, ALL_KEY, _dumps(every)))
    for agent in sorted(before.members.keys() | after.members.keys()):
        was, now = before.members.get(agent), after.members.get(agent)
        if was == now:
            if ops:
                out.append((MYCASES, agent, text))
            continue
        if now is None:
            mine = [remove(path)]
        elif was is None:
            mine = [add(path, {**(after.entry or {}), "relation": now})]
        else:
            mine = [*ops, replace(f"{path}/relation", now)]
        out.append((MYCASES, agent, _dumps(mine)))
    if after.requests != before.requests:
        board: list[Op] = []
        for rid in sorted(before.requests.keys() | after.requests.keys()):
            value = after.requests.get(rid)
            if value is None:
                board.append(remove(f"/requests/{rid}"))
            elif value != before.requests.get(rid):
                board.append(add(f"/requests/{rid}", value))
        out.append((SWARMS, OPEN_KEY, _dumps(board)))
    out.sort(key=lambda c: (c[0], c[1]))
    return out


def _open(entry: Doc | None) -> Doc | None:
    """The entry as the all-cases list has it: open cases only."""
    return entry if entry is not None and entry["status"] == "open" else None


def _dumps(ops: list[Op]) -> str:
    return orjson.dumps(ops).decode()


def list_key(view: str, caller: Any) -> str:
    """The key of a list for its caller (an `Actor`): my cases are the caller's own."""
    if view == MYCASES:
        return str(caller.id)
    return ALL_KEY if view == ALL_CASES else OPEN_KEY


def empty_list(view: str) -> dict[str, Any]:
    return {"requests": {}} if view == SWARMS else {"cases": {}}

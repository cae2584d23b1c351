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

Stored once per case, fanned out on read: what an event changes in a case's entry is the
same on every list that keeps the case, so it is stored once, inside the case's own
change of that event (`LISTED`, `change_text.with_listed`), and a list stores a change
of its own only when a case comes in, goes out or changes its relation there
(`list_changes`). A push feed fans the shared change out to the lists that keep the case
(`ListIndex`, kept from the lists' own changes); a resume rebuilds a list's changes from
its own and its cases' (`list_queries.read_list_changes`). An insight on a case of 32
members wrote 33 change rows; it now writes none of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import orjson

from projections.envelope import Doc, Op, add, remove, replace
from projections.rows import board_entries, relations

MYCASES, ALL_CASES, SWARMS = "mycases", "cases", "swarms"
ALL_KEY, OPEN_KEY = "all", "open"
ENTRY = "entry"  # the view name of the per-case entry documents
#: The view of a case's entry changes shared by every list that keeps it (key: case id):
#: pushed, and stored in the case's own change of the event (`fold.ViewSet._carry`).
LISTED = "listed"
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


def list_changes(
    case_id: str, before: ListState, after: ListState, shared: list[list[Op]] | None = None
) -> list[ListChange]:
    """The list changes one event made (before -> after), as STORED, in (view, key) order,
    each with its ops as JSON text (the same text `projections.fold.dumps` makes).

    The entry's ops are the same on every list that keeps the case before and after the
    event, so they are one change, (`LISTED`, case id), stored in the case's change
    and fanned out to the lists that keep the case when read (`ListIndex.expand`,
    `list_queries`). A list gets
    a row of its own only when the case comes in, goes out or changes its relation there
    (a whole add or remove, or the entry's ops and the new relation): that row replaces
    the shared one for that list at that position. One insight on a case of 32 members
    writes one list row, not 33. `shared` (a list of one), if given, is set to the
    shared change's ops (its text is in the result)."""
    out: list[ListChange] = []
    found = shared if shared is not None else [[]]
    path = f"/cases/{case_id}"
    ops = entry_ops(path, before.entry, after.entry)
    if ops and before.entry is not None and after.entry is not None:
        out.append((LISTED, case_id, _dumps(ops)))
        found[0] = ops
    was_open, is_open = _open(before.entry), _open(after.entry)
    if (was_open is None) != (is_open is None):  # it comes in or goes out
        out.append((ALL_CASES, ALL_KEY, _dumps(entry_ops(path, was_open, is_open))))
    for agent in sorted(before.members.keys() | after.members.keys()):
        was, now = before.members.get(agent), after.members.get(agent)
        if was == now:  # the shared row says it
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


def own_case(ops: list[Op]) -> tuple[str, str]:
    """(case id, "add" | "remove" | "stay") of a list's own row (`list_changes`): the case
    came in, went out, or stayed with a new relation (or, in rows stored before the
    shared rows, just changed)."""
    first = ops[0]
    case_id = first["path"].split("/")[2]
    op = first["op"]
    if op == "add" and first["path"].count("/") == 2:
        return case_id, "add"
    if op == "remove" and first["path"].count("/") == 2:
        return case_id, "remove"
    return case_id, "stay"


class ListIndex:
    """Which lists keep each case now: the members of each case's my-cases lists and the
    open cases (the all-cases list), kept up to date from the lists' own rows, to fan a
    shared change (`LISTED`) out to the lists that keep its case (`expand`)."""

    def __init__(self) -> None:
        self.members: dict[str, set[str]] = {}
        self.open: set[str] = set()

    def load(self, rows: Iterable[tuple[str, str | None, str]]) -> None:
        """(case id, member agent id or None, status) rows of the cases not closed."""
        for case_id, agent, status in rows:
            if agent is not None:
                self.members.setdefault(case_id, set()).add(agent)
            if status == "open":
                self.open.add(case_id)

    def expand(
        self, changes: Sequence[C], wanted: Callable[[tuple[str, str]], bool] | None = None
    ) -> list[C]:
        """`changes` (every change of some positions, in position order) with each shared
        change replaced by the change of each list that keeps its case, as the list
        sees it (`wanted`: only for these (view, key); default all); the lists' own rows
        update the index. Positions keep their (view, key) order."""
        out: list[C] = []
        n, total = 0, len(changes)
        while n < total:
            position = changes[n].position
            end = n
            while end < total and changes[end].position == position:
                end += 1
            group = changes[n:end]
            n = end
            if not any(c.view in _OWN_OR_SHARED for c in group):
                out.extend(group)
                continue
            own = {(c.view, c.key) for c in group if c.view in (MYCASES, ALL_CASES)}
            made: list[C] = []
            for c in group:
                if c.view != LISTED:
                    made.append(c)
                    continue
                lists = [(MYCASES, agent) for agent in self.members.get(c.key, ())]
                if c.key in self.open:
                    lists.append((ALL_CASES, ALL_KEY))
                for view, key in lists:
                    if (view, key) not in own and (wanted is None or wanted((view, key))):
                        made.append(_as(c, view, key))
            for c in group:
                if c.view in (MYCASES, ALL_CASES):
                    self._own(c)
            made.sort(key=lambda c: (c.view, c.key))
            out.extend(made)
        return out

    def _own(self, change: Any) -> None:
        text = getattr(change, "ops_json", None)  # the projector's own `Change`
        ops = orjson.loads(text) if text is not None else change.ops
        if not ops:
            return
        case_id, what = own_case(ops)
        if change.view == ALL_CASES:
            if what == "add":
                self.open.add(case_id)
            elif what == "remove":
                self.open.discard(case_id)
        elif what == "add":
            self.members.setdefault(case_id, set()).add(change.key)
        elif what == "remove":
            agents = self.members.get(case_id)
            if agents is not None:
                agents.discard(change.key)
                if not agents:
                    del self.members[case_id]


_OWN_OR_SHARED = frozenset((LISTED, MYCASES, ALL_CASES))


class _Positioned(Protocol):
    @property
    def view(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def position(self) -> int: ...


C = TypeVar("C", bound=_Positioned)


def _as(change: C, view: str, key: str) -> C:
    """The shared `change` as the change of list (view, key)."""
    if dataclasses.is_dataclass(change):
        return cast(C, dataclasses.replace(cast(Any, change), view=view, key=key))
    return cast(C, cast(Any, change)._replace(view=view, key=key))


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

"""Folding events into view documents: the one code path shared by the projector,
`swarmdesk rebuild`/`verify` and `?at_version=`.

`ViewSet.apply(envelope)` computes the ops of every view the event changes (reducers
read the documents as they stood before the event), applies the same ops to its
in-memory documents (`projections.patch`, equal to `jsonpatch` on these
ops), and records one `ViewChange` per changed document.
Documents it does not hold yet come from `load` (the database for the projector;
nothing for a rebuild).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from projections.article_view import article_ops
from projections.case_items import INSIGHT, PROPOSAL, Item, ItemKey, ItemSet
from projections.case_view import case_ops
from projections.change_text import pack, with_listed
from projections.changes import ViewChange
from projections.contribution import (
    ACTION,
    article_intents,
    contribution_intents,
    contribution_ops,
)
from projections.envelope import Doc, Envelope, Op, replace, s, sid
from projections.inbox_index import InboxIndex
from projections.inbox_view import Intent, agent_ops, inbox_intents, intent_ops
from projections.lists import ENTRY, LISTED, ListState, case_entry, list_changes
from projections.patch import apply_ops
from projections.rows import member_rows

Key = tuple[str, str]
Loader = Callable[[str, str], Awaitable[Doc | None]]
ItemLoader = Callable[[list[ItemKey]], Awaitable[dict[ItemKey, Item]]]


async def _nothing(view: str, key: str) -> Doc | None:
    return None


async def _no_items(keys: list[ItemKey]) -> dict[ItemKey, Item]:
    return {}


def stored_changes(changes: Iterable[Change]) -> list[Change]:
    """The changes `view_changes` stores: all but the lists' shared ones, which their
    case's change carries (`ViewSet._carry`)."""
    return [c for c in changes if c.view != LISTED]


class Change(NamedTuple):
    """One change with its ops as JSON text: `ops_json` (RFC 6902, what is pushed) and
    `stored` (what `view_changes` holds, `projections.change_text`); cheap to build."""

    view: str
    key: str
    position: int
    version: int
    ops_json: str
    stored: str

    @property
    def record(self) -> tuple[str, str, int, int, str]:
        """The `view_changes` row, in its column order (COPY takes it as it is)."""
        return (self.view, self.key, self.position, self.version, self.stored)

    @property
    def change(self) -> ViewChange:
        """The contract's `ViewChange` (ops parsed afresh: the caller may keep them)."""
        return ViewChange(
            self.view, self.key, self.position, self.version, json.loads(self.ops_json)
        )


@dataclass
class ViewSet:
    """Documents by (view, key), the changes made since `take_changes`, dirty keys."""

    load: Loader = _nothing
    docs: dict[Key, Doc | None] = field(default_factory=dict)
    dirty: dict[Key, int] = field(default_factory=dict)  # key -> last position
    changes: list[Change] = field(default_factory=list)
    inbox_index: InboxIndex = field(default_factory=InboxIndex)  # follows the inboxes
    #: The case items written by the fold, and those it read (`load_items`).
    items: ItemSet = field(default_factory=ItemSet)
    load_items: ItemLoader = _no_items
    #: The `case_members` rows of each case document as loaded (`members_kept`).
    loaded_members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Each case held as the live lists last saw it (`projections.lists`).
    lists: dict[str, ListState] = field(default_factory=dict)

    async def doc(self, view: str, key: str) -> Doc | None:
        k = (view, key)
        if k not in self.docs:
            doc = self.docs[k] = await self.load(view, key)
            if view == "case" and doc is not None:
                self.loaded_members[key] = member_rows(doc)
        return self.docs[k]

    def members_kept(self, doc: Doc) -> bool:
        """True when a case's member rows are those of the document as it was loaded
        (stored with it, so the write may leave them)."""
        return self.loaded_members.get(doc["case_id"]) == member_rows(doc)

    def _apply(self, view: str, key: str, position: int, version: int, ops: list[Op]) -> None:
        if not ops:
            return
        # The stored/pushed text is taken before the ops are applied: values are
        # inserted into the document as they are, and later ops may edit them there.
        text = _dumps(ops)
        stored = pack(ops, key, version, self.items) if view == "case" else pack(ops)
        k = (view, key)
        self.docs[k] = apply_ops(self.docs.get(k), ops)
        self.dirty[k] = position
        self.changes.append(Change(view, key, position, version, text, stored))

    async def apply(self, env: Envelope) -> None:
        """Fold one event into every view it changes (documents loaded first)."""
        key = env.key
        if env.name.startswith("SlaPolicy."):
            return  # no view: policies are read by the SLA engine and the KPI projection
        if env.name.startswith("Agent."):
            await self.doc("agent", key)
        elif env.name.startswith("Article."):
            article = await self.doc("article", key)
            for agent, _, _ in article_intents(env, article):
                await self.doc(ACTION, agent)
        else:
            case = await self.doc("case", key)
            await self._hold_items(env)
            for agent in _inbox_candidates(env, case, self.items):
                await self.doc("inbox", agent)
            for agent, _, _ in contribution_intents(env, case, self.items):
                await self.doc(ACTION, agent)
        self.fold(env)

    async def _hold_items(self, env: Envelope) -> None:
        """Read the items the event needs and the set does not hold yet."""
        wanted = _items_needed(env)
        missing = [k for k in wanted if k not in self.items.held]
        if missing:
            for k, item in (await self.load_items(missing)).items():
                self.items.hold(k, item)

    def fold(self, env: Envelope) -> None:
        """Fold one event into the documents held in memory (a document not held is
        taken as absent: what a rebuild, which holds everything, needs)."""
        intents = self.fold_stream(env)
        if intents:
            self.fold_inboxes(env.position, intents)

    def fold_stream(self, env: Envelope) -> list[Intent]:
        """`fold`, first half: the event's own case, agent or article document; returns
        what it does to inboxes and contributions (read from the document as it stood
        before the event), for `fold_inboxes`. Documents of distinct streams never meet
        here, so streams may be folded apart (`projections.parallel`)."""
        key = env.key
        docs = self.docs
        if env.name.startswith("SlaPolicy."):
            return []
        if env.name.startswith("Agent."):
            self._apply("agent", key, env.position, 0, agent_ops(docs.get(("agent", key)), env))
            return []
        if env.name.startswith("Article."):
            doc = docs.get(("article", key))
            intents = article_intents(env, doc)  # reuses count for the authors
            self._apply("article", key, env.position, env.version, article_ops(doc, env))
            return intents
        case = docs.get(("case", key))
        intents = inbox_intents(env, case, self.items)
        intents += contribution_intents(env, case, self.items)
        before = self.lists.get(key)
        if before is None:  # taken before the ops: they edit the document in place
            before = ListState.of(case)
        self._apply("case", key, env.position, env.version, case_ops(case, env, self.items))
        self._lists(key, env.position, before)
        return intents

    def _lists(self, key: str, position: int, before: ListState) -> None:
        """The case's list changes and its ``entry`` document (`projections.lists`)."""
        doc = self.docs.get(("case", key))
        if doc is None:
            return
        after = ListState.of(doc)
        self.lists[key] = after
        shared: list[list[Op]] = [[]]
        for view, list_key, ops_json in list_changes(key, before, after, shared):
            if view == LISTED:  # stored in the case's change of the event, first
                self._carry(key, position, shared[0])
            # stored as it is (RFC 6902 objects, which `change_text.unpack` reads): no
            # case item is appended there
            self.changes.append(Change(view, list_key, position, 0, ops_json, ops_json))
        entry = after.entry if after.entry is not None else case_entry(doc)
        # The row's position column stays the case's opened position: every event
        # rewrites the row in place, and PostgreSQL's same-page update then logs only
        # the bytes that changed (mostly `latest`, the document's last member).
        self.docs[(ENTRY, key)] = {**entry, "position": doc["opened_position"]}
        self.dirty[(ENTRY, key)] = position

    def _carry(self, key: str, position: int, ops: list[Op]) -> None:
        """Store the lists' shared change `ops` in the case's change at `position`
        (`change_text.with_listed`); the `LISTED` change itself is pushed, not stored
        (`stored_changes`). An entry changes only when its case document does."""
        for n in range(len(self.changes) - 1, -1, -1):
            c = self.changes[n]
            if c.position != position:
                break
            if c.view == "case" and c.key == key:
                doc, line = self.docs[("case", key)], None
                if doc is not None and '"/timeline/-"' in c.ops_json:
                    line = doc["timeline"][-1]  # the line this change appends
                stored = with_listed(c.stored, key, ops, line)
                self.changes[n] = Change(c.view, key, position, c.version, c.ops_json, stored)
                return
        raise AssertionError(f"case {key}: a list change at {position} without a case change")

    def fold_inboxes(self, position: int, intents: list[Intent]) -> None:
        """`fold`, second half: one event's inbox and contribution intents (events in
        log order)."""
        docs = self.docs
        index = self.inbox_index
        if any(action == ACTION for _, action, _ in intents):
            by_agent: dict[str, list[Any]] = {}
            for agent, _, change in (i for i in intents if i[1] == ACTION):
                by_agent.setdefault(agent, []).append(change)
            for agent, changes in by_agent.items():
                ops = contribution_ops(docs.get((ACTION, agent)), agent, changes)
                self._apply(ACTION, agent, position, 0, [*ops, replace("/position", position)])
            intents = [i for i in intents if i[1] != ACTION]
        for agent, ops in intent_ops(intents, lambda a: docs.get(("inbox", a)), index):
            ops = [*ops, replace("/position", position)]
            self._apply("inbox", agent, position, 0, ops)
            index.applied(agent, ops, docs.get(("inbox", agent)))

    async def apply_all(self, envelopes: Iterable[Envelope]) -> None:
        for env in envelopes:
            await self.apply(env)

    def take_changes(self) -> tuple[list[Change], dict[Key, int]]:
        """The changes and dirty keys since the last call (then forgotten)."""
        changes, dirty = self.changes, self.dirty
        self.changes, self.dirty = [], {}
        return changes, dirty


def _items_needed(env: Envelope) -> list[ItemKey]:
    """The items a case event reads: the insights a proposal cites, a decided proposal."""
    e = env.event
    if env.name == "ResolutionProposed":
        return [(env.key, INSIGHT, iid) for iid in s(list(e.cites))]
    if env.name in ("ProposalAccepted", "ProposalRejected"):
        return [(env.key, PROPOSAL, sid(e.proposal_id))]
    return []


def _inbox_candidates(env: Envelope, case: Doc | None, items: ItemSet) -> list[str]:
    """Agents whose inbox the event may touch (loaded before the reducers run)."""
    e = env.event
    out: list[str] = []
    for name in ("expert_id", "to_owner_id"):
        value = getattr(e, name, None)
        if value is not None:
            out.append(str(value))
    out += s(list(getattr(e, "mentions", [])))
    if env.name in ("ProposalAccepted", "ProposalRejected"):
        proposal = items.get(env.key, PROPOSAL, sid(e.proposal_id))
        if proposal is not None:
            out.append(proposal["author_id"])
    if case is not None and env.name in ("InvitationDeclined", "InvitationExpired"):
        out.append(case["owner"]["id"])  # told of it (`inbox_view._owner_item`)
    if case is not None and env.name in ("Resolved", "Closed"):
        out += [
            inv["expert_id"] for inv in case["invitations"].values() if inv["status"] == "pending"
        ]
    return list(dict.fromkeys(out))


def _dumps(value: Any) -> str:
    # orjson: the same text as json.dumps(separators=(",", ":"), ensure_ascii=False) for
    # the JSON-ready values the reducers build (str keys, str/int/bool/None/list/dict),
    # about ten times faster.
    return orjson.dumps(value).decode()


def dumps(doc: Any) -> str:
    """The stored JSON text of a document."""
    return _dumps(doc)

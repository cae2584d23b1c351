"""How a case document is stored: a core row plus its windows, read back in one statement.

The `case_views` row of a case holds its document without the windowed collections
(`core_of`): what changes with every event there is small and does not grow. The
windows (the newest insights, proposals, customer messages, context items per kind and
timeline entries, `projections.case_view`) are the newest rows of `case_items`, which
each event inserts once. `case_sql` reads the core row and every window in ONE
statement (one snapshot: never a core of one batch with items of another), and
`assemble_text` splices them into the document's JSON text; it equals the folded
document (key order aside, which JSON does not fix).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson

from domain.values import ContextKind
from projections.case_items import INSIGHT, MESSAGE, PROPOSAL, TIMELINE, context_kind
from projections.case_view import (
    CONTEXT_WINDOW,
    INSIGHTS_WINDOW,
    MESSAGES_WINDOW,
    PROPOSALS_WINDOW,
    TIMELINE_MAX,
)
from projections.envelope import Doc

#: Top-level members held as windows of `case_items` rows: member -> (kind, window).
LISTS = {
    "insights": (INSIGHT, INSIGHTS_WINDOW),
    "proposals": (PROPOSAL, PROPOSALS_WINDOW),
    "customer_messages": (MESSAGE, MESSAGES_WINDOW),
    "timeline": (TIMELINE, TIMELINE_MAX),
}
CONTEXT = {kind.value: context_kind(kind.value) for kind in ContextKind}
WINDOWED = (*LISTS, "context")
_WINDOWS = [*LISTS.values(), *((k, CONTEXT_WINDOW) for k in CONTEXT.values())]
CORE, MEMBER = "", "member"  # the `kind` of the core row, and of the caller's relation


#: What nearly every event changes, first in the core row's text: PostgreSQL logs an
#: update on the same page (HOT) as the bytes between the row's common prefix and
#: suffix, so with the members that change at the front the WAL of a rewrite is about
#: these members, not the whole row.
HOT = ("version", "position", "updated_at", "timeline_total", "totals", "status")


def core_of(doc: Doc) -> Doc:
    """What the `case_views` row of a case holds: the document without its windows, the
    members that change with every event first (`HOT`)."""
    core = {k: doc[k] for k in HOT if k in doc}
    for k, v in doc.items():
        if k not in WINDOWED and k not in core:
            core[k] = v
    return core


def case_sql(key: str, agent: str | None = None) -> str:
    """One statement answering rows (kind, seq, doc): the core row of case `key` (kind
    "", seq = its position), the newest items of each window (seq descending), and with
    `agent`, the agent's `case_members` relation (kind "member"). `key` and `agent` are
    parameter markers (":k" for SQLAlchemy, "$1" for asyncpg). Runs on PostgreSQL and
    SQLite (each window a sub-select: SQLite takes no LIMIT in a compound's member)."""
    parts = [
        "SELECT '' AS kind, position AS seq, doc FROM case_views"
        f" WHERE view = 'case' AND key = {key}"
    ]
    for n, (kind, window) in enumerate(_WINDOWS):
        parts.append(
            "SELECT * FROM (SELECT kind, seq, doc FROM case_items"
            f" WHERE case_id = {key} AND kind = '{kind}' ORDER BY seq DESC LIMIT {window})"
            f" AS w{n}"
        )
    if agent is not None:
        parts.append(
            "SELECT 'member' AS kind, 0 AS seq, relation AS doc FROM case_members"
            f" WHERE case_id = {key} AND agent_id = {agent}"
        )
    return " UNION ALL ".join(parts)


class Found:
    """The rows of `case_sql`, split: the position, the document text, the relation."""

    __slots__ = ("doc", "position", "relation")

    def __init__(self, position: int, doc: str, relation: str | None) -> None:
        self.position = position
        self.doc = doc
        self.relation = relation


def assemble(rows: Iterable[Sequence[object]]) -> Found | None:
    """The document from the rows of `case_sql` (None when the case has no core row)."""
    core: str | None = None
    position = 0
    relation: str | None = None
    items: dict[str, list[tuple[int, str]]] = {}
    for kind, seq, doc in rows:
        if kind == CORE:
            core, position = str(doc), int(str(seq))
        elif kind == MEMBER:
            relation = str(doc)
        else:
            items.setdefault(str(kind), []).append((int(str(seq)), str(doc)))
    if core is None:
        return None
    return Found(position, assemble_text(core, items), relation)


def _list(items: list[tuple[int, str]] | None) -> str:
    return "[" + ",".join(doc for _, doc in sorted(items or ())) + "]"  # oldest first


def assemble_text(core: str, items: dict[str, list[tuple[int, str]]]) -> str:
    """Splice the windows ((seq, item text) by kind) into the core's JSON text."""
    parts = [f'"{member}":{_list(items.get(kind))}' for member, (kind, _) in LISTS.items()]
    context = ",".join(f'"{name}":{_list(items.get(kind))}' for name, kind in CONTEXT.items())
    parts.append('"context":{' + context + "}")
    return core.rstrip()[:-1] + "," + ",".join(parts) + "}"


def loads(found: Found | None) -> Doc | None:
    if found is None:
        return None
    doc: Doc = orjson.loads(found.doc)
    return doc

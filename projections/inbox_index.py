"""Where each item id sits in an inbox's `items`, kept beside the inbox documents.

Settling an invitation (`inbox_view._set_status`) looks for the first item with a given
id; inboxes hold up to `INBOX_MAX` items and every join, resolution and closure settles
some, so a scan per settlement dominated the inbox fold. `InboxIndex` follows the ops
the inbox reducers emit (append an item, drop the first, set an item's status, replace
the whole document) and answers, per (agent, item id), every index holding that id,
ascending: exactly the items the scan would compare, in its order. Any other op on
`/items` forgets the agent's index, and an index whose list is not the document's own
(another object, another length) is rebuilt from the document, so a stale index is
never used.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from projections.envelope import Doc, Op


@dataclass
class _Items:
    items: list[Any]  # the document's own list (identity checked)
    ids: deque[str] = field(default_factory=deque)  # ids in list order
    where: dict[str, list[int]] = field(default_factory=dict)  # id -> absolute indexes
    dropped: int = 0  # items dropped from the front (absolute index of items[0])

    def append(self, item_id: str) -> None:
        self.where.setdefault(item_id, []).append(self.dropped + len(self.ids))
        self.ids.append(item_id)

    def drop_first(self) -> None:
        first = self.ids.popleft()
        at = self.where[first]
        del at[0]
        if not at:
            del self.where[first]
        self.dropped += 1


def _build(items: list[Any]) -> _Items | None:
    index = _Items(items)
    for item in items:
        item_id = item.get("id") if type(item) is dict else None
        if type(item_id) is not str:
            return None  # not an item the reducers wrote: callers scan
        index.append(item_id)
    return index


class InboxIndex:
    """Item positions per agent inbox (see module doc)."""

    def __init__(self) -> None:
        self._by_agent: dict[str, _Items] = {}

    def indexes(self, agent: str, inbox: Doc | None, item_id: str) -> list[int] | None:
        """Every index of `inbox["items"]` whose item has id `item_id`, ascending;
        None when there is no usable index (the caller scans)."""
        if inbox is None:
            return None
        items = inbox.get("items")
        if type(items) is not list:
            return None
        index = self._by_agent.get(agent)
        if index is None or index.items is not items or len(index.ids) != len(items):
            index = _build(items)
            if index is None:
                self._by_agent.pop(agent, None)
                return None
            self._by_agent[agent] = index
        dropped = index.dropped
        return [at - dropped for at in index.where.get(item_id, ())]

    def applied(self, agent: str, ops: list[Op], inbox: Doc | None) -> None:
        """Follow `ops`, just applied to `agent`'s inbox (now `inbox`)."""
        index = self._by_agent.get(agent)
        if index is None:
            return
        for op in ops:
            path = op["path"]
            kind = op["op"]
            if path == "/items/-" and kind == "add" and type(op["value"]) is dict:
                item_id = op["value"].get("id")
                if type(item_id) is str:
                    index.append(item_id)
                    continue
            elif path == "/items/0" and kind == "remove" and index.ids:
                index.drop_first()
                continue
            elif not path.startswith("/items") and path != "":
                continue  # "/position" and the like
            elif path.startswith("/items/") and path.endswith("/status") and kind == "replace":
                continue  # a status, not an id
            del self._by_agent[agent]  # anything else: rebuilt when next needed
            return
        if inbox is None or index.items is not inbox.get("items"):
            del self._by_agent[agent]

"""A case's items as rows: every insight, context item, customer message, proposal and
timeline entry, one row each in `case_items` (case_id, kind, item_id, seq, position,
doc), whether or not it is still inside its window of the case document.

- kind: "insight", "context:<kind>" (symptom, environment, step_tried, hypothesis),
  "customer_message", "proposal", "timeline".
- seq: the case version of the event that created the item (the timeline entry's own
  version): items of one kind in creation order; the paging cursor (`before=`).
- position: the log position of the item's last change (a proposal changes when it is
  decided); doc: the item as JSON text, exactly as it stands (or stood) in the window.

An event writes one or two rows (its item, its timeline entry), never the others: the
write per event does not grow with the case. `ItemSet` holds the items a fold has
written or needs (cited insights, decided proposals), as JSON text, so nothing it
hands out is shared with a document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from projections.envelope import Doc, Op, add, remove

ItemKey = tuple[str, str, str]  # (case id, kind, item id)

INSIGHT = "insight"
PROPOSAL = "proposal"
MESSAGE = "customer_message"
TIMELINE = "timeline"


def context_kind(kind: str) -> str:
    """The item kind of a context item of `kind` ("symptom", ...)."""
    return f"context:{kind}"


class Item(NamedTuple):
    seq: int
    position: int
    text: str  # the item as JSON


@dataclass
class ItemSet:
    """Items by (case, kind, id); `dirty`: those written since the set was made."""

    held: dict[ItemKey, Item] = field(default_factory=dict)
    dirty: dict[ItemKey, None] = field(default_factory=dict)  # an ordered set

    def get(self, case: str, kind: str, item_id: str) -> Doc | None:
        """A fresh copy of the item, or None when it is not held."""
        item = self.held.get((case, kind, item_id))
        if item is None:
            return None
        doc: Doc = orjson.loads(item.text)
        return doc

    def put(self, case: str, kind: str, item_id: str, seq: int, position: int, doc: Doc) -> None:
        """Write an item (created, or changed at `position`)."""
        key = (case, kind, item_id)
        self.held[key] = Item(seq, position, orjson.dumps(doc).decode())
        self.dirty[key] = None

    def hold(self, key: ItemKey, item: Item) -> None:
        """An item as stored (read for a fold; not written again unless it changes)."""
        self.held.setdefault(key, item)

    def rows(self) -> list[dict[str, Any]]:
        """The `case_items` rows of every item written (each once, as it stands)."""
        out = []
        for key in self.dirty:
            item = self.held[key]
            out.append(
                {
                    "case_id": key[0],
                    "kind": key[1],
                    "item_id": key[2],
                    "seq": item.seq,
                    "position": item.position,
                    "doc": item.text,
                }
            )
        return out


def window_add(view: Doc, path: str, window: int, item: Doc) -> list[Op]:
    """Append `item` to the windowed list at `path` (a JSON Pointer to a list of the
    view), dropping the oldest entry first when the window is full: the client's copy
    keeps exactly the last `window` entries too."""
    target: Any = view
    for token in path[1:].split("/"):
        target = target[token]
    ops: list[Op] = []
    if len(target) >= window:
        ops.append(remove(f"{path}/0"))
    ops.append(add(f"{path}/-", item))
    return ops


def index_of(items: list[Doc], item_id: str) -> int | None:
    """The index of the entry with `id` `item_id` in a window (None: not in it)."""
    for i, entry in enumerate(items):
        if entry["id"] == item_id:
            return i
    return None

"""How `view_changes` stores a change's ops: compact, and without the case items' text.

A change goes to push clients as RFC 6902 JSON (`projections.fold.Change.ops_json`); the
table keeps a compact form (`Change.stored`) that `projections.changes.read_changes` and
`read_all_changes` turn back into the same ops, so a client resuming with ``?after=`` or
fed from another process receives exactly the patches a live client received:

- each op is an array: ``["+", path, value]`` (add), ``["=", path, value]`` (replace),
  ``["-", path]`` (remove);
- an "add" of a case item whose `case_items` row holds exactly that value (an insight,
  customer message, context item or timeline entry: items that never change once
  written) is ``["@", path, kind, seq]``; the value is read back from the row (the case
  is the change's key). An event's text is then written once, in its item row, instead
  of again in the change log (issue #11: WAL and disk per insight). Proposals change
  when decided, so they are always stored inline;
- a change stored before this form (a list of RFC 6902 objects) reads as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from domain.values import ContextKind
from projections.case_items import INSIGHT, MESSAGE, TIMELINE, ItemSet, context_kind
from projections.envelope import Op

__all__ = ["Ref", "pack", "unpack"]

_CODES = {"add": "+", "replace": "=", "remove": "-"}
_OPS = {code: name for name, code in _CODES.items()}
ITEM = "@"

#: The window appends whose value may be a reference: path -> item kind.
_ITEM_PATHS = {
    "/insights/-": INSIGHT,
    "/customer_messages/-": MESSAGE,
    "/timeline/-": TIMELINE,
    **{f"/context/{k.value}/-": context_kind(k.value) for k in ContextKind},
}

Ref = tuple[int, str, int]  # (index of the op, item kind, seq)


def _ref(op: Op, case: str, version: int, items: ItemSet) -> tuple[str, int] | None:
    """(kind, seq) when `op` appends a case item exactly as its row stores it."""
    kind = _ITEM_PATHS.get(op["path"]) if op["op"] == "add" else None
    if kind is None:
        return None
    value = op["value"]
    item_id = str(version) if kind == TIMELINE else value.get("id")
    held = items.held.get((case, kind, str(item_id)))
    if held is None or held.seq != version or held.text != orjson.dumps(value).decode():
        return None
    return kind, held.seq


def pack(
    ops: Iterable[Op], case: str | None = None, version: int = 0, items: ItemSet | None = None
) -> str:
    """The stored text of `ops`; with `case` (a case change at `version`) and the fold's
    `items`, appends of unchanging items become references to their rows."""
    out: list[list[Any]] = []
    for op in ops:
        ref = _ref(op, case, version, items) if case is not None and items is not None else None
        if ref is not None:
            out.append([ITEM, op["path"], ref[0], ref[1]])
        elif op["op"] == "remove":
            out.append(["-", op["path"]])
        else:
            out.append([_CODES[op["op"]], op["path"], op["value"]])
    return orjson.dumps(out).decode()


def unpack(text: str) -> tuple[list[Op], list[Ref]]:
    """The ops of a stored change, and the item references whose values are still to
    be filled in (`op["value"]` of the op at each index)."""
    stored = orjson.loads(text)
    ops: list[Op] = []
    refs: list[Ref] = []
    for n, entry in enumerate(stored):
        if isinstance(entry, dict):  # stored before the compact form
            ops.append(entry)
        elif entry[0] == ITEM:
            ops.append({"op": "add", "path": entry[1], "value": None})
            refs.append((n, entry[2], int(entry[3])))
        elif entry[0] == "-":
            ops.append({"op": "remove", "path": entry[1]})
        else:
            ops.append({"op": _OPS[entry[0]], "path": entry[1], "value": entry[2]})
    return ops, refs

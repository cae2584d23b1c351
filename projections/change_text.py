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
- a change stored before this form (a list of RFC 6902 objects) reads as it is;
- a case change may carry, first, the change its event made to the case's entry on
  the live lists (`projections.lists`): ``["L", ops]``, each op as above with its path
  under the entry (``/cases/{case}`` left out). The lists' shared change then costs no
  row of its own (issue #11: a row and two index entries per event).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import orjson

from domain.values import ContextKind
from projections.case_items import INSIGHT, MESSAGE, TIMELINE, ItemSet, context_kind
from projections.envelope import Op

__all__ = [
    "LISTED_PREFIX",
    "Ref",
    "fill_latest",
    "latest_of",
    "pack",
    "unpack",
    "unpack_listed",
    "with_listed",
]

_CODES = {"add": "+", "replace": "=", "remove": "-"}
_OPS = {code: name for name, code in _CODES.items()}
ITEM = "@"
LISTED_MARK = "L"
LATEST = "~"  # a list entry's `latest` made of the change's timeline line (`with_listed`)
#: How a stored case change carrying its lists' shared change begins (SQL ``LIKE``).
LISTED_PREFIX = '[["L",'

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


def with_listed(stored: str, case: str, ops: list[Op], line: Op | None = None) -> str:
    """The stored text of a case change (`stored`) carrying the lists' shared change
    `ops` (paths under ``/cases/{case}``). With `line`, the timeline line the change
    appends: a new ``latest`` made of that line's type, author and time (what
    `projections.lists.case_entry` makes of it) is stored as ``["~", "/latest",
    by_name]``, and read back from the line."""
    cut = len(f"/cases/{case}")
    if len(ops) == 1 and ops[0]["path"][cut:] == "/latest" and ops[0]["op"] == "replace":
        value = ops[0]["value"]  # most events change only `latest`
        if _from_line(value, line):
            name = orjson.dumps(value["by_name"]).decode()
            head = f'["{LISTED_MARK}",[["{LATEST}","/latest",{name}]]]'
            return f"[{head}]" if stored == "[]" else f"[{head},{stored[1:]}"
    out: list[list[Any]] = []
    for op in ops:
        path, value = op["path"][cut:], op.get("value")
        if path == "/latest" and op["op"] == "replace" and _from_line(value, line):
            out.append([LATEST, path, cast(dict[str, Any], value)["by_name"]])
        elif op["op"] == "remove":
            out.append(["-", path])
        else:
            out.append([_CODES[op["op"]], path, value])
    head = orjson.dumps([LISTED_MARK, out]).decode()
    return f"[{head}]" if stored == "[]" else f"[{head},{stored[1:]}"


def _from_line(value: Any, line: Op | None) -> bool:
    return (
        line is not None
        and isinstance(value, dict)
        and len(value) == 4
        and value.get("at") == line["at"]
        and value.get("by") == line["by"]
        and value.get("type") == line["type"]
        and "by_name" in value
        and list(value) == _LATEST_KEYS
    )


_LATEST_KEYS = ["type", "by", "by_name", "at"]


def latest_of(line: Op, by_name: Any) -> dict[str, Any]:
    """A list entry's ``latest`` from its case's last timeline line."""
    return {"type": line["type"], "by": line["by"], "by_name": by_name, "at": line["at"]}


def unpack_listed(text: str, case: str) -> tuple[list[Op], list[Ref], list[Op] | None]:
    """`unpack`, and the lists' shared change the stored case change carries (None:
    none; paths under ``/cases/{case}`` again). A ``latest`` read back from the
    change's timeline line (`with_listed`) holds only ``by_name`` here, until
    `fill_latest` completes it once the line's value is filled in."""
    stored = orjson.loads(text)
    listed = None
    if stored and isinstance(stored[0], list) and stored[0][0] == LISTED_MARK:
        prefix = f"/cases/{case}"
        listed = []
        for code, path, *rest in stored[0][1]:
            if code == LATEST:
                listed.append({"op": "replace", "path": prefix + path, LATEST: rest[0]})
            else:
                listed += _ops([[code, prefix + path, *rest]])[0]
        stored = stored[1:]
    ops, refs = _ops(stored)
    return ops, refs, listed


def fill_latest(listed: list[Op], ops: list[Op]) -> None:
    """Complete each ``latest`` of `listed` (from `unpack_listed`) from the timeline line
    that the case change's `ops` (values filled in) append."""
    line = next((op["value"] for op in ops if op["path"] == "/timeline/-"), None)
    for op in listed:
        if LATEST in op:
            assert line is not None, "a stored latest without its timeline line"
            op["value"] = latest_of(line, op.pop(LATEST))


def unpack(text: str) -> tuple[list[Op], list[Ref]]:
    """The ops of a stored change, and the item references whose values are still to
    be filled in (`op["value"]` of the op at each index)."""
    stored = orjson.loads(text)
    if stored and isinstance(stored[0], list) and stored[0][0] == LISTED_MARK:
        stored = stored[1:]
    return _ops(stored)


def _ops(stored: list[Any]) -> tuple[list[Op], list[Ref]]:
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

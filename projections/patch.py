"""A fast in-place applier for the RFC 6902 subset the reducers emit.

Ops: "add", "replace", "remove" with JSON Pointer paths into objects and arrays
(array index or "-" to append; "" = the whole document, for "add"/"replace"). The
result equals `jsonpatch.apply_patch` for these ops (tested against it); clients may use
any RFC 6902 library. Values are inserted as they are: callers must not share them.
"""

from __future__ import annotations

from typing import Any

from projections.envelope import Doc, Op


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~") if "~" in token else token


def apply_ops(doc: Doc | None, ops: list[Op]) -> Doc:
    """Apply `ops` to `doc` in place; the (possibly new) document."""
    current: Any = doc if doc is not None else {}
    for op in ops:
        path = op["path"]
        kind = op["op"]
        if path == "":
            if kind not in ("add", "replace"):
                raise ValueError(f"unsupported root op {kind}")
            current = op["value"]
            continue
        tokens = path[1:].split("/")
        target: Any = current
        for token in tokens[:-1]:
            token = _unescape(token)
            target = target[int(token)] if isinstance(target, list) else target[token]
        last = _unescape(tokens[-1])
        if isinstance(target, list):
            if kind == "add":
                if last == "-":
                    target.append(op["value"])
                else:
                    target.insert(int(last), op["value"])
            elif kind == "replace":
                target[int(last)] = op["value"]
            elif kind == "remove":
                del target[int(last)]
            else:
                raise ValueError(f"unsupported op {kind}")
        else:
            if kind == "add":
                target[last] = op["value"]
            elif kind == "replace":
                if last not in target:
                    raise KeyError(f"replace of a missing member {path}")
                target[last] = op["value"]
            elif kind == "remove":
                del target[last]
            else:
                raise ValueError(f"unsupported op {kind}")
    result: Doc = current
    return result

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


_PATHS: dict[str, tuple[tuple[str, ...], str]] = {}  # path -> (parent tokens, last token)


def _parse(path: str) -> tuple[tuple[str, ...], str]:
    """A non-empty JSON Pointer's unescaped tokens, cached (paths repeat a lot)."""
    parsed = _PATHS.get(path)
    if parsed is None:
        tokens = path[1:].split("/")
        if "~" in path:
            tokens = [_unescape(t) for t in tokens]
        parsed = (tuple(tokens[:-1]), tokens[-1])
        if len(_PATHS) >= 100_000:  # bounded: paths holding ids are endless
            _PATHS.clear()
        _PATHS[path] = parsed
    return parsed


def apply_ops(doc: Doc | None, ops: list[Op]) -> Doc:
    """Apply `ops` to `doc` in place; the (possibly new) document."""
    current: Any = doc if doc is not None else {}
    paths = _PATHS
    for op in ops:
        path = op["path"]
        kind = op["op"]
        if path == "":
            if kind not in ("add", "replace"):
                raise ValueError(f"unsupported root op {kind}")
            current = op["value"]
            continue
        parents, last = paths.get(path) or _parse(path)
        target: Any = current
        for token in parents:
            target = target[int(token)] if isinstance(target, list) else target[token]
        if type(target) is dict or not isinstance(target, list):  # dicts first: most ops
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
        else:
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
    result: Doc = current
    return result

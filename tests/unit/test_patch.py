"""`projections.patch.apply_ops` equals `jsonpatch` on the ops the reducers emit,
escaped JSON Pointer tokens included."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest

from projections.patch import apply_ops

DOC: dict[str, Any] = {"a/b": {"~x": 1}, "list": [1, 2, 3], "m": {"k": {"n": 0}}}
OPS: list[list[dict[str, Any]]] = [
    [{"op": "replace", "path": "/a~1b/~0x", "value": 2}],
    [{"op": "add", "path": "/a~1b/~01", "value": [4]}],
    [{"op": "remove", "path": "/a~1b"}],
    [{"op": "add", "path": "/list/-", "value": {"v": 1}}, {"op": "remove", "path": "/list/0"}],
    [
        {"op": "add", "path": "/list/1", "value": 9},
        {"op": "replace", "path": "/list/0", "value": 8},
    ],
    [
        {"op": "add", "path": "/m/k/n2", "value": None},
        {"op": "replace", "path": "/m/k/n", "value": 1},
    ],
    [
        {"op": "replace", "path": "", "value": {"new": True}},
        {"op": "add", "path": "/x", "value": 1},
    ],
]


@pytest.mark.parametrize("ops", OPS)
def test_equals_jsonpatch(ops: list[dict[str, Any]]) -> None:
    expected = jsonpatch.apply_patch(copy.deepcopy(DOC), copy.deepcopy(ops))
    assert apply_ops(copy.deepcopy(DOC), copy.deepcopy(ops)) == expected


def test_replace_of_a_missing_member_raises() -> None:
    with pytest.raises(KeyError):
        apply_ops(copy.deepcopy(DOC), [{"op": "replace", "path": "/m/absent", "value": 1}])

"""The stored form of a change's ops (`projections.change_text`)."""

from __future__ import annotations

import json
from typing import Any

from projections.case_items import INSIGHT, PROPOSAL, TIMELINE, ItemSet
from projections.change_text import pack, unpack

CASE = "c1"


def _items() -> tuple[ItemSet, dict[str, Any], dict[str, Any]]:
    items = ItemSet()
    insight = {"id": "i1", "text": "pool exhausted " * 20, "version": 7}
    line = {"version": 7, "type": "InsightPosted", "text": "pool exhausted"}
    items.put(CASE, INSIGHT, "i1", 7, 70, insight)
    items.put(CASE, TIMELINE, "7", 7, 70, line)
    return items, insight, line


def test_appended_items_become_references_and_everything_else_stays() -> None:
    items, insight, line = _items()
    ops: list[dict[str, Any]] = [
        {"op": "remove", "path": "/insights/0"},
        {"op": "add", "path": "/insights/-", "value": insight},
        {"op": "replace", "path": "/version", "value": 7},
        {"op": "add", "path": "/timeline/-", "value": line},
    ]
    stored = pack(ops, CASE, 7, items)
    assert "pool exhausted" not in stored
    back, refs = unpack(stored)
    assert refs == [(1, INSIGHT, 7), (3, TIMELINE, 7)]
    for n, _, _ in refs:
        back[n]["value"] = ops[n]["value"]
    assert back == ops


def test_a_value_that_is_not_its_row_exactly_is_stored_inline() -> None:
    items, insight, _ = _items()
    changed = {**insight, "text": "edited"}
    other_version = pack([{"op": "add", "path": "/insights/-", "value": insight}], CASE, 8, items)
    edited = pack([{"op": "add", "path": "/insights/-", "value": changed}], CASE, 7, items)
    items.put(CASE, PROPOSAL, "p1", 7, 70, {"id": "p1", "summary": "raise pool"})
    proposal = pack(
        [{"op": "add", "path": "/proposals/-", "value": {"id": "p1", "summary": "raise pool"}}],
        CASE,
        7,
        items,
    )
    for stored in (other_version, edited, proposal):
        ops, refs = unpack(stored)
        assert refs == []
        assert ops[0]["value"] == json.loads(stored)[0][2]
    assert "raise pool" in proposal  # proposals change when decided: never a reference


def test_a_change_stored_before_the_compact_form_reads_as_it_is() -> None:
    ops = [
        {"op": "replace", "path": "/status", "value": "resolved"},
        {"op": "remove", "path": "/x"},
    ]
    assert unpack(json.dumps(ops)) == (ops, [])
    assert unpack(pack(ops)) == (ops, [])

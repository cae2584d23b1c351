"""`InboxIndex` gives `intent_ops` the same ops as scanning every inbox item, over
random intents: repeated ids, all three kinds, settlements, overflow past INBOX_MAX,
documents replaced behind the index's back."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from projections.envelope import Doc, replace
from projections.inbox_index import InboxIndex
from projections.inbox_view import INBOX_MAX, Intent, intent_ops
from projections.patch import apply_ops

AGENTS = ["a", "b"]


def _intents(rnd: random.Random, ids: list[str]) -> list[Intent]:
    out: list[Intent] = []
    for agent in rnd.sample(AGENTS, rnd.randint(1, 2)):
        if rnd.random() < 0.6 or not ids:
            item_id = rnd.choice(ids) if ids and rnd.random() < 0.2 else f"i{len(ids)}"
            ids.append(item_id)
            kind = rnd.choice(["invitation", "invitation", "mention", "decision"])
            item = {"id": item_id, "kind": kind, "status": "pending"}
            out.append((agent, "append", item))
        else:
            status = rnd.choice(["accepted", "withdrawn", "declined", "pending"])
            out.append((agent, "status", (rnd.choice(ids), status)))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_indexed_settlements_equal_scanned_ones(seed: int) -> None:
    rnd = random.Random(seed)
    ids: list[str] = []
    plain: dict[str, Doc | None] = dict.fromkeys(AGENTS)
    indexed: dict[str, Doc | None] = dict.fromkeys(AGENTS)
    index = InboxIndex()
    settled = 0
    for position in range(1, 3 * INBOX_MAX):
        intents = _intents(rnd, ids)
        expected = intent_ops(copy.deepcopy(intents), plain.get)
        found = intent_ops(copy.deepcopy(intents), indexed.get, index)
        assert found == expected
        settled += sum(1 for _, ops in found if ops[0]["path"].endswith("/status"))
        for agent, ops in expected:
            plain[agent] = apply_ops(plain[agent], [*copy.deepcopy(ops), replace("/position", 1)])
        for agent, ops in found:
            ops = [*ops, replace("/position", position)]
            indexed[agent] = apply_ops(indexed[agent], ops)
            index.applied(agent, ops, indexed[agent])
        if position % 97 == 0 and plain["a"] is not None:  # changed behind its back
            doc: Any = copy.deepcopy(plain["a"])
            doc["items"].reverse()
            plain["a"], indexed["a"] = doc, copy.deepcopy(doc)
        assert [_items(plain[a]) for a in AGENTS] == [_items(indexed[a]) for a in AGENTS]
    assert settled > 20
    assert max(len(_items(plain[a])) for a in AGENTS) == INBOX_MAX


def _items(doc: Doc | None) -> list[Any]:
    return [] if doc is None else list(doc["items"])

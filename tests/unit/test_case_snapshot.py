"""Case snapshots: every attribute a case holds, back to an equal case; another schema
or bad data is refused (the caller replays instead)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.case import Case
from domain.case_snapshot import SCHEMA, case_from_snapshot, snapshot_of
from tests.unit.test_domain_support import (
    EXPERT,
    OWNER,
    accepted,
    busy_case,
    given,
    insight_posted,
    invited,
    joined,
    proposed,
    resolved,
    swarm_requested,
)


def state(case: object) -> dict[str, Any]:
    return dict(case.__dict__)


@pytest.mark.parametrize(
    "steps",
    [
        [],
        [swarm_requested(), invited(), joined(), insight_posted(author=EXPERT)],
        [swarm_requested(), joined(), insight_posted(), proposed(), accepted(), resolved()],
        busy_case(),
    ],
)
def test_a_snapshot_rebuilds_an_equal_case(steps: list[Any]) -> None:
    case = given(*steps)
    data = json.loads(json.dumps(snapshot_of(case)))  # JSON types only
    restored = case_from_snapshot(data)
    assert state(restored) == state(case)
    assert type(restored) is Case
    # the restored case goes on deciding as the original would
    case.acknowledge_briefing(OWNER, version=case.version)
    restored.acknowledge_briefing(OWNER, version=restored.version)
    assert restored.version == case.version
    (mine,), (theirs,) = restored.collect_events(), case.collect_events()
    assert {**state(mine), "timestamp": None} == {**state(theirs), "timestamp": None}


def test_the_snapshot_names_every_attribute_a_case_holds() -> None:
    """A new attribute on `Case` fails here until the snapshot (and SCHEMA) covers it."""
    case = given(*busy_case())
    named = {f"_{k}" for k in snapshot_of(case)} - {"_schema"}
    assert named == set(case.__dict__) - {"_pending_events"}


def test_another_schema_or_bad_data_is_refused() -> None:
    data = snapshot_of(given())
    with pytest.raises(ValueError, match="schema"):
        case_from_snapshot({**data, "schema": SCHEMA + 1})
    with pytest.raises(ValueError, match="unreadable"):
        case_from_snapshot({**data, "priority": "sky-high"})
    broken = dict(data)
    del broken["participants"]
    with pytest.raises(ValueError, match="unreadable"):
        case_from_snapshot(broken)


def test_a_case_with_pending_events_has_no_snapshot() -> None:
    case = given()
    case.acknowledge_briefing(OWNER, version=1)
    with pytest.raises(ValueError, match="pending"):
        snapshot_of(case)

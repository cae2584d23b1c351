"""Case snapshots: every attribute a case holds, back to an equal case; schema 2 is
upcast, another schema or bad data is refused (the caller replays instead); copies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from app.service.repository import dump_case, load_case
from domain.case import Case
from domain.case_elements import ElementKind
from domain.case_snapshot import SCHEMA, case_from_snapshot, copy_of, snapshot_of
from domain.values import ProposalStatus
from tests.unit.test_domain_support import (
    EXPERT,
    INVITEE,
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


def through_json(data: dict[str, Any]) -> dict[str, Any]:
    """`data` after a JSON round trip: JSON types only, but for the packed elements."""
    packed = data["elements"]
    assert isinstance(packed, bytes)
    rest = json.loads(json.dumps({k: v for k, v in data.items() if k != "elements"}))
    return {**rest, "elements": packed}


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
    restored = case_from_snapshot(through_json(snapshot_of(case)))
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


def decided_and_expiring() -> list[Any]:
    """Proposals open, accepted and rejected; an expiring invitation declined, another
    pending; context beside the insights."""
    past = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        *busy_case(),
        proposed(SECOND),
        proposed(THIRD),
        accepted(),
        lambda case: case.reject_proposal(OWNER, proposal_id=SECOND, reason="too risky"),
        lambda case: case.decline_invitation(INVITEE, reason="busy"),
        invited(INVITEE, invitation_id=uuid4(), expires_at=past),
        lambda case: case.add_context(OWNER, context_id=uuid4(), kind="symptom", text="x"),
    ]


SECOND, THIRD = uuid4(), uuid4()


def as_schema_2(case: Case, declined_expiry: dict[str, str]) -> dict[str, Any]:
    """The snapshot schema 2 stored for `case` (its fields as `snapshot_of` wrote them
    then): every element id in hex, insights with their authors, every proposal with its
    status, the expiry of invitations no longer pending too."""
    data = snapshot_of(case)
    del data["elements"], data["open_proposals"]
    elements: Any = case._elements
    ids = [i for kind in ElementKind for i in elements.ids(kind)]
    proposals = [
        [str(p), str(OWNER.id), case.proposal_status(p).value]  # type: ignore[union-attr]
        for p in ids
        if case.proposal_status(p) is not None
    ]
    return {
        **data,
        "schema": 2,
        "element_ids": [format(i.int, "x") for i in reversed(ids)],  # a set: any order
        "insights": {str(i): str(EXPERT.id) for i in case.insights},
        "proposals": proposals,
        "invitation_expiry": {**data["invitation_expiry"], **declined_expiry},
    }


def test_a_schema_2_snapshot_is_upcast_to_an_equal_case() -> None:
    case = given(*decided_and_expiring())
    assert case.proposal_status(SECOND) is ProposalStatus.REJECTED
    declined = {str(uuid4()): "2026-01-01T00:00:00+00:00"}
    restored = case_from_snapshot(json.loads(json.dumps(as_schema_2(case, declined))))
    assert state(restored) == state(case)
    assert dict(restored.open_proposals) == dict(case.open_proposals)
    with pytest.raises(ValueError, match="unreadable"):
        case_from_snapshot({**as_schema_2(case, {}), "element_ids": ["not hex"]})
    with pytest.raises(ValueError, match="schema"):
        case_from_snapshot({**as_schema_2(case, {}), "schema": 1})


def test_restoring_reads_no_element() -> None:
    """The elements come back packed, as stored: nothing per element is parsed (what
    keeps loading a long case as cheap as a short one)."""
    case = given(*busy_case())
    for n in range(300):
        case.post_insight(OWNER, insight_id=uuid4(), kind="finding", text=f"{n}")
    case.collect_events()
    data = snapshot_of(case)
    restored: Any = case_from_snapshot(data)
    assert restored._elements._recent == {}
    assert len(restored._elements._packed) == 17 * len(restored._elements)
    assert data["elements"] == snapshot_of(restored)["elements"]
    with pytest.raises(ValueError, match="unreadable"):
        case_from_snapshot({**data, "elements": data["elements"][:-4]})
    with pytest.raises(ValueError, match="unreadable"):
        case_from_snapshot({**data, "elements": "a string"})


@pytest.mark.parametrize("steps", [[], busy_case(), decided_and_expiring()])
def test_a_copy_is_an_equal_independent_case(steps: list[Any]) -> None:
    case = given(*steps)
    copy = copy_of(case)
    assert state(copy) == state(case)
    assert state(copy) == state(case_from_snapshot(snapshot_of(case)))
    copy.post_insight(OWNER, insight_id=(added := uuid4()), kind="finding", text="only here")
    copy.transfer_ownership(OWNER, to_owner_id=INVITEE.id, handoff_note="leave")
    copy.collect_events()
    assert added in copy.insights
    assert added not in case.insights
    assert case.owner_id == OWNER.id
    assert INVITEE.id not in case.participants
    assert state(copy) != state(case)
    case.acknowledge_briefing(OWNER, version=1)
    with pytest.raises(ValueError, match="pending"):
        copy_of(case)


def test_the_store_keeps_json_then_the_packed_elements() -> None:
    case = given(*decided_and_expiring())
    kept = dump_case(case)
    head, _, packed = kept.partition(b"\n")
    assert json.loads(head)["schema"] == SCHEMA
    assert packed == snapshot_of(case)["elements"]
    assert state(load_case(kept)) == state(case)
    old = json.dumps(as_schema_2(case, {})).encode()  # schema 2 kept plain JSON
    assert state(load_case(old)) == state(case)
    for bad, why in (
        (head, "unreadable"),
        (b"[1]\n" + packed, "JSON object"),
        (b"{not json\n" + packed, "line 1"),
        (kept[:-1], "unreadable"),
    ):
        with pytest.raises(ValueError, match=why):  # the repository replays instead
            load_case(bad)

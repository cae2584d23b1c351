"""The element index: it answers as a plain dict would, whenever it was packed; it
restores from its packed bytes alone and refuses malformed ones."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.case_elements import PACK_AT, ElementIndex, ElementKind

IDS = [UUID(int=n) for n in (0, 1, 2, 255, 256, 2**64, 2**127, 2**128 - 1)] + [
    uuid4() for _ in range(8)
]
# (id, kind) to add, or None: pack here
STEPS = st.lists(
    st.one_of(st.none(), st.tuples(st.sampled_from(IDS), st.sampled_from(ElementKind))),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_it_answers_as_a_dict_whenever_it_was_packed(
    steps: list[tuple[UUID, ElementKind] | None],
) -> None:
    index, unpacked, expected = ElementIndex(), ElementIndex(), dict[UUID, ElementKind]()
    for step in steps:
        if step is None:
            index.pack()
            index = ElementIndex.unpack(index.pack())  # as a snapshot restores it
            continue
        element_id, kind = step
        index.add(element_id, kind)
        unpacked.add(element_id, kind)
        expected[element_id] = kind
        for probe in IDS:
            assert index.kind(probe) is expected.get(probe)
            assert (probe in index) is (probe in expected)
    assert len(index) == len(unpacked) == len(expected)
    assert index == unpacked  # the split between packed and recent is invisible
    for kind in ElementKind:
        wanted = sorted((i for i, k in expected.items() if k is kind), key=lambda u: u.bytes)
        assert list(index.ids(kind)) == wanted


def test_recent_elements_are_packed_as_they_grow() -> None:
    """A long case in memory keeps its elements packed, not one object each."""
    index, ids = ElementIndex(), [uuid4() for _ in range(4 * PACK_AT)]
    for n, element_id in enumerate(ids):
        index.add(element_id, ElementKind.INSIGHT if n % 2 else ElementKind.OTHER)
        assert len(index._recent) < max(PACK_AT, len(index._packed) // 17 + 1)
    assert len(index._packed) >= 17 * 2 * PACK_AT
    assert all(
        index.kind(i) is (ElementKind.INSIGHT if n % 2 else ElementKind.OTHER)
        for n, i in enumerate(ids)
    )
    assert len(index) == len(ids)


def test_a_copy_is_independent() -> None:
    index = ElementIndex()
    first, second = uuid4(), uuid4()
    index.add(first, ElementKind.PROPOSAL_OPEN)
    index.pack()
    copy = index.copy()
    copy.add(first, ElementKind.PROPOSAL_ACCEPTED)
    copy.add(second, ElementKind.INSIGHT)
    assert index.kind(first) is ElementKind.PROPOSAL_OPEN
    assert second not in index
    assert copy.kind(first) is ElementKind.PROPOSAL_ACCEPTED
    assert index != copy


def test_packed_bytes_are_sorted_fixed_width_records() -> None:
    index = ElementIndex()
    ids = [uuid4() for _ in range(50)]
    for element_id in ids:
        index.add(element_id, ElementKind.INSIGHT)
    packed = index.pack()
    assert packed == b"".join(
        i.bytes + bytes([ElementKind.INSIGHT]) for i in sorted(ids, key=lambda u: u.bytes)
    )


def test_malformed_packed_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="records"):
        ElementIndex.unpack(b"\x00" * 16)
    with pytest.raises(ValueError, match="kind"):
        ElementIndex.unpack(b"\x00" * 16 + b"\x09")
    assert len(ElementIndex.unpack(b"")) == 0

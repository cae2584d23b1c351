"""The ids of a case's elements and what each is: the one index the rules ask.

Every element of a case (context, customer message, swarm request, invitation, insight,
proposal) has an id unique within the case. The rules ask three things of them: is this
id used, is it an insight, which status has this proposal. A long case holds thousands,
so the index is kept in a form that costs nothing per element to restore or copy:

- ``packed``: a sorted ``bytes`` of fixed-width records, each the id's 16 bytes (big
  endian, ``UUID.bytes``) and one kind byte; a lookup is a binary search over it;
- ``recent``: the elements added or changed since it was packed, ``UUID.int -> kind``
  (ints, not UUIDs: the garbage collector does not track them), read first.

``pack()`` folds ``recent`` into ``packed`` (a snapshot stores the result); ``add`` does
when ``recent`` outgrows ``packed`` (and ``PACK_AT``), so a case kept in memory holds
about 17 bytes an element and packing costs O(1) an element, amortised. The split
between the two is invisible: lookups, ``len`` and equality see the same content
whichever way it is divided, so deciding does not depend on when a case was packed.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import IntEnum
from uuid import UUID

from domain.values import ProposalStatus

__all__ = ["PACK_AT", "PROPOSAL_KIND", "PROPOSAL_STATUS", "ElementIndex", "ElementKind"]

_ID = 16  # bytes of an id
_WIDTH = _ID + 1  # and its kind
PACK_AT = 512  # `recent` is folded in once it holds this many and as many as `packed`


class ElementKind(IntEnum):
    """What an element id names, as far as the rules need to know (one byte)."""

    OTHER = 0  # context, customer message, swarm request, invitation
    INSIGHT = 1
    PROPOSAL_OPEN = 2
    PROPOSAL_ACCEPTED = 3
    PROPOSAL_REJECTED = 4


PROPOSAL_KIND = {
    ProposalStatus.OPEN: ElementKind.PROPOSAL_OPEN,
    ProposalStatus.ACCEPTED: ElementKind.PROPOSAL_ACCEPTED,
    ProposalStatus.REJECTED: ElementKind.PROPOSAL_REJECTED,
}
PROPOSAL_STATUS: dict[ElementKind | None, ProposalStatus] = {
    kind: status for status, kind in PROPOSAL_KIND.items()
}

_KINDS = tuple(ElementKind)
_KIND_BYTE = tuple(bytes((kind,)) for kind in _KINDS)
_KNOWN = bytes(_KINDS)


class ElementIndex:
    """Element id -> ``ElementKind`` for one case (see the module docstring)."""

    __slots__ = ("_packed", "_recent")

    def __init__(self, packed: bytes = b"", recent: dict[int, int] | None = None) -> None:
        self._packed = packed
        self._recent: dict[int, int] = {} if recent is None else recent

    @classmethod
    def unpack(cls, packed: bytes) -> ElementIndex:
        """The index ``pack()`` returned; ``ValueError`` for a malformed one (its size, a
        kind byte; the order is trusted: it is our own snapshot's)."""
        if len(packed) % _WIDTH:
            raise ValueError(f"{len(packed)} bytes are not whole {_WIDTH}-byte records")
        if packed[_ID::_WIDTH].translate(None, _KNOWN):
            raise ValueError("an element kind out of range")
        return cls(bytes(packed))

    def pack(self) -> bytes:
        """Every element as sorted records (``recent`` folded in; the index keeps that)."""
        if self._recent:
            self._packed, self._recent = self._merged(), {}
        return self._packed

    def copy(self) -> ElementIndex:
        """An independent index (the packed part is immutable: shared)."""
        return ElementIndex(self._packed, dict(self._recent))

    def add(self, element_id: UUID, kind: ElementKind) -> None:
        """Record ``element_id`` as ``kind`` (also to change a known element's kind)."""
        recent = self._recent
        recent[element_id.int] = kind
        if len(recent) >= PACK_AT and len(recent) * _WIDTH >= len(self._packed):
            self.pack()

    def kind(self, element_id: UUID) -> ElementKind | None:
        """What ``element_id`` names in this case, None if nothing."""
        found = self._recent.get(element_id.int)
        if found is None:
            at = self._find(element_id.bytes)
            if at < 0:
                return None
            found = self._packed[at + _ID]
        return _KINDS[found]

    def __contains__(self, element_id: object) -> bool:
        return isinstance(element_id, UUID) and self.kind(element_id) is not None

    def __len__(self) -> int:
        return len(self.pack()) // _WIDTH

    def ids(self, kind: ElementKind) -> Iterator[UUID]:
        """The ids of one kind, in id order (reads every element: not for deciding)."""
        packed = self.pack()
        for at in range(0, len(packed), _WIDTH):
            if packed[at + _ID] == kind:
                yield UUID(bytes=packed[at : at + _ID])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ElementIndex):
            return NotImplemented
        return self._merged() == other._merged()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"ElementIndex({len(self)} elements)"

    # --- internals -------------------------------------------------------------------

    def _find(self, key: bytes) -> int:
        """The offset of ``key``'s record in ``packed``, or -1."""
        packed = self._packed
        lo, hi = 0, len(packed) // _WIDTH
        while lo < hi:
            mid = (lo + hi) // 2
            at = mid * _WIDTH
            if packed[at : at + _ID] < key:
                lo = mid + 1
            else:
                hi = mid
        at = lo * _WIDTH
        return at if packed[at : at + _ID] == key else -1

    def _merged(self) -> bytes:
        """``packed`` with ``recent`` folded in (a later kind replaces an earlier one)."""
        packed, recent = self._packed, self._recent
        if not recent:
            return packed
        kinds = {packed[at : at + _ID]: packed[at + _ID] for at in range(0, len(packed), _WIDTH)}
        for number, kind in recent.items():
            kinds[number.to_bytes(_ID, "big")] = kind
        return b"".join(key + _KIND_BYTE[kinds[key]] for key in sorted(kinds))

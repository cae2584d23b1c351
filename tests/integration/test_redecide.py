"""`AppendRequest.redecide` on real stores: a request whose stream moved is decided again
inside its batch, under the write lock, with exactly the events it missed; a refusal is
the request's outcome; requests chained after it see its new events; a request that
cannot decide again (base -1) is the plain conflict. Two PostgreSQL stores on one schema
are two processes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from eventsourcing.persistence import StoredEvent

from app.store import AppendRequest, EventStore, Link, RecordedEvent, VersionConflict
from app.store.memory import MemoryEventStore, MemoryLog
from tests.conftest import postgres_database


def event(stream: uuid.UUID, version: int, text: str) -> StoredEvent:
    return StoredEvent(stream, version, "test:Noted", text.encode())


@dataclass
class Again:
    """A `Redecide` that appends "text" after whatever it missed, and records it."""

    stream: uuid.UUID
    at: int  # the version of the state it decides on
    text: str
    refuse: bool = False
    seen: list[list[int]] = field(default_factory=list)

    def base(self) -> int:
        return self.at

    def __call__(self, missing: Sequence[RecordedEvent]) -> Sequence[StoredEvent]:
        self.seen.append([e.originator_version for e in missing])
        if self.refuse:
            raise ValueError("the rules refuse on the newer state")
        top = missing[-1].originator_version if missing else self.at
        self.at = top + 1
        return [event(self.stream, top + 1, self.text)]


@dataclass
class Follow:
    """A second command decided on the same state as `shared` (one line's shadow)."""

    shared: Again
    text: str

    def base(self) -> int:
        return self.shared.at

    def __call__(self, missing: Sequence[RecordedEvent]) -> Sequence[StoredEvent]:
        self.shared.text = self.text
        return self.shared(missing)


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two(request: pytest.FixtureRequest) -> AsyncIterator[tuple[EventStore, EventStore]]:
    """Two stores on one log: two processes."""
    if request.param == "memory":
        log = MemoryLog()
        async with MemoryEventStore(log) as first, MemoryEventStore(log) as second:
            yield first, second
        return
    async with (
        postgres_database() as database,
        database.store() as first,
        database.store() as second,
    ):
        yield first, second


async def versions(store: EventStore, stream: uuid.UUID) -> list[tuple[int, bytes]]:
    return [(e.originator_version, e.state) for e in await store.read_stream(stream)]


async def test_a_moved_stream_is_decided_again_with_what_it_missed(
    two: tuple[EventStore, EventStore],
) -> None:
    ours, other = two
    stream = uuid.uuid4()
    await ours.append(AppendRequest([event(stream, 1, "opened")]))
    await other.append(AppendRequest([event(stream, 2, "theirs a")]))
    await other.append(AppendRequest([event(stream, 3, "theirs b")]))
    again = Again(stream, 1, "ours")
    result = await ours.append(AppendRequest([event(stream, 2, "ours")], redecide=again))
    assert result.redecided
    assert result.version == 4
    assert again.seen == [[2, 3]]  # exactly the events after the state it decided on
    assert await versions(other, stream) == [
        (1, b"opened"),
        (2, b"theirs a"),
        (3, b"theirs b"),
        (4, b"ours"),
    ]


async def test_a_refusal_on_the_newer_state_is_the_outcome_and_appends_nothing(
    two: tuple[EventStore, EventStore],
) -> None:
    ours, other = two
    stream = uuid.uuid4()
    await ours.append(AppendRequest([event(stream, 1, "opened")]))
    await other.append(AppendRequest([event(stream, 2, "theirs")]))
    link = Link()
    with pytest.raises(ValueError, match="refuse"):
        await ours.append(
            AppendRequest(
                [event(stream, 2, "ours")], link=link, redecide=Again(stream, 1, "x", refuse=True)
            )
        )
    assert link.failed
    assert [v for v, _ in await versions(ours, stream)] == [1, 2]


async def test_a_chain_decided_again_in_one_batch(two: tuple[EventStore, EventStore]) -> None:
    """Two requests of one process chained on one stream, both behind the other process's
    event: the first is decided again, the second sees the first's new event."""
    ours, other = two
    stream = uuid.uuid4()
    await ours.append(AppendRequest([event(stream, 1, "opened")]))
    await other.append(AppendRequest([event(stream, 2, "theirs")]))
    shared = Again(stream, 1, "first")
    first_link = Link()
    first = ours.submit(
        AppendRequest([event(stream, 2, "first")], link=first_link, redecide=shared)
    )
    then = Follow(shared, "second")
    second = ours.submit(
        AppendRequest([event(stream, 3, "second")], after=first_link, redecide=then)
    )
    assert (await first).version == 3
    assert (await second).version == 4
    assert await versions(other, stream) == [
        (1, b"opened"),
        (2, b"theirs"),
        (3, b"first"),
        (4, b"second"),
    ]


async def test_without_a_state_to_decide_on_it_is_the_plain_conflict(
    two: tuple[EventStore, EventStore],
) -> None:
    ours, other = two
    stream = uuid.uuid4()
    await ours.append(AppendRequest([event(stream, 1, "opened")]))
    await other.append(AppendRequest([event(stream, 2, "theirs")]))
    with pytest.raises(VersionConflict):
        await ours.append(
            AppendRequest([event(stream, 2, "ours")], redecide=Again(stream, -1, "x"))
        )

"""The event store's guarantees, on SQLite and PostgreSQL (DESIGN.md section 3)."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from app.store import (
    AppendRequest,
    EventStore,
    IdempotencyKeyReused,
    Link,
    RecordedEvent,
    StoreUnavailable,
    VersionConflict,
)
from tests.conftest import Database


def event(stream: UUID, version: int, **data: object) -> StoredEvent:
    return StoredEvent(stream, version, "test:Event", json.dumps(data).encode())


async def test_positions_and_versions_are_contiguous_across_conflicts(store: EventStore) -> None:
    streams = [uuid4() for _ in range(5)]
    await asyncio.gather(*(store.append(AppendRequest([event(s, 1)])) for s in streams))

    async def attempt(stream: UUID) -> bool:
        try:
            await store.append(AppendRequest([event(stream, 2), event(stream, 3)]))
        except VersionConflict:
            return False
        return True

    # Three writers race for each stream's version 2: exactly one wins per stream.
    outcomes = await asyncio.gather(*(attempt(s) for s in streams for _ in range(3)))
    assert sum(outcomes) == len(streams)
    rows = await store.read(0, 1000)
    assert [r.position for r in rows] == list(range(1, len(rows) + 1))
    assert len(rows) == len(streams) * 3
    for s in streams:
        versions = [r.originator_version for r in await store.read_stream(s)]
        assert versions == [1, 2, 3]


async def test_conflict_appends_nothing_and_reports_current_version(store: EventStore) -> None:
    stream = uuid4()
    await store.append(AppendRequest([event(stream, 1), event(stream, 2)]))
    with pytest.raises(VersionConflict) as info:
        await store.append(AppendRequest([event(stream, 2, late=True), event(stream, 3)]))
    assert info.value.current_version == 2
    assert info.value.expected_version == 1
    assert info.value.originator_id == stream
    assert await store.max_position() == 2
    with pytest.raises(VersionConflict):  # a gap is refused as well
        await store.append(AppendRequest([event(stream, 4)]))
    assert await store.max_position() == 2


async def test_a_conflict_never_fails_another_command_of_its_batch(store: EventStore) -> None:
    stream = uuid4()
    await store.append(AppendRequest([event(stream, 1)]))
    loser = AppendRequest([event(stream, 1, dup=True)])
    winners = [AppendRequest([event(uuid4(), 1)]) for _ in range(20)]
    gate = asyncio.Event()

    async def hold(_: list[AppendRequest]) -> None:  # make the queue build up one batch
        await gate.wait()

    store.before_commit = hold
    blocker = asyncio.create_task(store.append(AppendRequest([event(uuid4(), 1)])))
    await asyncio.sleep(0.05)
    tasks = [asyncio.create_task(store.append(r)) for r in [*winners[:10], loser, *winners[10:]]]
    await asyncio.sleep(0.05)
    store.before_commit = None
    gate.set()
    await blocker
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[10], VersionConflict)
    ok = [r for i, r in enumerate(results) if i != 10]
    assert all(not isinstance(r, BaseException) for r in ok)
    assert store.batches >= 2
    rows = await store.read(0, 100)
    assert [r.position for r in rows] == list(range(1, 23))


async def test_idempotent_replay_returns_the_first_result(store: EventStore) -> None:
    stream = uuid4()
    first = await store.append(
        AppendRequest([event(stream, 1)], idempotency_key="k-1", request_hash="h")
    )
    again = await store.append(
        AppendRequest([event(stream, 1)], idempotency_key="k-1", request_hash="h")
    )
    assert again.replayed
    assert not first.replayed
    assert (again.positions, again.version, again.originator_id) == (
        first.positions,
        first.version,
        stream,
    )
    with pytest.raises(IdempotencyKeyReused):
        await store.append(
            AppendRequest([event(stream, 2)], idempotency_key="k-1", request_hash="other")
        )
    # Concurrent duplicates in one batch: one append, the same result for all.
    other = uuid4()
    dupes = await asyncio.gather(
        *(
            store.append(AppendRequest([event(other, 1)], idempotency_key="k-2", request_hash="h"))
            for _ in range(5)
        )
    )
    assert len({tuple(d.positions) for d in dupes}) == 1
    assert await store.max_position() == 2
    found = await store.stored_result("k-1")
    assert found is not None
    assert found[1].positions == first.positions


async def test_every_event_has_a_unique_id(store: EventStore) -> None:
    await asyncio.gather(*(store.append(AppendRequest([event(uuid4(), 1)])) for _ in range(50)))
    rows = await store.read(0, 100)
    assert len({r.event_id for r in rows}) == 50


async def test_subscription_catches_up_then_follows_live(store: EventStore) -> None:
    stream = uuid4()
    for v in range(1, 6):
        await store.append(AppendRequest([event(stream, v)]))
    seen: list[int] = []

    async def follow() -> None:
        async for row in store.subscribe(2):
            seen.append(row.position)
            if row.position == 10:
                return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    for v in range(6, 11):
        await store.append(AppendRequest([event(stream, v)]))
    await asyncio.wait_for(task, 5)
    assert seen == list(range(3, 11))


async def test_subscription_filters_topics(store: EventStore) -> None:
    a, b = uuid4(), uuid4()
    await store.append(AppendRequest([event(a, 1)]))
    await store.append(AppendRequest([StoredEvent(b, 1, "other:Topic", b"{}")]))
    await store.append(AppendRequest([event(a, 2)]))
    got: list[RecordedEvent] = []
    async for row in store.subscribe(0, topics=["other:Topic"]):
        got.append(row)
        break
    assert [(r.position, r.topic) for r in got] == [(2, "other:Topic")]


async def test_torture_many_writers_delayed_commits_two_readers(database: Database) -> None:
    """16 writers over 3 store instances (as separate processes would be), some commits
    delayed, some rolled back on purpose; 2 readers on a 4th instance tail from 0."""
    writers = [database.store() for _ in range(3)]
    reader_store = database.store()
    for s in [*writers, reader_store]:
        await s.start()
    rng = random.Random(7)

    async def delay_or_fail(requests: list[AppendRequest]) -> None:
        roll = rng.random()
        if roll < 0.2:
            await asyncio.sleep(rng.uniform(0.005, 0.03))
        elif roll < 0.25 and any(b'"doomed": true' in r.events[0].state for r in requests):
            raise RuntimeError("injected failure before commit")

    for s in writers:
        s.before_commit = delay_or_fail
    acknowledged: set[str] = set()
    failed: set[str] = set()
    per_writer = 25

    async def writer(n: int) -> None:
        s = writers[n % len(writers)]
        stream = uuid4()
        version = 0
        for i in range(per_writer):
            tag = f"{n}-{i}"
            doomed = rng.random() < 0.2
            try:
                await s.append(AppendRequest([event(stream, version + 1, tag=tag, doomed=doomed)]))
            except StoreUnavailable:
                failed.add(tag)
                continue
            version += 1
            acknowledged.add(tag)

    collected: list[list[RecordedEvent]] = [[], []]

    async def reader(rows: list[RecordedEvent]) -> None:
        async for row in reader_store.subscribe(0):
            rows.append(row)

    readers = [asyncio.create_task(reader(rows)) for rows in collected]
    try:
        await asyncio.gather(*(writer(n) for n in range(16)))
        async with asyncio.timeout(30):
            while any(len(rows) < len(acknowledged) for rows in collected):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # anything extra (a duplicate, a rolled-back event) shows now
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for s in [*writers, reader_store]:
            await s.close()
    results = collected
    assert failed, "the fault injection should have rolled back some batches"
    for rows in results:
        positions = [r.position for r in rows]
        assert positions == list(range(1, len(acknowledged) + 1))  # contiguous, ordered, once
        tags = [json.loads(r.state)["tag"] for r in rows]
        assert len(tags) == len(set(tags))
        assert set(tags) == acknowledged  # every committed event, nothing rolled back
        assert not set(tags) & failed


async def test_n_writers_racing_on_one_case(database: Database) -> None:
    stores = [database.store() for _ in range(2)]
    for s in stores:
        await s.start()
    stream = uuid4()
    wins: dict[int, int] = {}
    conflicts = 0

    async def racer(n: int) -> None:
        nonlocal conflicts
        s = stores[n % 2]
        for _ in range(40):
            current = len(await s.read_stream(stream))
            try:
                await s.append(AppendRequest([event(stream, current + 1, by=n)]))
            except VersionConflict:
                conflicts += 1
            else:
                wins[current + 1] = wins.get(current + 1, 0) + 1

    try:
        await asyncio.gather(*(racer(n) for n in range(8)))
        rows = await stores[0].read_stream(stream)
    finally:
        for s in stores:
            await s.close()
    assert all(count == 1 for count in wins.values())  # exactly one winner per version
    assert [r.originator_version for r in rows] == list(range(1, len(rows) + 1))
    assert len(rows) == len(wins)  # nothing lost
    assert conflicts > 0
    assert len(rows) + conflicts == 8 * 40


async def test_snapshots_keep_the_latest_and_load_in_one_read(store: EventStore) -> None:
    stream = uuid4()
    await store.append(AppendRequest([event(stream, v) for v in range(1, 6)]))
    found, rows = await store.read_latest(stream)
    assert found is None
    assert [r.originator_version for r in rows] == [1, 2, 3, 4, 5]
    await store.write_snapshot(stream, 3, b"at three")
    await store.write_snapshot(stream, 2, b"older")  # never replaces a later one
    assert await store.read_snapshot(stream) == (3, b"at three")
    found, rows = await store.read_latest(stream)
    assert found == (3, b"at three")
    assert [r.originator_version for r in rows] == [4, 5]
    assert [r.position for r in rows] == [4, 5]
    await store.write_snapshot(stream, 5, b"at five")
    found, rows = await store.read_latest(stream)
    assert found == (5, b"at five")
    assert rows == []
    assert await store.read_latest(uuid4()) == (None, [])


async def test_chained_requests_commit_only_after_their_predecessor(store: EventStore) -> None:
    """A request decided on top of one that was not appended is refused even when the
    versions line up (here another writer filled the gap with its own version 2)."""
    stream = uuid4()
    await store.append(AppendRequest([event(stream, 1)]))
    first = AppendRequest([event(stream, 2, mine=True)], link=Link())
    second = AppendRequest([event(stream, 3, mine=True)], link=Link(), after=first.link)
    other = store.submit(AppendRequest([event(stream, 2, theirs=True)]))  # queued first
    mine = [store.submit(first), store.submit(second)]
    await other
    results = await asyncio.gather(*mine, return_exceptions=True)
    assert all(isinstance(r, VersionConflict) for r in results)
    assert first.link is not None
    assert first.link.failed
    assert second.link is not None
    assert second.link.failed
    assert [r.originator_version for r in await store.read_stream(stream)] == [1, 2]
    third = AppendRequest([event(stream, 3)], link=Link(), after=Link())  # a committed one
    assert (await store.append(third)).version == 3


async def test_expired_keys_are_forgotten(store: EventStore) -> None:
    stream = uuid4()
    request = AppendRequest([event(stream, 1)], idempotency_key="k-expire", request_hash="h")
    await store.append(request)
    now = datetime.now(UTC)
    assert await store.expire_keys(now - timedelta(hours=1)) == 0
    assert await store.stored_result("k-expire") is not None
    assert await store.expire_keys(now + timedelta(hours=1)) == 1
    assert await store.stored_result("k-expire") is None

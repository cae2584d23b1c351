"""The in-memory event store: the shared store tests, its own checks, the conformance suite.

The test bodies of `tests/integration/test_store.py` are imported, so pytest runs them
here too, against this module's `database` fixture (stores sharing one named log, as
processes share one database) instead of the SQLite and PostgreSQL ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.tests.persistence import ApplicationRecorderTestCase, TrackingRecorderTestCase

from app.store import (
    AppendRequest,
    IdempotencyKeyReused,
    StoreUnavailable,
    TrackingConflict,
    VersionConflict,
    create_store,
)
from app.store.memory import MemoryEventStore, MemoryLog
from app.store.sync import SyncRecorder
from tests.conftest import Database
from tests.integration.test_store import (
    event,
    test_a_conflict_never_fails_another_command_of_its_batch,
    test_chained_requests_commit_only_after_their_predecessor,
    test_conflict_appends_nothing_and_reports_current_version,
    test_every_event_has_a_unique_id,
    test_expired_keys_are_forgotten,
    test_idempotent_replay_returns_the_first_result,
    test_n_writers_racing_on_one_case,
    test_positions_and_versions_are_contiguous_across_conflicts,
    test_snapshots_keep_the_latest_and_load_in_one_read,
    test_subscription_catches_up_then_follows_live,
    test_subscription_filters_topics,
    test_torture_many_writers_delayed_commits_two_readers,
)

__all__ = [
    "test_a_conflict_never_fails_another_command_of_its_batch",
    "test_chained_requests_commit_only_after_their_predecessor",
    "test_conflict_appends_nothing_and_reports_current_version",
    "test_every_event_has_a_unique_id",
    "test_expired_keys_are_forgotten",
    "test_idempotent_replay_returns_the_first_result",
    "test_n_writers_racing_on_one_case",
    "test_positions_and_versions_are_contiguous_across_conflicts",
    "test_snapshots_keep_the_latest_and_load_in_one_read",
    "test_subscription_catches_up_then_follows_live",
    "test_subscription_filters_topics",
    "test_torture_many_writers_delayed_commits_two_readers",
]


@pytest.fixture
def database() -> Database:
    """A fresh named log; every `database.store()` is a store over it."""
    return Database("memory", f"memory://t-{uuid4().hex}")


@pytest.fixture
async def memory() -> AsyncIterator[MemoryEventStore]:
    async with MemoryEventStore() as s:
        assert isinstance(s, MemoryEventStore)
        yield s


def test_the_factory_builds_private_and_shared_logs() -> None:
    private = [create_store("memory://") for _ in range(2)]
    shared = [create_store("memory://name", schema="s1") for _ in range(2)]
    other_schema = create_store("memory://name", schema="s2")
    assert all(isinstance(s, MemoryEventStore) for s in [*private, *shared, other_schema])
    logs = [s.log for s in [*private, *shared, other_schema] if isinstance(s, MemoryEventStore)]
    assert logs[0] is not logs[1]
    assert logs[2] is logs[3]
    assert logs[4] is not logs[2]


async def test_conflicts_in_one_batch_fail_only_their_own_requests(
    memory: MemoryEventStore,
) -> None:
    a, b = uuid4(), uuid4()
    await memory.append(AppendRequest([event(a, 1)]))
    gate, holding = asyncio.Event(), asyncio.Event()

    async def hold(_: list[AppendRequest]) -> None:  # the queue builds up meanwhile
        holding.set()
        await gate.wait()

    memory.before_commit = hold
    blocker = asyncio.create_task(memory.append(AppendRequest([event(uuid4(), 1)])))
    await holding.wait()
    requests = [
        AppendRequest([event(a, 2)]),  # wins
        AppendRequest([event(a, 2, late=True)]),  # stale: its own conflict
        AppendRequest([event(b, 1), event(a, 3)]),  # continues the batch's own write of a
        AppendRequest([event(b, 2), event(a, 3)]),  # a is at 3 now: nothing of it (not b/2)
        AppendRequest([event(b, 2)]),  # b/2 is still free
    ]
    tasks = [asyncio.create_task(memory.append(r)) for r in requests]
    await asyncio.sleep(0)
    memory.before_commit = None
    gate.set()
    await blocker
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert memory.batches == 3  # the first append, the blocker, then the five together
    assert [type(r).__name__ for r in results] == [
        "AppendResult",
        "VersionConflict",
        "AppendResult",
        "VersionConflict",
        "AppendResult",
    ]
    rows = await memory.read(0, 100)
    assert [r.position for r in rows] == list(range(1, 7))
    assert [r.originator_version for r in await memory.read_stream(a)] == [1, 2, 3]
    assert [r.originator_version for r in await memory.read_stream(b)] == [1, 2]


async def test_a_failed_commit_applies_nothing(memory: MemoryEventStore) -> None:
    async def fail(_: list[AppendRequest]) -> None:
        raise RuntimeError("injected")

    memory.before_commit = fail
    stream = uuid4()
    with pytest.raises(StoreUnavailable):
        await memory.append(
            AppendRequest([event(stream, 1)], idempotency_key="k", request_hash="h")
        )
    memory.before_commit = None
    assert await memory.max_position() == 0
    assert await memory.stored_result("k") is None
    result = await memory.append(
        AppendRequest([event(stream, 1)], idempotency_key="k", request_hash="h")
    )
    assert (result.positions, result.replayed) == ([1], False)


async def test_idempotent_replay_appends_nothing(memory: MemoryEventStore) -> None:
    stream = uuid4()
    request = AppendRequest([event(stream, 1), event(stream, 2)], "key", "hash")
    first = await memory.append(request)
    again = await memory.append(request)
    assert (again.positions, again.version, again.replayed) == ([1, 2], 2, True)
    assert not first.replayed
    assert await memory.max_position() == 2
    with pytest.raises(IdempotencyKeyReused):
        await memory.append(AppendRequest([event(stream, 3)], "key", "another hash"))
    assert await memory.max_position() == 2
    assert await memory.stored_result("key") == ("hash", again)


async def test_subscribe_from_a_position_catches_up_then_is_woken_live(
    memory: MemoryEventStore,
) -> None:
    memory.poll_interval = 60  # only the appender's wake-up can deliver the live events
    stream = uuid4()
    await memory.append(AppendRequest([event(stream, v) for v in (1, 2, 3)]))
    seen: list[int] = []
    caught_up = asyncio.Event()

    async def follow() -> None:
        async for row in memory.subscribe(1, topics=["test:Event"]):
            seen.append(row.position)
            if row.position == 3:
                caught_up.set()
            if row.position == 7:
                return

    task = asyncio.create_task(follow())
    await asyncio.wait_for(caught_up.wait(), 1)
    await memory.append(AppendRequest([event(stream, 4), StoredEvent(stream, 5, "x:Y", b"")]))
    await memory.append(AppendRequest([event(stream, 6)]))
    await memory.append(AppendRequest([event(uuid4(), 1)]))
    await asyncio.wait_for(task, 1)
    assert seen == [2, 3, 4, 6, 7]  # from position 2, the other topic left out


async def test_readers_on_another_store_of_the_log_are_woken(database: Database) -> None:
    store = database.store
    async with store(poll_interval=60) as writer, store(poll_interval=60) as reader:
        got: list[int] = []

        async def follow() -> None:
            async for row in reader.subscribe(0):
                got.append(row.position)
                if row.position == 2:
                    return

        task = asyncio.create_task(follow())
        await asyncio.sleep(0)
        await writer.append(AppendRequest([event(uuid4(), 1)]))
        await writer.append(AppendRequest([event(uuid4(), 1)]))
        await asyncio.wait_for(task, 1)
        assert got == [1, 2]


async def test_tracking_only_moves_forward(memory: MemoryEventStore) -> None:
    assert await memory.max_tracking("views") is None
    await memory.insert_tracking("views", 3)
    await memory.insert_tracking("views", 5)
    with pytest.raises(TrackingConflict):
        await memory.insert_tracking("views", 5)
    await memory.insert_tracking("other", 1)
    assert (await memory.max_tracking("views"), await memory.max_tracking("other")) == (5, 1)


async def test_reads_by_range_topic_and_stream(memory: MemoryEventStore) -> None:
    a, b = uuid4(), uuid4()
    await memory.append(AppendRequest([event(a, 1), StoredEvent(b, 1, "x:Y", b""), event(a, 2)]))
    await memory.append(AppendRequest([event(a, 3), event(b, 2)]))
    positions = [r.position for r in await memory.read(1, 2)]
    assert positions == [2, 3]
    assert [r.position for r in await memory.read(0, 10, until=3, topics=["test:Event"])] == [1, 3]
    assert [r.position for r in await memory.read(0, 10, originator_id=b)] == [2, 5]
    assert await memory.read(5, 10) == []
    versions = [r.originator_version for r in await memory.read_stream(a, gt=1, desc=True)]
    assert versions == [3, 2]
    assert [r.originator_version for r in await memory.read_stream(a, lte=2, limit=1)] == [1]


async def test_conflict_next_acts_like_another_writer(memory: MemoryEventStore) -> None:
    stream = uuid4()
    await memory.append(AppendRequest([event(stream, 1)]))
    memory.conflict_next(stream, times=2)

    async def save(conflicts: list[int]) -> int:
        """A command's retry loop: reload the stream, decide, append at its version."""
        for _ in range(3):
            version = len(await memory.read_stream(stream))
            try:
                return (await memory.append(AppendRequest([event(stream, version + 1)]))).version
            except VersionConflict as exc:
                conflicts.append(exc.current_version - version)
        raise AssertionError("no attempt succeeded")

    conflicts: list[int] = []
    assert await save(conflicts) == 4  # two foreign events (versions 2 and 3) then ours
    assert conflicts == [1, 1]  # each time, one event was written after the read
    other = uuid4()
    assert (await memory.append(AppendRequest([event(other, 1)]))).version == 1
    rows = await memory.read_stream(stream)
    assert [r.originator_version for r in rows] == [1, 2, 3, 4]
    assert [r.position for r in await memory.read(0, 10)] == [1, 2, 3, 4, 5]


async def test_closed_or_unstarted_store_is_unavailable() -> None:
    store = MemoryEventStore(MemoryLog())
    with pytest.raises(StoreUnavailable):
        await store.check()
    with pytest.raises(StoreUnavailable):
        await store.append(AppendRequest([event(uuid4(), 1)]))
    async with store:
        await store.check()
    with pytest.raises(StoreUnavailable):
        await store.read(0, 10)


class _MemoryRecorders:
    recorders: list[SyncRecorder]

    def setUp(self) -> None:
        self.recorders = []

    def tearDown(self) -> None:
        for r in self.recorders:
            r.close()

    def create_recorder(self) -> SyncRecorder:
        recorder = SyncRecorder(lambda: create_store("memory://"))
        assert isinstance(recorder.store, MemoryEventStore)
        self.recorders.append(recorder)
        return recorder


class TestMemoryApplicationRecorder(_MemoryRecorders, ApplicationRecorderTestCase[SyncRecorder]):
    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestMemoryTrackingRecorder(_MemoryRecorders, TrackingRecorderTestCase):
    pass

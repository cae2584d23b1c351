"""The live tail on a real store (SQLite file and PostgreSQL): catch-up to live under
concurrent writes, filters that advance the resume position, a bounded queue."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from app.realtime.stream.cloudevents import CloudEventEncoder
from app.realtime.stream.filters import parse_filter
from app.realtime.stream.tail import Frame, Mark, Overflow, Tail, TailLimits
from app.store import EventStore
from app.store.codec import create_mapper
from tests.stream_scenario import append_stories

CLOSED = "io.swarmdesk.case.closed.v1"


async def collect(tail: Tail, until: int, seconds: float = 30) -> list[Frame | Mark]:
    items: list[Frame | Mark] = []

    async def run() -> None:
        while not items or items[-1].position < until:
            item = await tail.next_item()
            if item is not None:
                items.append(item)

    await asyncio.wait_for(run(), seconds)
    return items


async def test_catch_up_then_live_under_concurrent_writes(store: EventStore) -> None:
    await append_stories(store, 5)  # history to catch up on
    encoder = CloudEventEncoder(create_mapper())
    limits = TailLimits(queue=50, idle=0.05)
    async with Tail(store, encoder, 0, parse_filter(None, None), limits) as tail:
        writers = asyncio.gather(*(append_stories(store, 3) for _ in range(10)))
        first = await collect(tail, 40)  # reading while the writers append
        await writers
        head = await store.max_position()
        rest = await collect(tail, head)
    positions = [i.position for i in first + rest]
    assert positions == list(range(1, head + 1))  # no gap, no duplicate, in order
    assert all(isinstance(i, Frame) for i in first + rest)
    ids = [orjson.loads(i.body)["id"] for i in first + rest if isinstance(i, Frame)]
    assert len(set(ids)) == head
    expected = [str(r.event_id) for r in await store.read(0, head + 10)]
    assert ids == expected


async def test_filtered_tail_marks_progress_past_filtered_out_events(store: EventStore) -> None:
    await append_stories(store, 3)
    head = await store.max_position()
    wanted = parse_filter(["Closed"], None)
    encoder = CloudEventEncoder(create_mapper())
    async with Tail(store, encoder, 0, wanted, TailLimits(idle=0.05)) as tail:
        items = await collect(tail, head)
    frames = [i for i in items if isinstance(i, Frame)]
    assert [orjson.loads(f.body)["type"] for f in frames] == [CLOSED] * 3
    # after the last Closed the stream still has the agent's events: a mark covers them
    assert isinstance(items[-1], Mark)
    assert items[-1].position == head > frames[-1].position
    # resuming from the mark rescans nothing: a new tail from there starts at the head
    await append_stories(store, 1)
    async with Tail(store, encoder, items[-1].position, wanted, TailLimits(idle=0.05)) as tail:
        new_head = await store.max_position()
        more = await collect(tail, new_head)
    assert [orjson.loads(i.body)["type"] for i in more if isinstance(i, Frame)] == [CLOSED]
    assert all(i.position > head for i in more)


async def test_a_consumer_that_stops_reading_overflows_with_its_resume_position(
    store: EventStore,
) -> None:
    await append_stories(store, 2)
    encoder = CloudEventEncoder(create_mapper())
    limits = TailLimits(queue=5, stall=0.2, idle=0.05)
    async with Tail(store, encoder, 0, parse_filter(None, None), limits) as tail:
        taken = [await tail.next_item() for _ in range(3)]
        assert [i.position for i in taken if i is not None] == [1, 2, 3]
        await asyncio.sleep(0.5)  # stop reading: the queue fills, the reader gives up
        with pytest.raises(Overflow) as info:
            await tail.next_item()
        assert info.value.position == 3

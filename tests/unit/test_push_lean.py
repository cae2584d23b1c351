"""The lean queue and event that replace uvicorn's on idle push sockets keep asyncio's
semantics: FIFO, waiting, cancellation without losing an item, wake-ups."""

from __future__ import annotations

import asyncio

import pytest

from app.server.lean import LeanEvent, LeanQueue


async def test_queue_is_fifo_and_get_waits_for_a_put() -> None:
    queue = LeanQueue()
    assert queue.empty()
    assert queue.qsize() == 0
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.put_nowait("a")
    queue.put_nowait("b")
    assert await getter == "a"
    assert queue.qsize() == 1
    assert queue.get_nowait() == "b"
    assert queue.empty()
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


async def test_a_cancelled_get_loses_no_item() -> None:
    queue = LeanQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("kept")
    getter.cancel()  # woken but not yet resumed: the item must stay queued
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert queue.get_nowait() == "kept"
    assert queue._waiters is None  # nothing left behind by the cancelled getter


async def test_ready_completes_when_an_item_arrives_and_at_once_if_one_is_there() -> None:
    queue = LeanQueue()
    ready = queue.ready()
    assert not ready.done()
    queue.put_nowait(1)
    assert ready.done()
    assert queue.ready().done()
    assert await queue.get() == 1


async def test_event_wait_set_clear() -> None:
    event = LeanEvent()
    assert not event.is_set()
    waiters = [asyncio.create_task(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert await event.wait() is True  # set: returns without suspending
    event.clear()
    late = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    assert event._waiters == []
    assert LeanEvent(True).is_set()

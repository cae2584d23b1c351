"""The projector's batching under load: with a backlog it lingers for more events
(fewer, larger batches); with none it takes what is there at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from projections.projector import Projector


async def _nothing(after: int) -> AsyncIterator[Any]:
    for _ in ():
        yield after


def projector(linger: float) -> Projector:
    # `_take` touches neither the engine nor the subscription
    return Projector(cast(Any, None), _nothing, lambda row: row, linger=linger, linger_backlog=8)


async def take_while_more_arrive(linger: float, queued: int) -> list[Any]:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for n in range(queued):
        queue.put_nowait(n)

    async def more() -> None:
        await asyncio.sleep(0.005)
        for n in range(queued, queued + 20):
            queue.put_nowait(n)

    pump = asyncio.create_task(asyncio.sleep(3600))
    arriving = asyncio.create_task(more())
    try:
        return await asyncio.wait_for(projector(linger)._take(queue, pump), 5)
    finally:
        pump.cancel()
        await arriving


async def test_with_a_backlog_a_batch_lingers_for_the_events_still_arriving() -> None:
    assert await take_while_more_arrive(linger=0.1, queued=9) == list(range(29))


async def test_without_linger_a_batch_is_what_is_queued() -> None:
    assert await take_while_more_arrive(linger=0, queued=9) == list(range(9))


async def test_below_the_backlog_a_batch_does_not_wait() -> None:
    # a linger of 60 s would time out `take_while_more_arrive` if it were applied
    assert await take_while_more_arrive(linger=60, queued=8) == list(range(8))

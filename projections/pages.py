"""Reading the whole log in pages, one page ahead (rebuild and verify).

`pages_ahead(read, until)` yields the log's rows up to `until`, page by page, in order;
while the caller works on one page the next is already being read. Closing the
generator (or leaving `contextlib.aclosing` early) cancels that read ahead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

Read = Callable[[int, int, int], Awaitable[list[Any]]]  # (after, limit, until) -> rows

PAGE = 5000
FIRST_PAGE = 500  # small: nothing else to do while the first page is read


async def pages_ahead(read: Read, until: int) -> AsyncGenerator[list[Any], None]:
    pending = asyncio.ensure_future(read(0, FIRST_PAGE, until)) if until > 0 else None
    try:
        while pending is not None:
            rows = await pending
            pending = None
            if not rows:
                return
            after = rows[-1].position
            if after < until:
                pending = asyncio.ensure_future(read(after, PAGE, until))
            yield rows
    finally:
        if pending is not None:  # the caller stopped early or failed: drop the read ahead
            pending.cancel()

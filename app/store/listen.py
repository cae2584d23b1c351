"""One PostgreSQL LISTEN connection kept open for as long as the caller runs.

A NOTIFY is only a hint (readers also poll), so the loop's one duty is to come back:
after the connection drops it reconnects with exponential backoff (0.1 s to 5 s), and
after every (re)connection it calls `on_connect`, because anything committed while it was
away was announced to nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)

CHANNEL = "swarmdesk_events"


def events_channel(schema: str | None) -> str:
    """The events' NOTIFY channel of one schema. Channels are per database, so each
    schema needs its own: another schema's positions must never wake our readers."""
    if not schema:
        return CHANNEL
    return f"{CHANNEL}_{hashlib.sha1(schema.encode()).hexdigest()[:16]}"


async def listen_forever(
    connect: Callable[[], Awaitable[asyncpg.Connection]],
    channel: str,
    on_payload: Callable[[str], None],
    *,
    on_connect: Callable[[], None],
    connected: asyncio.Event,
    running: Callable[[], bool] = lambda: True,
) -> None:
    """LISTEN on `channel` until cancelled (or `running()` turns false), reconnecting."""
    backoff = 0.1
    while running():
        conn: asyncpg.Connection | None = None
        try:
            conn = await connect()
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            await conn.add_listener(channel, lambda _c, _pid, _ch, payload: on_payload(payload))
            connected.set()
            backoff = 0.1
            on_connect()
            while not lost.is_set() and not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), 1.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("LISTEN %s failed (%s); retrying in %.1fs", channel, exc, backoff)
        finally:
            connected.clear()
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 1.0)
        if running():
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

"""`StreamConsumer`: follow the stream over the WebSocket tail or the HTTP feed.

Each batch of received events goes to `SQLiteCheckpoint.apply_batch` (in a worker
thread): effects, dedup ids and checkpoint in one transaction. After any failure the
consumer reconnects from its committed checkpoint, waiting 0.1 s, 0.2 s, ... up to
`max_backoff` (full jitter); a `4008` close (too slow) resumes at once; a refusal
(401/403/422 or close codes 4401/4403/4422) raises `StreamRefused`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from swarmdesk_consumer.checkpoint import Apply, SQLiteCheckpoint

log = logging.getLogger("swarmdesk_consumer")
Handler = Apply
_REFUSED_CODES = {4401, 4403, 4422}
_REFUSED_STATUS = {400, 401, 403, 404, 422}


class StreamRefused(Exception):
    """The server refused the consumer (bad token, role or parameters): retrying won't help."""


class StreamConsumer:
    """Follows the stream at `url` (the service's base URL) into `checkpoint` via `handler`."""

    def __init__(
        self,
        url: str,
        token: str,
        checkpoint: SQLiteCheckpoint,
        handler: Handler,
        *,
        transport: Literal["ws", "http"] = "ws",
        types: Sequence[str] = (),
        case: str | None = None,
        batch: int = 500,
        max_backoff: float = 10.0,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        self.base_url = url.rstrip("/")
        self.token = token
        self.checkpoint = checkpoint
        self.handler = handler
        self.transport = transport
        self.types = list(types)
        self.case = case
        self.batch = batch
        self.max_backoff = max_backoff
        self.on_batch = on_batch  # (applied, position) after each commit
        self.applied = 0

    async def run(self) -> None:
        """Follow the stream forever (cancel to stop); raises `StreamRefused`."""
        failures = 0
        while True:
            try:
                if self.transport == "ws":
                    await self._follow_socket()
                else:
                    await self._follow_feed()
                failures = 0
            except StreamRefused:
                raise
            except _Resume as resume:
                log.info("server asked to resume: %s", resume)
                failures = 0
                continue
            except (OSError, ConnectionClosed, InvalidStatus, httpx.HTTPError, TimeoutError) as e:
                failures += 1
                delay = random.uniform(0, min(self.max_backoff, 0.1 * 2 ** min(failures, 10)))
                log.warning("stream interrupted (%s); reconnecting in %.2f s", e, delay)
                await asyncio.sleep(delay)

    def _query(self, after: int, **extra: Any) -> str:
        params: list[tuple[str, Any]] = [("after", after)]
        params += [("type", t) for t in self.types]
        if self.case:
            params.append(("case", self.case))
        params += list(extra.items())
        return urlencode(params)

    async def _commit(self, events: list[dict[str, Any]], up_to: int | None) -> None:
        applied = await asyncio.to_thread(self.checkpoint.apply_batch, events, self.handler, up_to)
        self.applied += applied
        if self.on_batch is not None:
            position = max([int(e["position"]) for e in events] + [up_to or 0])
            self.on_batch(applied, position)

    # -- WebSocket tail ---------------------------------------------------------------
    async def _follow_socket(self) -> None:
        after = await asyncio.to_thread(self.checkpoint.position)
        ws_base = "ws" + self.base_url.removeprefix("http")
        url = f"{ws_base}/ws/events?{self._query(after)}"
        headers = {"Authorization": f"Bearer {self.token}"}
        queue: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue(self.batch * 2)
        try:
            socket = await websockets.connect(
                url, additional_headers=headers, compression=None, max_size=2**24
            )
        except InvalidStatus as exc:
            if exc.response.status_code in _REFUSED_STATUS:
                raise StreamRefused(f"HTTP {exc.response.status_code}") from exc
            raise
        async with socket:
            reader = asyncio.create_task(_read_socket(socket, queue))
            try:
                while True:
                    first = await queue.get()
                    items = [first]
                    while len(items) < self.batch and not queue.empty():
                        items.append(queue.get_nowait())
                    error = next((i for i in items if isinstance(i, BaseException)), None)
                    messages = [i for i in items if not isinstance(i, BaseException)]
                    events = [m for m in messages if "specversion" in m]
                    marks = [int(m["position"]) for m in messages if m.get("kind") == "progress"]
                    if events or marks:
                        await self._commit(events, max(marks) if marks else None)
                    if error is not None:
                        raise error
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    # -- HTTP feed --------------------------------------------------------------------
    async def _follow_feed(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.base_url, headers=headers) as client:
            while True:
                after = await asyncio.to_thread(self.checkpoint.position)
                query = self._query(after, limit=self.batch, wait=20)
                response = await client.get(f"/api/events?{query}", timeout=40)
                if response.status_code in _REFUSED_STATUS:
                    raise StreamRefused(f"HTTP {response.status_code}: {response.text}")
                response.raise_for_status()
                events = response.json()
                next_position = int(response.headers["Swarmdesk-Next-Position"])
                if events or next_position > after:
                    await self._commit(events, next_position)


class _Resume(Exception):
    """The server closed with 4008: reconnect now from the checkpoint."""


async def _read_socket(
    socket: websockets.ClientConnection, queue: asyncio.Queue[dict[str, Any] | BaseException]
) -> None:
    try:
        async for message in socket:
            await queue.put(json.loads(message))
    except ConnectionClosed:
        pass  # the close code tells what happened
    except Exception as exc:
        await queue.put(exc)
        return
    code, reason = socket.close_code, socket.close_reason or ""
    if code in _REFUSED_CODES:
        await queue.put(StreamRefused(f"closed {code}: {reason}"))
    elif code == 4008:
        await queue.put(_Resume(reason))
    else:
        await queue.put(ConnectionError(f"stream closed ({code}: {reason})"))

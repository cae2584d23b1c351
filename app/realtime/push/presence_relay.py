"""Presence across server processes: who is in a case room on *any* process, over
PostgreSQL ``NOTIFY`` (the signal the processes already share; DESIGN.md section 7).

Each process tells the others, on one channel per schema, the people it has in each room
(its own ``?presence=1`` sockets): ``{"p": process, "c": case, "h": [[id, name], ...]}``,
the whole set each time (so a lost or repeated message is mended by the next one), sent
when its set changes and again every `interval` seconds for every room it has people in.
A peer keeps each process's set for ``3 * interval`` seconds after it last heard it, so a
process that dies without a word drops out of every room within that time; one that
stops cleanly says ``{"p": process, "bye": 1}``. A process that (re)connects asks
``{"p": process, "ask": 1}`` and every peer answers with all its rooms at once.

The hub asks `people(case)` for the others' sets when it sends a presence frame and
calls `local_changed` when its own set of a room changes; the relay calls `hub.refresh`
when a peer's set of a room changes. One asyncpg connection per process both listens
and sends, opened when the process first has someone in a room (a process that serves
no case room costs no connection); while it is down each process shows its own sockets
only, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg

log = logging.getLogger(__name__)

CHANNEL = "swarmdesk_presence"
#: At most this many people of one room go into one message (NOTIFY takes < 8,000 bytes).
MAX_PEOPLE = 60
MAX_NAME = 60

Person = tuple[str, str]  # (agent id, name)


def presence_channel(schema: str | None) -> str:
    """The presence channel of one schema (channels are per database)."""
    if not schema:
        return CHANNEL
    return f"{CHANNEL}_{hashlib.sha1(schema.encode()).hexdigest()[:16]}"


class Refreshes(Protocol):
    def refresh(self, case_key: str) -> None: ...


class PresenceRelay:
    """See the module docstring. Lives on the event loop's thread, one per process."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        channel: str = CHANNEL,
        *,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connect = connect
        self.channel = channel
        self.interval = interval
        self.ttl = 3 * interval
        self.clock = clock
        self.process = uuid.uuid4().hex[:16]
        self.hub: Refreshes | None = None
        #: case -> the people this process has in the room (non-empty sets only)
        self.local: dict[str, list[Person]] = {}
        #: case -> process -> (expires at, people)
        self.remote: dict[str, dict[str, tuple[float, list[Person]]]] = {}
        self.connected = asyncio.Event()
        self.sent = 0
        self.received = 0
        #: Set once this process first has someone in a room: the connection is opened
        #: then (a process nobody opens a room on costs no PostgreSQL connection).
        self.needed = asyncio.Event()
        self._dirty: set[str] = set()
        self._ask = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    # -- the hub's side ------------------------------------------------------------
    def people(self, case: str) -> list[Person]:
        """The people other processes have in room `case` (expired sets left out)."""
        found = self.remote.get(case)
        if not found:
            return []
        now = self.clock()
        return [person for expires, people in found.values() if expires > now for person in people]

    def local_changed(self, case: str, people: list[Person]) -> None:
        """This process's set of room `case` is now `people` (told to the others soon)."""
        people = sorted(set(people))[:MAX_PEOPLE]
        if people == self.local.get(case, []):
            return
        if people:
            self.local[case] = people
            self.needed.set()
        else:
            self.local.pop(case, None)
        self._dirty.add(case)
        self._wake.set()

    # -- messages ------------------------------------------------------------------
    def _message(self, case: str) -> str:
        people = [[agent, name[:MAX_NAME]] for agent, name in self.local.get(case, [])]
        return json.dumps({"p": self.process, "c": case, "h": people}, separators=(",", ":"))

    def on_payload(self, payload: str) -> None:
        """A message on the channel (its own included, ignored)."""
        try:
            message: dict[str, Any] = json.loads(payload)
            sender = str(message["p"])
        except (ValueError, KeyError, TypeError):
            log.warning("presence: an unreadable message on %s", self.channel)
            return
        if sender == self.process:
            return
        self.received += 1
        if message.get("ask"):
            self._ask = True
            self._wake.set()
        elif message.get("bye"):
            for case in [c for c, found in self.remote.items() if sender in found]:
                self._forget(case, sender)
        elif "c" in message:
            case = str(message["c"])
            people = [(str(p[0]), str(p[1])) for p in message.get("h") or []][:MAX_PEOPLE]
            found = self.remote.setdefault(case, {})
            before = found.get(sender)
            if people:
                found[sender] = (self.clock() + self.ttl, people)
            else:
                found.pop(sender, None)
                if not found:
                    del self.remote[case]
            if before is None or before[1] != people:
                self._refresh(case)

    def _forget(self, case: str, sender: str) -> None:
        found = self.remote.get(case)
        if found is None or found.pop(sender, None) is None:
            return
        if not found:
            del self.remote[case]
        self._refresh(case)

    def expire(self) -> None:
        """Drop the sets not heard again within their time (a process that died)."""
        now = self.clock()
        for case, found in list(self.remote.items()):
            for sender in [s for s, (expires, _) in found.items() if expires <= now]:
                self._forget(case, sender)

    def _refresh(self, case: str) -> None:
        if self.hub is not None:
            self.hub.refresh(case)

    # -- life cycle ----------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="swarmdesk-presence-relay")

    async def close(self) -> None:
        conn = self._conn
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):  # best effort: peers expire us anyway
                bye = json.dumps({"p": self.process, "bye": 1})
                await asyncio.wait_for(self._send(conn, bye), 1)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        await self.needed.wait()
        backoff = 0.1
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await self.connect()
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(
                    self.channel, lambda _c, _pid, _ch, payload: self.on_payload(payload)
                )
                self._conn = conn
                self.connected.set()
                backoff = 0.1
                # whatever happened while away: ask everyone, and tell everything we have
                await self._send(conn, json.dumps({"p": self.process, "ask": 1}))
                self._dirty.update(self.local)
                await self._serve(conn, lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("presence relay: %s; again in %.1fs", exc, backoff)
            finally:
                self.connected.clear()
                self._conn = None
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 1.0)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _serve(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Send what changed as it changes, everything every `interval`, until `lost`."""
        due = self.clock() + self.interval
        while not lost.is_set() and not conn.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, min(due - self.clock(), 1.0)))
            self._wake.clear()
            if self.clock() >= due:
                due = self.clock() + self.interval
                self._dirty.update(self.local)
                self.expire()
            if self._ask:
                self._ask = False
                self._dirty.update(self.local)
            while self._dirty:
                await self._send(conn, self._message(self._dirty.pop()))

    async def _send(self, conn: asyncpg.Connection, payload: str) -> None:
        await conn.execute("SELECT pg_notify($1, $2)", self.channel, payload)
        self.sent += 1

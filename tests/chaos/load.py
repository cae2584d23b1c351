"""The chaos suite's load: clients posting insights over HTTP (each retried with its
Idempotency-Key until acknowledged), recording every acknowledgement; and a WebSocket
client following one case that resumes with `?after=N` whenever its socket ends."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from tests.e2e.push_support import Follower, ws_connect
from tests.e2e.server import Server

OWNER = "chaos-owner"
RETRIED = {502, 503, 504}  # "try again": the only answers a fault may cause


@dataclass
class Command:
    """One insight: its text is its Idempotency-Key, so the log tells which it is."""

    key: str
    case_id: str
    acked: dict[str, Any] | None = None
    attempts: int = 0


@dataclass
class Load:
    """`clients` concurrent clients writing insights on `case_ids` (client i on case
    i mod n) until `stop`; a command is retried until acknowledged, or abandoned
    `settle` seconds after the stop (then it may have committed at most once)."""

    server: Server
    case_ids: list[str]
    tag: str
    clients: int = 6
    settle: float = 30.0
    commands: list[Command] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)  # status or error, per attempt
    unexpected: list[str] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopped_at: float = 0.0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._client(i), name=f"chaos-load-{i}")
            for i in range(self.clients)
        ]

    async def stop(self) -> None:
        self._stopped_at = time.monotonic()
        self.stopping.set()
        await asyncio.gather(*self._tasks)

    @property
    def acked(self) -> list[Command]:
        return [c for c in self.commands if c.acked is not None]

    async def _client(self, index: int) -> None:
        headers = self.server.headers(OWNER)
        case_id = self.case_ids[index % len(self.case_ids)]
        timeout = httpx.Timeout(15.0, connect=2.0)
        async with httpx.AsyncClient(base_url=self.server.base_url, timeout=timeout) as http:
            n = 0
            while not self.stopping.is_set():
                slug = "-".join(self.tag.split())
                command = Command(f"chaos-{slug}-c{index}-n{n}", case_id)
                self.commands.append(command)
                await self._send(http, headers, command)
                n += 1

    async def _send(self, http: httpx.AsyncClient, headers: dict[str, str], c: Command) -> None:
        body = {"kind": "finding", "text": c.key}
        path = f"/api/cases/{c.case_id}/insights"
        headers = {**headers, "Idempotency-Key": c.key}
        while True:
            c.attempts += 1
            try:
                answer = await http.post(path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                self.answers[type(exc).__name__] += 1
            else:
                self.answers[str(answer.status_code)] += 1
                if answer.status_code == 200:
                    c.acked = answer.json()
                    return
                if answer.status_code not in RETRIED:
                    self.unexpected.append(f"{c.key}: {answer.status_code} {answer.text[:300]}")
                    return
            if self.stopping.is_set() and time.monotonic() - self._stopped_at > self.settle:
                return  # abandoned: never acknowledged
            await asyncio.sleep(0.1)


@dataclass
class Resuming:
    """Follows one case's view over a socket; after any close or failed connect it
    reconnects with `?after=<last applied position>`. A gap, duplicate or reordering
    fails `Follower.apply` and ends the task with that AssertionError."""

    server: Server
    case_id: str
    follower: Follower = field(default_factory=Follower)
    first: int | None = None  # the first snapshot's position
    connects: int = 0
    ends: Counter[str] = field(default_factory=Counter)  # close codes / errors
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="chaos-follower")

    async def _run(self) -> None:
        while True:
            after = self.follower.position
            query = "" if after is None else f"?after={after}"
            try:
                async with ws_connect(
                    self.server, f"/ws/cases/{self.case_id}{query}", OWNER, open_timeout=5
                ) as ws:
                    self.connects += 1
                    while True:
                        self.follower.apply(await ws.recv())
                        if self.first is None and self.follower.position is not None:
                            self.first = self.follower.position
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else "no close frame"
                self.ends[str(code)] += 1
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                self.ends[type(exc).__name__] += 1
            await asyncio.sleep(0.2)

    async def reach(self, position: int, seconds: float) -> None:
        """Wait until the follower applied `position`; re-raise what ended it."""
        assert self._task is not None
        deadline = time.monotonic() + seconds
        while (self.follower.position or 0) < position:
            if self._task.done():
                self._task.result()  # its AssertionError (a gap) or other failure
                raise AssertionError("the follower ended")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the socket client is at {self.follower.position}, not {position}, "
                    f"after {seconds:g} s (ends: {dict(self.ends)})"
                )
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

"""A lean HTTP/1.1 keep-alive load generator for `bench/http_commands.py` (a helper, not
a benchmark): asyncio protocols plus `httptools`' response parser, so the client spends
as little of the machine's shared CPU as possible (httpx costs several times more per
request, which on 2 cores would be taken from the server under test).

`run_clients` runs in its own process: `clients` connections, each issuing commands back
to back (open a case with probability `new_ratio`, else add context to one of its cases)
and recording the latency of those that complete inside the measuring window; with a
`rate` (commands/s over all connections), each connection paces its commands instead
(evenly spaced from a random phase; one that falls behind sends at once).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, cast

import httptools


class _Response:
    def __init__(self) -> None:
        self.body = bytearray()
        self.done = False

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done = True


class Connection(asyncio.Protocol):
    """One keep-alive connection; `request` sends one request and awaits its response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.response = _Response()
        self.parser = httptools.HttpResponseParser(self.response)
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)
        if self.response.done and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), bytes(self.response.body)))

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.response = _Response()
        self.parser = httptools.HttpResponseParser(self.response)
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(head + body)
        return await self.waiter


def request_head(method: str, path: str, host: str, token: str, body: bytes, key: str) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if key:
        lines.append(f"Idempotency-Key: {key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    statuses: dict[int, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # the load process's own CPU time over the whole run


async def _client(
    n: int,
    host: str,
    port: int,
    token: str,
    window: tuple[float, float],
    new_ratio: float,
    idempotency: bool,
    out: LoadResult,
    gap: float = 0.0,
) -> None:
    rng = random.Random(n)
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(Connection, host, port)
    cases: list[str] = []
    start, stop = window
    count = 0
    due = time.time() + rng.random() * gap  # paced (gap > 0): when the next one is due
    try:
        while True:
            began = time.time()
            if gap:
                if due > began:
                    await asyncio.sleep(due - began)
                    began = time.time()
                due += gap
            if began >= stop:
                return
            count += 1
            key = f"bench-{n}-{count}-{rng.getrandbits(32):08x}" if idempotency else ""
            if not cases or rng.random() < new_ratio:
                body: dict[str, Any] = {
                    "customer": f"Customer {rng.randrange(1000)}",
                    "subject": "Checkout fails with card_declined after the 3-D Secure step",
                    "priority": rng.choice(("low", "normal", "high", "urgent")),
                    "channel": "email",
                    "product_area": "payments",
                }
                path = "/api/cases"
            else:
                body = {
                    "kind": rng.choice(("symptom", "environment", "step_tried", "hypothesis")),
                    "text": "Reproduced on staging with the customer's test card; gateway log "
                    "attached, request id req_8Fz2 returns 402 after the challenge succeeds.",
                }
                path = f"/api/cases/{rng.choice(cases)}/context"
            payload = json.dumps(body).encode()
            head = request_head("POST", path, f"{host}:{port}", token, payload, key)
            status, answer = await conn.request(head, payload)
            done = time.time()
            out.statuses[status] = out.statuses.get(status, 0) + 1
            if status not in (200, 201):
                out.errors += 1
                out.first_error = out.first_error or f"{status}: {answer[:300]!r}"
                if out.errors > 1000:
                    return
                continue
            if path == "/api/cases":
                cases.append(json.loads(answer)["case_id"])
                del cases[:-16]
            if start <= done <= stop:
                out.latencies.append(done - began)
    finally:
        if conn.transport is not None:
            conn.transport.close()


async def run_clients_async(
    host: str,
    port: int,
    tokens: list[str],
    window: tuple[float, float],
    new_ratio: float,
    idempotency: bool,
    rate: float = 0.0,
) -> LoadResult:
    out = LoadResult()
    gap = len(tokens) / rate if rate > 0 else 0.0
    await asyncio.gather(
        *(
            _client(n, host, port, token, window, new_ratio, idempotency, out, gap)
            for n, token in enumerate(tokens)
        )
    )
    return out


def run_clients(
    host: str,
    port: int,
    tokens: list[str],
    window: tuple[float, float],
    new_ratio: float,
    idempotency: bool,
    rate: float = 0.0,
) -> LoadResult:
    """Entry point of the load process (wall-clock `window`, shared with the parent);
    `rate` > 0: that many commands/s in all, paced (else back to back)."""
    import uvloop

    began = time.process_time()
    load = run_clients_async(host, port, tokens, window, new_ratio, idempotency, rate)
    result = uvloop.run(load)
    result.cpu_seconds = time.process_time() - began
    return result


@dataclass(frozen=True)
class Writer:
    """One client of the insight workload: where it connects, who it is, which cases."""

    port: int
    token: str
    cases: tuple[str, ...]


INSIGHT_BODY = (
    "The retry path drops the 3-D Secure authentication result: the second authorisation "
    "goes out without the cavv, so the issuer declines it (gateway log, req_8Fz2)."
)


async def _writer(
    n: int, host: str, writer: Writer, window: tuple[float, float], out: LoadResult
) -> None:
    rng = random.Random(n)
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(Connection, host, writer.port)
    start, stop = window
    count = 0
    try:
        while True:
            began = time.time()
            if began >= stop:
                return
            count += 1
            key = f"swarm-{n}-{count}-{rng.getrandbits(32):08x}"
            payload = json.dumps({"kind": "finding", "text": INSIGHT_BODY}).encode()
            path = f"/api/cases/{rng.choice(writer.cases)}/insights"
            head = request_head("POST", path, f"{host}:{writer.port}", writer.token, payload, key)
            status, answer = await conn.request(head, payload)
            done = time.time()
            out.statuses[status] = out.statuses.get(status, 0) + 1
            if status != 200:
                out.errors += 1
                out.first_error = out.first_error or f"{status}: {answer[:300]!r}"
            elif start <= done <= stop:
                out.latencies.append(done - began)
    finally:
        if conn.transport is not None:
            conn.transport.close()


def run_writers(host: str, writers: list[Writer], window: tuple[float, float]) -> LoadResult:
    """Entry point of the insight workload's load process: one connection per writer,
    each posting insights (with an Idempotency-Key) to its cases back to back."""
    import uvloop

    async def run() -> LoadResult:
        out = LoadResult()
        await asyncio.gather(*(_writer(n, host, w, window, out) for n, w in enumerate(writers)))
        return out

    began = time.process_time()
    result = uvloop.run(run())
    result.cpu_seconds = time.process_time() - began
    return result

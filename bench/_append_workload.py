"""The append benchmark's workload and measurement (a helper of `bench/append.py`):
realistic case events, the measuring window, latency samples and per-level results."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from bench.common import (
    LatencyStats,
)

POOL_CAP = 32  # connections for the baselines' pools (PostgreSQL allows 100 in all)
OPENED = "domain.case:Case.Opened"
CONTEXT_ADDED = "domain.case:Case.ContextAdded"
MAX_OPEN_CASES = 16  # cases a client keeps appending to
MAX_ERRORS = 1000  # abort a level after this many failed commands

# The targets (DESIGN.md): checked at 32 concurrent clients.
_TITLES = (
    "Checkout fails with card_declined after the 3-D Secure challenge",
    "SSO login loops back to the sign-in page for the whole tenant",
    "Invoice PDF shows last month's VAT rate for EU customers",
    "Webhook deliveries delayed by 20+ minutes since the last deploy",
)
_NOTES = (
    "Reproduced on staging with the customer's test card; gateway log attached, request id "
    "req_8Fz2 returns 402 after the challenge succeeds. Looks like the retry path drops the "
    "authentication result.",
    "Customer confirms the issue started after enabling the new identity provider; HAR file "
    "uploaded, the redirect carries an expired state parameter. Escalating to the auth team.",
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def opened_state(rng: random.Random, client: int) -> dict[str, Any]:
    """What opening a case records: about 300 bytes of JSON."""
    return {
        "title": rng.choice(_TITLES),
        "customer_id": f"cus_{rng.getrandbits(48):012x}",
        "customer_email": f"ops-{rng.randrange(10_000)}@example-customer.com",
        "priority": rng.choice(("low", "normal", "high", "urgent")),
        "channel": rng.choice(("email", "chat", "phone")),
        "product": rng.choice(("payments", "identity", "billing", "webhooks")),
        "tags": ["checkout", "3ds", "regression"],
        "opened_by": f"agent-{client}",
        "timestamp": now_iso(),
    }


def context_state(rng: random.Random, client: int) -> dict[str, Any]:
    """What adding context to a case records: about 300 bytes of JSON."""
    return {
        "author": f"agent-{client}",
        "kind": rng.choice(("note", "log", "link")),
        "text": rng.choice(_NOTES),
        "timestamp": now_iso(),
    }


def encode(state: dict[str, Any]) -> bytes:
    return json.dumps(state, separators=(",", ":")).encode()


@dataclass(slots=True)
class Workload:
    """One client's commands: new cases with probability `new_ratio`, else a next event."""

    client: int
    new_ratio: float
    rng: random.Random = field(init=False)
    cases: dict[UUID, int] = field(default_factory=dict)  # case -> its current version
    order: list[UUID] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.client)

    def next_event(self) -> StoredEvent:
        if not self.order or self.rng.random() < self.new_ratio:
            case = uuid.uuid4()
            self.order.append(case)
            if len(self.order) > MAX_OPEN_CASES:
                del self.cases[self.order.pop(0)]
            self.cases[case] = 0
            topic, state = OPENED, opened_state(self.rng, self.client)
        else:
            case = self.rng.choice(self.order)
            topic, state = CONTEXT_ADDED, context_state(self.rng, self.client)
        return StoredEvent(
            originator_id=case,
            originator_version=self.cases[case] + 1,
            topic=topic,
            state=encode(state),
        )

    def committed(self, ev: StoredEvent) -> None:
        self.cases[UUID(str(ev.originator_id))] = ev.originator_version


# -- measuring --------------------------------------------------------------------------
@dataclass(slots=True)
class Window:
    """Warm-up until `start`, then measure commands that complete by `stop`."""

    start: float
    stop: float

    @classmethod
    def after(cls, warmup: float, seconds: float) -> Window:
        begin = time.perf_counter() + warmup
        return cls(begin, begin + seconds)


@dataclass(slots=True)
class Samples:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    def failed(self, exc: BaseException) -> None:
        self.errors += 1
        if not self.first_error:
            self.first_error = f"{type(exc).__name__}: {exc}"

    def merge(self, other: Samples) -> None:
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error


@dataclass(slots=True)
class LevelResult:
    backend: str
    concurrency: int
    seconds: float
    commands: int
    errors: int
    commands_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    avg_batch: float | None = None
    note: str = ""

    @classmethod
    def of(
        cls,
        backend: str,
        concurrency: int,
        window: Window,
        samples: Samples,
        *,
        avg_batch: float | None = None,
        note: str = "",
    ) -> LevelResult:
        seconds = window.stop - window.start
        stats = LatencyStats.of(samples.latencies)
        if samples.first_error:
            note = f"{note}; {samples.errors} errors, first: {samples.first_error}".lstrip("; ")
        return cls(
            backend=backend,
            concurrency=concurrency,
            seconds=seconds,
            commands=stats.count,
            errors=samples.errors,
            commands_per_s=stats.count / seconds,
            p50_ms=stats.p50_ms,
            p90_ms=stats.p90_ms,
            p99_ms=stats.p99_ms,
            mean_ms=stats.mean_ms,
            max_ms=stats.max_ms,
            avg_batch=avg_batch,
            note=note,
        )


async def drive_async(
    command: Callable[[StoredEvent], Awaitable[None]],
    concurrency: int,
    window: Window,
    new_ratio: float,
) -> Samples:
    """`concurrency` tasks, each issuing commands back to back until the window closes."""
    samples = Samples()

    async def client(n: int) -> None:
        work = Workload(n, new_ratio)
        while True:
            began = time.perf_counter()
            if began >= window.stop or samples.errors >= MAX_ERRORS:
                return
            ev = work.next_event()
            try:
                await command(ev)
            except Exception as exc:
                samples.failed(exc)
                continue
            work.committed(ev)
            done = time.perf_counter()
            if window.start <= done <= window.stop:
                samples.latencies.append(done - began)

    await asyncio.gather(*(client(n) for n in range(concurrency)))
    return samples


# -- backends ---------------------------------------------------------------------------
@dataclass(slots=True)
class Settings:
    levels: list[int]
    seconds: float
    warmup: float
    new_ratio: float
    url: str


def progress(result: LevelResult) -> None:
    print(
        f"  {result.backend:<11} @{result.concurrency:<4} {result.commands_per_s:9,.0f} cmd/s"
        f"  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms",
        file=sys.stderr,
        flush=True,
    )

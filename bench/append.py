"""Append throughput and latency: our store against raw asyncpg and eventsourcing.

A command is one durable append of one ~300-byte JSON case event. Each simulated
client opens its own cases (new streams, version 1) and, for the rest of its commands,
appends the next event to one of the cases it opened (version n + 1), sequentially,
measuring each command's latency. Levels of 1, 8, 32 and 128 concurrent clients:

- ours-pg      our `EventStore` on PostgreSQL (asyncio tasks; group commit);
- ours-sqlite  our `EventStore` on SQLite (asyncio tasks; group commit);
- raw-asyncpg  one INSERT per explicit transaction on a pool of min(clients, 32)
               asyncpg connections into a plain table (no global lock, no batching);
- es-save      eventsourcing's `Application.save` on `eventsourcing.postgres` with its
               defaults (table lock per commit), one thread per client, a psycopg pool
               of min(clients, 32) connections (threads beyond it wait for one).

Usage: python bench/append.py [--quick] [--levels 1,8,32,128] [--seconds N] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

from app.store import AppendRequest, EventStore, create_store
from app.store.factory import asyncpg_dsn
from bench.common import (
    PG_URL,
    LatencyStats,
    as_dict,
    common_parser,
    environment_info,
    fmt,
    format_table,
    fresh_pg_schema,
    fresh_sqlite_url,
    loop_name,
    parse_levels,
    ratio,
    run_async,
    write_json,
)

BACKENDS = ("ours-pg", "ours-sqlite", "raw-asyncpg", "es-save")
DEFAULT_LEVELS = "1,8,32,128"
POOL_CAP = 32  # connections for the baselines' pools (PostgreSQL allows 100 in all)
OPENED = "domain.case:Case.Opened"
CONTEXT_ADDED = "domain.case:Case.ContextAdded"
MAX_OPEN_CASES = 16  # cases a client keeps appending to
MAX_ERRORS = 1000  # abort a level after this many failed commands

# The targets (DESIGN.md): checked at 32 concurrent clients.
TARGET_LEVEL = 32
TARGET_PG_RATE = 3000.0
TARGET_PG_P99_MS = 15.0
TARGET_VS_ES = 5.0
TARGET_SQLITE_RATE = 1500.0
TARGET_TEXT = (
    "target @32 on PostgreSQL: >= 3000 cmd/s, p99 <= 15 ms, >= 5x es-save; SQLite >= 1500 cmd/s"
)


# -- the workload ---------------------------------------------------------------------
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


async def bench_ours(backend: str, store: EventStore, settings: Settings) -> list[LevelResult]:
    async def command(ev: StoredEvent) -> None:
        await store.append(AppendRequest([ev]))

    results = []
    for level in settings.levels:
        window = Window.after(settings.warmup, settings.seconds)
        batch_counts: list[tuple[int, int]] = []

        async def count_batches(
            window: Window = window, out: list[tuple[int, int]] = batch_counts
        ) -> None:
            for moment in (window.start, window.stop):
                await asyncio.sleep(max(0.0, moment - time.perf_counter()))
                out.append((store.batches, store.batched_requests))

        counter = asyncio.create_task(count_batches())
        samples = await drive_async(command, level, window, settings.new_ratio)
        await counter
        (b0, r0), (b1, r1) = batch_counts
        avg_batch = (r1 - r0) / (b1 - b0) if b1 > b0 else None
        result = LevelResult.of(backend, level, window, samples, avg_batch=avg_batch)
        results.append(result)
        progress(result)
    return results


async def bench_ours_pg(settings: Settings) -> list[LevelResult]:
    async with fresh_pg_schema("bench_ours", url=settings.url) as schema:
        store = create_store(settings.url, schema=schema)
        await store.start()
        try:
            return await bench_ours("ours-pg", store, settings)
        finally:
            await store.close()


async def bench_ours_sqlite(settings: Settings) -> list[LevelResult]:
    async with fresh_sqlite_url("bench_ours") as url:
        store = create_store(url)
        await store.start()
        try:
            return await bench_ours("ours-sqlite", store, settings)
        finally:
            await store.close()


RAW_TABLE = """
CREATE TABLE raw_events (
    position bigserial PRIMARY KEY,
    originator_id uuid NOT NULL,
    version int NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    UNIQUE (originator_id, version)
)
"""
RAW_INSERT = "INSERT INTO raw_events (originator_id, version, topic, state) VALUES ($1, $2, $3, $4)"


async def bench_raw_asyncpg(settings: Settings) -> list[LevelResult]:
    results = []
    async with fresh_pg_schema("bench_raw", url=settings.url, migrate=False) as schema:
        server_settings = {"search_path": schema, "application_name": "swarmdesk-bench"}
        dsn = asyncpg_dsn(settings.url)
        conn = await asyncpg.connect(dsn, server_settings=server_settings)
        try:
            await conn.execute(RAW_TABLE)
        finally:
            await conn.close()
        for level in settings.levels:
            size = min(level, POOL_CAP)
            pool = await asyncpg.create_pool(
                dsn, min_size=size, max_size=size, server_settings=server_settings
            )

            async def command(ev: StoredEvent, pool: asyncpg.Pool = pool) -> None:
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute(
                        RAW_INSERT, ev.originator_id, ev.originator_version, ev.topic, ev.state
                    )

            try:
                window = Window.after(settings.warmup, settings.seconds)
                samples = await drive_async(command, level, window, settings.new_ratio)
            finally:
                await pool.close()
            result = LevelResult.of("raw-asyncpg", level, window, samples, note=f"pool {size}")
            results.append(result)
            progress(result)
    return results


class BenchCase(Aggregate):
    """A small case aggregate for eventsourcing's own persistence path."""

    @event("Opened")
    def __init__(self, title: str, customer_email: str, priority: str, tags: list[str]) -> None:
        self.title = title
        self.customer_email = customer_email
        self.priority = priority
        self.tags = tags
        self.notes: list[str] = []

    @event("ContextAdded")
    def add_context(self, author: str, kind: str, text: str) -> None:
        self.notes.append(text)


def es_env(schema: str, url: str, pool_size: int) -> dict[str, str]:
    """`eventsourcing.postgres` settings (names from its `BasePostgresFactory`)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parsed.database or "test",
        "POSTGRES_HOST": parsed.host or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or "postgres",
        "POSTGRES_PASSWORD": parsed.password or "",
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
        # Never POSTGRES_ENABLE_DB_FUNCTIONS: it skips the library's table lock.
    }


def es_level(app: Application[UUID], concurrency: int, window: Window, new_ratio: float) -> Samples:
    """One thread per client, each saving aggregates back to back until the window closes."""
    abort = threading.Event()

    def client(n: int) -> Samples:
        samples = Samples()
        rng = random.Random(n)
        cases: list[BenchCase] = []
        while True:
            began = time.perf_counter()
            if began >= window.stop or abort.is_set():
                return samples
            try:
                if not cases or rng.random() < new_ratio:
                    opened = opened_state(rng, n)
                    case = BenchCase(
                        title=opened["title"],
                        customer_email=opened["customer_email"],
                        priority=opened["priority"],
                        tags=opened["tags"],
                    )
                    cases.append(case)
                    if len(cases) > MAX_OPEN_CASES:
                        cases.pop(0)
                else:
                    case = rng.choice(cases)
                    note = context_state(rng, n)
                    case.add_context(note["author"], note["kind"], note["text"])
                app.save(case)
            except Exception as exc:
                samples.failed(exc)
                if samples.errors >= MAX_ERRORS // max(concurrency, 1) + 1:
                    abort.set()
                continue
            done = time.perf_counter()
            if window.start <= done <= window.stop:
                samples.latencies.append(done - began)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="es-client") as pool:
        parts = list(pool.map(client, range(concurrency)))
    total = Samples()
    for part in parts:
        total.merge(part)
    return total


def es_run_level(schema: str, settings: Settings, level: int) -> tuple[Window, Samples, int]:
    size = min(level, POOL_CAP)
    app: Application[UUID] = Application(env=es_env(schema, settings.url, size))
    try:
        window = Window.after(settings.warmup, settings.seconds)
        return window, es_level(app, level, window, settings.new_ratio), size
    finally:
        app.close()


async def bench_es_save(settings: Settings) -> list[LevelResult]:
    results = []
    async with fresh_pg_schema("bench_es", url=settings.url, migrate=False) as schema:
        for level in settings.levels:
            window, samples, size = await asyncio.to_thread(es_run_level, schema, settings, level)
            note = f"pool {size}" + (f", {level - size} threads wait" if level > size else "")
            result = LevelResult.of("es-save", level, window, samples, note=note)
            results.append(result)
            progress(result)
    return results


RUNNERS: dict[str, Callable[[Settings], Awaitable[list[LevelResult]]]] = {
    "ours-pg": bench_ours_pg,
    "ours-sqlite": bench_ours_sqlite,
    "raw-asyncpg": bench_raw_asyncpg,
    "es-save": bench_es_save,
}


# -- report ---------------------------------------------------------------------------
def progress(result: LevelResult) -> None:
    print(
        f"  {result.backend:<11} @{result.concurrency:<4} {result.commands_per_s:9,.0f} cmd/s"
        f"  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms",
        file=sys.stderr,
        flush=True,
    )


def find(results: Sequence[LevelResult], backend: str, level: int) -> LevelResult | None:
    for r in results:
        if r.backend == backend and r.concurrency == level:
            return r
    return None


def rate(result: LevelResult | None) -> float:
    return result.commands_per_s if result is not None else float("nan")


def results_table(results: Sequence[LevelResult]) -> str:
    rows = [
        [
            r.backend,
            str(r.concurrency),
            fmt(r.commands_per_s, 0),
            fmt(r.p50_ms, 2),
            fmt(r.p99_ms, 2),
            fmt(r.avg_batch, 1),
            r.note,
        ]
        for r in results
    ]
    headers = ["backend", "concurrency", "commands/s", "p50 ms", "p99 ms", "avg batch", "note"]
    return format_table(headers, rows, align="lrrrrrl")


def ratios_table(results: Sequence[LevelResult], levels: Sequence[int]) -> str:
    rows = []
    for level in levels:
        ours = rate(find(results, "ours-pg", level))
        rows.append(
            [
                str(level),
                fmt(ratio(ours, rate(find(results, "raw-asyncpg", level))), 2),
                fmt(ratio(ours, rate(find(results, "es-save", level))), 2),
                fmt(ratio(rate(find(results, "ours-sqlite", level)), ours), 2),
            ]
        )
    headers = ["concurrency", "ours-pg / raw-asyncpg", "ours-pg / es-save", "ours-sqlite / ours-pg"]
    return format_table(headers, rows)


def target_check(results: Sequence[LevelResult]) -> tuple[str, bool | None]:
    """The target line with MET/MISSED and the figures behind it (None: not measured)."""
    pg = find(results, "ours-pg", TARGET_LEVEL)
    es = find(results, "es-save", TARGET_LEVEL)
    lite = find(results, "ours-sqlite", TARGET_LEVEL)
    if pg is None or es is None or lite is None:
        return f"{TARGET_TEXT}: NOT MEASURED (needs all four backends at {TARGET_LEVEL})", None
    vs_es = ratio(pg.commands_per_s, es.commands_per_s)
    checks = [
        (
            "ours-pg",
            pg.commands_per_s >= TARGET_PG_RATE,
            f"{pg.commands_per_s:,.0f} cmd/s",
            TARGET_PG_RATE,
        ),
        ("p99", pg.p99_ms <= TARGET_PG_P99_MS, f"{pg.p99_ms:.1f} ms", TARGET_PG_P99_MS),
        ("vs es-save", vs_es >= TARGET_VS_ES, f"{vs_es:.1f}x", TARGET_VS_ES),
        (
            "ours-sqlite",
            lite.commands_per_s >= TARGET_SQLITE_RATE,
            f"{lite.commands_per_s:,.0f} cmd/s",
            TARGET_SQLITE_RATE,
        ),
    ]
    met = all(ok for _, ok, _, _ in checks)
    details = "; ".join(
        f"{name} {value} {'met' if ok else 'MISSED'}" for name, ok, value, _ in checks
    )
    return f"{TARGET_TEXT}: {'MET' if met else 'MISSED'}\n  ({details})", met


# -- main ---------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = common_parser(__doc__.splitlines()[0] if __doc__ else "append benchmark")
    parser.add_argument(
        "--levels", type=parse_levels, default=None, help=f"concurrency levels ({DEFAULT_LEVELS})"
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="measured seconds per level (5; quick 0.8)"
    )
    parser.add_argument(
        "--warmup", type=float, default=None, help="unmeasured seconds per level (0.5; quick 0.2)"
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated subset of {', '.join(BACKENDS)}",
    )
    parser.add_argument(
        "--new-ratio",
        type=float,
        default=0.3,
        help="share of commands that open a new case (the rest append to one; %(default)s)",
    )
    parser.add_argument("--url", default=PG_URL, help="PostgreSQL URL (%(default)s)")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 2 when a target is missed"
    )
    args = parser.parse_args(argv)
    if args.levels is None:
        args.levels = parse_levels(DEFAULT_LEVELS)
    if args.seconds is None:
        args.seconds = 0.8 if args.quick else 5.0
    if args.warmup is None:
        args.warmup = 0.2 if args.quick else 0.5
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backends {unknown}; choose from {', '.join(BACKENDS)}")
    args.backends = backends
    return args


async def run(args: argparse.Namespace) -> list[LevelResult]:
    settings = Settings(
        levels=args.levels,
        seconds=args.seconds,
        warmup=args.warmup,
        new_ratio=args.new_ratio,
        url=args.url,
    )
    results: list[LevelResult] = []
    for backend in args.backends:
        print(f"{backend} ...", file=sys.stderr, flush=True)
        results.extend(await RUNNERS[backend](settings))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    results = run_async(lambda: run(args), args.loop)
    elapsed = time.perf_counter() - started
    print(
        f"append benchmark: one ~300-byte event per command, {args.new_ratio:.0%} new cases, "
        f"{args.seconds:g} s per level after {args.warmup:g} s warm-up, "
        f"loop {loop_name(args.loop)}, {elapsed:.0f} s in all"
    )
    print()
    print(results_table(results))
    print()
    print(ratios_table(results, args.levels))
    print()
    line, met = target_check(results)
    print(line)
    if args.json:
        write_json(
            args.json,
            {
                "benchmark": "append",
                "environment": environment_info(),
                "settings": {
                    "levels": args.levels,
                    "seconds": args.seconds,
                    "warmup": args.warmup,
                    "new_ratio": args.new_ratio,
                    "loop": loop_name(args.loop),
                    "backends": args.backends,
                },
                "results": [as_dict(r) for r in results],
                "target": {"text": TARGET_TEXT, "met": met},
            },
        )
    if args.strict and met is False:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

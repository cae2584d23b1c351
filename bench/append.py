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
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.persistence import StoredEvent

from app.store import AppendRequest, EventStore, create_store
from bench._append_baselines import bench_es_save, bench_raw_asyncpg
from bench._append_workload import LevelResult, Settings, Window, drive_async, progress
from bench.common import (
    PG_URL,
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
TARGET_LEVEL = 32
TARGET_PG_RATE = 3000.0
TARGET_PG_P99_MS = 15.0
TARGET_VS_ES = 5.0
TARGET_SQLITE_RATE = 1500.0
TARGET_TEXT = (
    "target @32 on PostgreSQL: >= 3000 cmd/s, p99 <= 15 ms, >= 5x es-save; SQLite >= 1500 cmd/s"
)


# -- the workload ---------------------------------------------------------------------
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


RUNNERS: dict[str, Callable[[Settings], Awaitable[list[LevelResult]]]] = {
    "ours-pg": bench_ours_pg,
    "ours-sqlite": bench_ours_sqlite,
    "raw-asyncpg": bench_raw_asyncpg,
    "es-save": bench_es_save,
}


# -- report ---------------------------------------------------------------------------


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

"""The append benchmark's baselines (a helper of `bench/append.py`): raw asyncpg with one
INSERT per transaction, and eventsourcing's own `Application.save` on `eventsourcing.postgres`."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import asyncpg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

from app.store.factory import asyncpg_dsn
from bench._append_workload import (
    MAX_ERRORS,
    MAX_OPEN_CASES,
    POOL_CAP,
    LevelResult,
    Samples,
    Settings,
    Window,
    context_state,
    drive_async,
    opened_state,
    progress,
)
from bench.common import (
    fresh_pg_schema,
)

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

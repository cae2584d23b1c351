"""Bodies of `swarmdesk rebuild`, `verify` and `project` (registered in `app.cli`)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.settings import Settings
from app.store import create_store
from app.store.replay_codec import packed_decoder, replay_decoder
from projections.db import create_views_engine
from projections.parallel import Workers
from projections.rebuild import rebuild, verify


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


AUTO = -1


def fold_workers(count: int = AUTO) -> Workers | None:
    """`count` worker processes folding the log; None (fold in this process) for 0.

    AUTO: one per CPU but one, as this process reads, writes, folds the inboxes and
    a share of the cases (`projections.parallel`): one worker on two cores, none on one."""
    if count == AUTO:
        count = (os.cpu_count() or 1) - 1
    return Workers(count, packed_decoder) if count > 0 else None


async def run_rebuild(settings: Settings, console: Console, workers: int = 0) -> tuple[int, float]:
    """Replay the whole log into fresh tables and swap them in; (events, seconds).

    `workers`: see `fold_workers` (used on PostgreSQL only)."""
    store = create_store(settings.database_url, schema=settings.database_schema)
    engine = create_views_engine(settings.database_url, schema=settings.database_schema)
    decode_row = replay_decoder()  # orjson fast path, same events as app.store.codec.decode
    await store.start()
    try:
        until = await store.max_position()

        async def read(after: int, limit: int, upto: int) -> Any:
            return await store.read(after, limit, until=upto)

        started = time.perf_counter()
        with _progress(console) as bar:
            task = bar.add_task("rebuilding views", total=until)
            result = await rebuild(
                engine,
                read,
                decode_row,
                until,
                lambda n: bar.advance(task, n),
                workers=fold_workers(workers),
            )
        return result.events, time.perf_counter() - started
    finally:
        await engine.dispose()
        await store.close()


async def run_verify(settings: Settings, console: Console) -> int:
    """Compare the stored views with a replay; prints differences; their number."""
    store = create_store(settings.database_url, schema=settings.database_schema)
    engine = create_views_engine(settings.database_url, schema=settings.database_schema)
    decode_row = replay_decoder()  # orjson fast path, same events as app.store.codec.decode
    await store.start()
    try:

        async def read(after: int, limit: int, upto: int) -> Any:
            return await store.read(after, limit, until=upto)

        with _progress(console) as bar:
            task = bar.add_task("replaying", total=None)
            position, diffs = await verify(engine, read, decode_row, lambda n: bar.advance(task, n))
        for d in diffs[:50]:
            console.print(
                f"[red]differs[/red] {d.table} {d.key}:\n  stored   {d.stored}\n"
                f"  replayed {d.replayed}"
            )
        if len(diffs) > 50:
            console.print(f"... and {len(diffs) - 50} more")
        console.print(f"verified views at position {position}: {len(diffs)} difference(s)")
        return len(diffs)
    finally:
        await engine.dispose()
        await store.close()


def rebuild_main(workers: int = AUTO) -> None:
    console = Console(stderr=True)
    events, seconds = asyncio.run(run_rebuild(Settings(), console, workers))
    rate = events / seconds if seconds else 0.0
    console.print(f"rebuilt views from {events} events in {seconds:.2f} s ({rate:,.0f} events/s)")


def verify_main() -> int:
    return asyncio.run(run_verify(Settings(), Console()))


async def run_projector(settings: Settings, stop: asyncio.Event) -> None:
    """The projector alone (leader election included) until `stop` is set: the store, the
    views engine, the projector, the knowledge indexer that follows it and, as where a
    projector runs in `swarmdesk serve`, the KPI projection and the timers with the SLA
    engine (`app.bootstrap`'s own steps; an API process without a projector leaves those
    to this one)."""
    import contextlib

    from app.bootstrap import (
        open_engine,
        start_knowledge,
        start_outcomes,
        start_store,
        start_timers,
        start_views,
        system_clock,
    )
    from app.server import gc as gc_policy
    from app.service.cache import AggregateCache
    from app.service.cases import CaseService
    from app.service.repository import Repository
    from app.store.codec import create_mapper

    enabled = settings.projector.model_copy(update={"enabled": True})
    settings = settings.model_copy(update={"projector": enabled})
    async with contextlib.AsyncExitStack() as stack:
        store = await start_store(stack, settings)
        engine = open_engine(stack, settings)
        views = await start_views(stack, settings, store, engine)
        start_knowledge(stack, views)  # the search index follows the projector
        mapper = create_mapper()
        tuning = settings.commands
        repository = Repository(store, mapper, snapshot_every=tuning.snapshot_every)
        cases = CaseService(
            repository, AggregateCache(tuning.cache_size), tuning.conflict_deadline_seconds
        )
        _, sla = start_timers(stack, settings, store, engine, mapper, cases, system_clock(settings))
        start_outcomes(stack, settings, store, engine, cases, sla)
        gc_policy.settle()
        await stop.wait()


def project_main() -> None:
    """`swarmdesk project`: run `run_projector` until SIGTERM or SIGINT."""
    import signal

    import uvloop

    from app.telemetry import logs

    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)  # as `swarmdesk serve` logs

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_projector(settings, stop)

    uvloop.run(run())

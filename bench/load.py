"""Loading a case does not grow with its history: load times of a case of 10 events and
of one of 10,000, from its snapshot plus the events after it (`SWARMDESK_COMMANDS_
SNAPSHOT_EVERY`, 100 by default), side by side with a plain replay of every event.

Half of the large case's events add an element (insights, context: the state grows with
them, so its snapshot does too), half do not (briefing acknowledgements); a third case's
10,000 events add none (its state, and so its snapshot, stays small). Loads are
`Repository.load(Case, id)` against PostgreSQL, as a command with a cold cache does.

Usage: python bench/load.py [--quick] [--events 10000] [--loads 200] [--json PATH]
Target: loading the 10,000-event case costs at most 2x loading the 10-event one.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import UUID

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.tokens import Principal
from app.service.cache import AggregateCache
from app.service.cases import CaseService
from app.service.context import CommandContext
from app.service.repository import Repository
from app.store import create_store
from app.store.codec import create_mapper
from bench.common import (
    PG_URL,
    LatencyStats,
    common_parser,
    environment_info,
    fmt,
    format_table,
    fresh_pg_schema,
    ratio,
    run_async,
    write_json,
)
from domain.actors import Actor, Role
from domain.case import Case
from domain.values import ContextKind, InsightKind

OWNER = Principal("bench-owner", "Olga Owner", Role.AGENT)
TEXT = "Reproduced on staging with the customer's test card; the gateway answers 402."


async def build(cases: CaseService, events: int, elements: bool = True) -> UUID:
    """A case of `events` events (half of them add an element, or none without
    `elements`), written in chains of 100."""
    context = CommandContext(OWNER)
    result = await cases.open(
        context, lambda actor, case_id: Case.open(actor, case_id=case_id, customer="A", subject="s")
    )
    case_id = result.case_id
    n = 1
    while n < events:
        chunk = []
        for _ in range(min(100, events - n)):
            n += 1
            if n % 2 or not elements:
                chunk.append(cases.execute(case_id, context, _ack))
            elif n % 4:
                chunk.append(cases.execute(case_id, context, _insight(n)))
            else:
                chunk.append(cases.execute(case_id, context, _context(n)))
        await asyncio.gather(*chunk)
    return case_id


def _ack(case: Case, actor: Actor) -> None:
    case.acknowledge_briefing(actor, version=case.version)


def _insight(n: int) -> Callable[[Case, Actor], None]:
    def post(case: Case, actor: Actor) -> None:
        case.post_insight(actor, insight_id=UUID(int=n), kind=InsightKind.FINDING, text=TEXT)

    return post


def _context(n: int) -> Callable[[Case, Actor], None]:
    def add(case: Case, actor: Actor) -> None:
        case.add_context(actor, context_id=UUID(int=n), kind=ContextKind.SYMPTOM, text=TEXT)

    return add


async def timed_loads(repository: Repository, case_id: UUID, loads: int) -> LatencyStats:
    latencies = []
    for _ in range(loads):
        began = time.perf_counter()
        case = await repository.load(Case, case_id)
        latencies.append(time.perf_counter() - began)
        assert case is not None
    return LatencyStats.of(latencies)


async def bench(events: int, loads: int) -> list[tuple[str, LatencyStats]]:
    async with fresh_pg_schema("bench_load", url=PG_URL) as schema:
        store = create_store(PG_URL, schema=schema)
        await store.start()
        try:
            mapper = create_mapper()
            snapshots = Repository(store, mapper, snapshot_every=100)
            replays = Repository(store, mapper, snapshot_every=0)
            writer = CaseService(snapshots, AggregateCache(capacity=0))
            small = await build(writer, 10)
            large = await build(writer, events)
            flat = await build(writer, events, elements=False)
            await asyncio.sleep(0.5)  # the last snapshot is written in the background
            rows = []
            for name, repository, case_id in (
                ("10 events, snapshots", snapshots, small),
                (f"{events:,} events, snapshots", snapshots, large),
                ("10 events, replay", replays, small),
                (f"{events:,} events, replay", replays, large),
                (f"{events:,} events adding no element, snapshots", snapshots, flat),
                (f"{events:,} events adding no element, replay", replays, flat),
            ):
                await timed_loads(repository, case_id, max(5, loads // 10))  # warm up
                rows.append((name, await timed_loads(repository, case_id, loads)))
            found = await store.read_snapshot(large)
            assert found is not None
            print(f"the large case's snapshot: version {found[0]:,}, {len(found[1]):,} bytes")
            return rows
        finally:
            await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = common_parser(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=200)
    args = parser.parse_args(argv)
    loads = 50 if args.quick else args.loads
    rows = run_async(lambda: bench(args.events, loads))
    print(format_table(
        ["case", "loads", "p50 ms", "p99 ms"],
        [[name, fmt(s.count), fmt(s.p50_ms, 2), fmt(s.p99_ms, 2)] for name, s in rows],
    ))  # fmt: skip
    small, large = rows[0][1], rows[1][1]
    p50, p99 = ratio(large.p50_ms, small.p50_ms), ratio(large.p99_ms, small.p99_ms)
    replay = ratio(rows[3][1].p50_ms, rows[2][1].p50_ms)
    flat = ratio(rows[4][1].p50_ms, small.p50_ms)
    print(f"ratio large / small with snapshots: p50 {p50:.2f}, p99 {p99:.2f}; replay: p50 "
          f"{replay:.2f}; adding no element, snapshots: p50 {flat:.2f}")  # fmt: skip
    print(f"target: at most 2x: {'MET' if p50 <= 2 else 'NOT MET'} (p50)")
    if args.json:
        write_json(args.json, {"environment": environment_info(),
                               "rows": {n: vars(s) for n, s in rows}})  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

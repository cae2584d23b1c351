"""Loading a case does not grow with its history: load times of a case of 10 events and
of one of 10,000, from its snapshot plus the events after it (`SWARMDESK_COMMANDS_
SNAPSHOT_EVERY`, 1,000 by default), side by side with a plain replay of every event; and
of one of 10,999 events (the most events a load replays after a snapshot).

Half of the large case's events add an element (insights, context: the state grows with
them, so its snapshot does too), half do not (briefing acknowledgements); a third case's
10,000 events add none (its state, and so its snapshot, stays small). Loads are
`Repository.load(Case, id)` against PostgreSQL, as a command with a cold cache does; two
rows also decide an insight on the case loaded (its id checked against the
case's thousands). Rows take turns, load by load, so a busy machine weighs on each
alike; `cpu ms/load` is this process's CPU (decoding, restoring), not PostgreSQL's.

Usage: python bench/load.py [--quick] [--events 10000] [--loads 200] [--json PATH]
Target: loading the 10,000-event case costs at most 2x loading the 10-event one.
"""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.tokens import Principal
from app.service.cache import AggregateCache
from app.service.cases import CaseService
from app.service.context import CommandContext
from app.service.repository import Repository
from app.settings import CommandSettings
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


@dataclass(slots=True)
class Row:
    """One measured row: a case loaded by a repository (and, with `decide`, an insight
    then decided on it), its wall times and the benchmark process's CPU per load."""

    name: str
    repository: Repository
    case_id: UUID
    decide: bool = False
    every: int = 1  # takes part in one round in `every`
    seconds: list[float] = field(default_factory=list)
    cpu: float = 0.0

    async def once(self, *, timed: bool = True) -> None:
        began, cpu = time.perf_counter(), time.process_time()
        case = await self.repository.load(Case, self.case_id)
        assert case is not None
        if self.decide:  # the rules' checks against the restored state (ids, insights)
            case.post_insight(OWNER.actor, insight_id=uuid4(), kind="finding", text=TEXT)
            case.collect_events()
        if timed:
            self.seconds.append(time.perf_counter() - began)
            self.cpu += time.process_time() - cpu

    @property
    def stats(self) -> LatencyStats:
        return LatencyStats.of(self.seconds)

    @property
    def cpu_ms(self) -> float:
        return self.cpu / len(self.seconds) * 1000 if self.seconds else math.nan


async def measure(rows: list[Row], loads: int) -> None:
    """`loads` rounds, each loading every row's case once in turn (so whatever else the
    machine does weighs on every row alike), after a warm-up round (round -1); a row of
    `every` n (a replay of 10,000 events) takes part in one round in n. Before each
    timed load, untimed: the garbage of the one before is collected (else what a replay
    left behind was collected during the next row), and the same load runs once (else
    a row that followed a heavy one paid for it: the 10-event load took 2.3 ms right after
    the 10,999-event row and 0.5 ms elsewhere in the same run)."""
    for round_ in range(-1, loads):
        for row in rows:
            if round_ % row.every:
                continue
            gc.collect()
            await row.once(timed=False)
            await row.once(timed=round_ >= 0)  # round -1 warms up


async def bench(events: int, loads: int) -> list[Row]:
    async with fresh_pg_schema("bench_load", url=PG_URL) as schema:
        store = create_store(PG_URL, schema=schema)
        await store.start()
        try:
            mapper = create_mapper()
            every = CommandSettings().snapshot_every
            snapshots = Repository(store, mapper, snapshot_every=every)
            replays = Repository(store, mapper, snapshot_every=0)
            writer = CaseService(snapshots, AggregateCache(capacity=0))
            small = await build(writer, 10)
            large = await build(writer, events)
            tail = await build(writer, events + every - 1)
            flat = await build(writer, events, elements=False)
            await asyncio.sleep(0.5)  # the last snapshot is written in the background
            rows = [  # the pairs compared side by side first, the heavy rows last
                Row("10 events, snapshots", snapshots, small),
                Row(f"{events:,} events, snapshots", snapshots, large),
                Row("10 events, then an insight decided", snapshots, small, decide=True),
                Row(f"{events:,} events, then an insight decided", snapshots, large, decide=True),
                Row(f"{events:,} events adding no element, snapshots", snapshots, flat),
                Row("10 events, replay", replays, small),
                Row(f"{events:,} events, replay", replays, large, every=10),
                Row(f"{events:,} events adding no element, replay", replays, flat, every=10),
                Row(
                    f"{events + every - 1:,} events ({every - 1} after the snapshot)",
                    snapshots,
                    tail,
                ),
            ]
            gc.collect()
            gc.freeze()  # what building left behind is not walked by the collections below
            await measure(rows, loads)
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
    rows = run_async(lambda: bench(args.events, loads), args.loop)

    def base(row: Row) -> Row:  # the 10-event row it compares with
        return rows[2] if row.decide else rows[5] if row.repository.snapshot_every == 0 else rows[0]

    print(format_table(
        ["case", "loads", "p50 ms", "p99 ms", "cpu ms/load", "p50 vs 10 events"],
        [[r.name, fmt(r.stats.count), fmt(r.stats.p50_ms, 2), fmt(r.stats.p99_ms, 2),
          fmt(r.cpu_ms, 3), f"{ratio(r.stats.p50_ms, base(r).stats.p50_ms):.2f}x"]
         for r in rows],
    ))  # fmt: skip
    small, large = rows[0].stats, rows[1].stats
    p50, p99 = ratio(large.p50_ms, small.p50_ms), ratio(large.p99_ms, small.p99_ms)
    cpu = ratio(rows[1].cpu_ms, rows[0].cpu_ms)
    then = ratio(rows[3].stats.p50_ms, rows[2].stats.p50_ms)
    replay = ratio(rows[6].stats.p50_ms, rows[5].stats.p50_ms)
    flat = ratio(rows[4].stats.p50_ms, small.p50_ms)
    print(f"ratio large / small with snapshots: p50 {p50:.2f}, p99 {p99:.2f}, cpu {cpu:.2f}; "
          f"then an insight decided: p50 {then:.2f}; replay: p50 {replay:.2f}; adding no "
          f"element, snapshots: p50 {flat:.2f}")  # fmt: skip
    print(f"target: at most 2x: {'MET' if p50 <= 2 else 'NOT MET'} (p50)")
    if args.json:
        write_json(args.json, {"environment": environment_info(), "rows": {
            r.name: {**asdict(r.stats), "cpu_ms": r.cpu_ms} for r in rows}})  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Read-side benchmarks on PostgreSQL.

1. `GET /api/cases/{id}` against a real server (one uvicorn process, projector on):
   latency of a 10-event case and of a 10,000-event case (targets: p99 <= 5 ms;
   10,000-event p99 <= 1.5x the 10-event p99). The long case is status churn
   (priority changes and briefing acknowledgements): the document keeps the last 100
   timeline entries, so its size does not grow with such events.
2. `swarmdesk rebuild` (the same code, in process) over a log of many small cases:
   events/s into PostgreSQL (target >= 20,000).

Run: .venv/bin/python -m bench.views [--quick] [--only get|rebuild] [--workers N]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from rich.console import Console

from app.cli.views import AUTO, fold_workers, run_rebuild
from app.settings import ProjectorSettings, Settings
from app.store import EventStore, create_store
from app.store.codec import create_mapper
from app.store.types import AppendRequest
from bench._http_load import Connection, request_head
from bench.common import (
    PG_URL,
    LatencyStats,
    common_parser,
    fmt,
    format_table,
    fresh_pg_schema,
    ratio,
    run_async,
)
from domain import Actor, Case, Role
from tests.e2e.server import running_server

MAPPER = create_mapper()


async def _append(store: EventStore, case: Case) -> int:
    events = [MAPPER.to_stored_event(e) for e in case.collect_events()]
    position = 0
    for i in range(0, len(events), 500):  # one request per 500 events
        position = (await store.append(AppendRequest(events=events[i : i + 500]))).position
    return position


def churn_case(owner: Actor, expert: Actor, n: int) -> Case:
    case = Case.open(owner, customer="ACME", subject="Slow checkout", description="p99 up")
    case.add_context(owner, context_id=uuid.uuid4(), kind="symptom", text="timeouts")
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=expert.id, reason="db")
    case.join(expert)
    priorities = ["high", "urgent", "normal"]
    while case.version < n:
        if case.version % 2:
            case.acknowledge_briefing(expert, version=case.version)
        else:
            p = priorities[case.version % 3]
            if p == case.priority.value:
                p = "low"
            case.change_priority(owner, priority=p, reason="triage")
    return case


def small_case(owner: Actor, expert: Actor) -> Case:
    case = Case.open(owner, customer="ACME", subject="Login loop", description="SSO")
    case.add_context(owner, context_id=uuid.uuid4(), kind="symptom", text="redirects")
    case.request_swarm(owner, request_id=uuid.uuid4(), help_needed="sso", skills_wanted=["saml"])
    case.invite_expert(owner, invitation_id=uuid.uuid4(), expert_id=expert.id, reason="sso")
    case.join(expert)
    insight = uuid.uuid4()
    case.post_insight(
        expert, insight_id=insight, kind="finding", text="clock skew", mentions=[owner.id]
    )
    case.acknowledge_briefing(owner, version=case.version)
    proposal = uuid.uuid4()
    case.propose_resolution(expert, proposal_id=proposal, summary="ntp", cites=[insight])
    case.accept_proposal(owner, proposal_id=proposal)
    case.resolve(owner, summary="fixed ntp")
    return case


async def bench_get(requests: int) -> list[list[str]]:
    owner = Actor(uuid.uuid4(), Role.AGENT, "Olga")
    expert = Actor(uuid.uuid4(), Role.AGENT, "Ed")
    with tempfile.TemporaryDirectory() as tmp:
        # Alembic runs its own event loop: enter and leave the server from a thread.
        manager = running_server("postgres", Path(tmp))
        srv = await asyncio.to_thread(manager.__enter__)
        try:
            rows = await _measure(srv, owner, expert, requests)
        finally:
            await asyncio.to_thread(manager.__exit__, None, None, None)
    return rows


async def _measure(srv: Any, owner: Actor, expert: Actor, requests: int) -> list[list[str]]:
    store = create_store(srv.database_url, schema=srv.schema)
    await store.start()
    try:
        short, long = churn_case(owner, expert, 10), churn_case(owner, expert, 10_000)
        await _append(store, short)
        last = await _append(store, long)
    finally:
        await store.close()
    headers = {"Authorization": f"Bearer {srv.issuer.issue('olga', Role.SUPERVISOR)}"}
    async with httpx.AsyncClient(base_url=srv.base_url, headers=headers) as client:
        t0 = time.perf_counter()
        while True:  # wait for the projector (503 view-behind after 5 s each)
            r = await client.get(f"/api/cases/{long.id}", params={"min_position": last}, timeout=60)
            if r.status_code != 503 or time.perf_counter() - t0 > 300:
                break
        r.raise_for_status()
        print(f"projector caught up with {last:,} events in {time.perf_counter() - t0:.1f} s")
        sizes = {short.id: 0, long.id: len(r.content)}
        sizes[short.id] = len((await client.get(f"/api/cases/{short.id}")).content)
        samples: dict[uuid.UUID, list[float]] = {short.id: [], long.id: []}
        # Timed with a lean keep-alive client (httptools), so the figure is the server's
        # and the network's, not httpx's own per-request cost.
        _, conn = await asyncio.get_running_loop().create_connection(
            Connection, "127.0.0.1", srv.port
        )
        token = headers["Authorization"].removeprefix("Bearer ")
        heads = {
            cid: request_head("GET", f"/api/cases/{cid}", "127.0.0.1", token, b"", "")
            for cid in (short.id, long.id)
        }
        for i in range(requests * 2 + 400):
            cid = short.id if i % 2 else long.id
            t0 = time.perf_counter()
            status, _body = await conn.request(heads[cid], b"")
            elapsed = time.perf_counter() - t0
            assert status == 200
            if i >= 400:  # warm-up
                samples[cid].append(elapsed)
        assert conn.transport is not None
        conn.transport.close()
    stats = {cid: LatencyStats.of(v) for cid, v in samples.items()}
    rows = []
    for label, cid, n in (
        ("10 events", short.id, short.version),
        ("10,000 events", long.id, long.version),
    ):
        s = stats[cid]
        rows.append(
            [
                f"GET case, {label}",
                fmt(n),
                fmt(sizes[cid]),
                fmt(s.count),
                fmt(s.p50_ms, 2),
                fmt(s.p99_ms, 2),
            ]
        )
    rows.append(
        [
            "p99 ratio long/short (target <= 1.5)",
            "",
            "",
            "",
            "",
            fmt(ratio(stats[long.id].p99_ms, stats[short.id].p99_ms), 2),
        ]
    )
    return rows


async def bench_rebuild(cases: int, workers: int = AUTO) -> list[list[str]]:
    async with fresh_pg_schema("bench_views") as schema:
        store = create_store(PG_URL, schema=schema)
        await store.start()
        try:
            owners = [Actor(uuid.uuid4(), Role.AGENT, f"A{i}") for i in range(50)]
            batch = [small_case(owners[i % 50], owners[(i + 1) % 50]) for i in range(cases)]
            for i in range(0, len(batch), 100):
                await asyncio.gather(*(_append(store, c) for c in batch[i : i + 100]))
        finally:
            await store.close()
        settings = Settings(
            database_url=PG_URL,
            database_schema=schema,
            secret_key=SecretStr("bench-secret-key-long-enough"),
            projector=ProjectorSettings(enabled=False),
        )
        cpu = time.process_time()
        events, seconds = await run_rebuild(settings, Console(stderr=True, quiet=True), workers)
        cpu = time.process_time() - cpu
    return [
        [
            f"swarmdesk rebuild (PostgreSQL, workers={_workers(workers)}, {cpu:.1f} s CPU here)",
            fmt(events),
            fmt(seconds, 2),
            fmt(events / seconds, 0),
            "20,000",
        ]
    ]


def _workers(count: int) -> str:
    found = fold_workers(count)
    return str(found.count if found is not None else 0) + (" (auto)" if count == AUTO else "")


async def main(quick: bool, only: str | None, workers: int) -> None:
    if only in (None, "get"):
        get_rows = await bench_get(1000 if quick else 5000)
        print(
            format_table(
                ["GET /api/cases/{id}", "events", "bytes", "requests", "p50 ms", "p99 ms"],
                get_rows,
            )
        )
        print()
    if only in (None, "rebuild"):
        rebuild_rows = await bench_rebuild(2000 if quick else 10_000, workers)
        print(format_table(["rebuild", "events", "seconds", "events/s", "target"], rebuild_rows))


def cli() -> None:
    parser = common_parser(__doc__ or "")
    parser.add_argument("--only", choices=("get", "rebuild"), help="run one of the two")
    parser.add_argument(
        "--workers",
        type=int,
        default=AUTO,
        help="rebuild fold processes (0: in process; default: one per CPU but one)",
    )
    args = parser.parse_args()
    run_async(lambda: main(args.quick, args.only, args.workers), args.loop)


if __name__ == "__main__":
    cli()

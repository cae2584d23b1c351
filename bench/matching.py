"""Matching and notification figures (issue 15).

1. Suggestions for a case among 10,000 agents (`app.service.suggestions` over the agent
   directory, in memory as the service holds it): p50/p99 per call, against a baseline
   that scores every agent (no skill index). Target: p99 <= 10 ms.
2. The webhook sender (`app.notify.sender.Sender` on a migrated PostgreSQL schema, signed
   per Standard Webhooks, over loopback to an aiohttp receiver in another process):
   deliveries/s to a fast receiver alone, then with a second receiver that never answers
   getting its share of deliveries at the same time. Targets: >= 1,000/s; the hanging
   receiver lowers the other's rate by <= 10%.

Usage: python bench/matching.py [--quick] [--sqlite] [--json PATH]
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from app.matching_settings import MatchingSettings, NotifySettings
from app.notify.sender import Sender
from app.notify.subscriptions import new_secret
from app.service.directory import Directory
from app.service.matching import rank
from app.service.suggestions import need_of, suggestions
from app.service.tables import deliveries, webhook_subscriptions
from bench.common import (
    PG_URL,
    LatencyStats,
    as_dict,
    common_parser,
    fmt,
    format_table,
    fresh_pg_schema,
    fresh_sqlite_url,
    write_json,
)
from domain.schedule import DAYS
from projections.db import create_views_engine

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
STATUSES = ["available", "available", "busy", "away", "offline"]


def population(count: int, skills: int, seed: int = 15) -> tuple[list[Any], list[Any]]:
    rnd = random.Random(seed)
    names = [f"skill-{i}" for i in range(skills)]
    profiles, contributions = [], []
    for i in range(count):
        agent = str(uuid.UUID(int=rnd.getrandbits(128)))
        start = rnd.randrange(0, 24)
        profiles.append({
            "agent_id": agent, "name": f"Agent {i}",
            "skills": {s: rnd.randint(1, 5) for s in rnd.sample(names, rnd.randint(2, 8))},
            "interests": rnd.sample(names, 2), "timezone": rnd.choice(ZONES),
            "availability": rnd.choice(STATUSES), "capacity": rnd.randint(1, 5),
            "working_hours": f"{start:02d}:00-{(start + 8) % 24:02d}:00",
            "working_days": list(DAYS[:5]),
        })  # fmt: skip
        contributions.append({
            "agent_id": agent, "proposals_accepted": rnd.randint(0, 5),
            "insights_cited": rnd.randint(0, 10), "insights_posted": rnd.randint(0, 30),
            "help_offered": rnd.randint(0, 5), "swarms": ["c"] * rnd.randint(0, 3),
            "declined_at": ["2026-12-01T10:00:00+00:00"] * rnd.randint(0, 2),
        })  # fmt: skip
    return profiles, contributions


def case_doc(wanted: list[str]) -> dict[str, Any]:
    owner = str(uuid.uuid4())
    return {
        "case_id": str(uuid.uuid4()), "product_area": "",
        "owner": {"id": owner}, "participants": {owner: {"left_at": None}},
        "invitations": {},
        "swarm_requests": {"r": {"status": "open", "skills_wanted": wanted}},
    }  # fmt: skip


def bench_suggestions(agents: int, calls: int) -> dict[str, Any]:
    weights = MatchingSettings()
    directory = Directory(None, None, weights)  # type: ignore[arg-type]
    directory.load(*population(agents, skills=200))
    rnd = random.Random(7)
    cases = [case_doc(rnd.sample([f"skill-{i}" for i in range(200)], 3)) for _ in range(50)]
    from datetime import UTC, datetime

    cpu: dict[str, float] = {}

    def timed(fn: Any, name: str) -> LatencyStats:
        samples = []
        c0 = time.process_time()
        for i in range(calls):
            case = cases[i % len(cases)]
            t0 = time.perf_counter()
            fn(case)
            samples.append(time.perf_counter() - t0)
        cpu[name] = (time.process_time() - c0) / calls * 1000
        return LatencyStats.of(samples)

    at = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    ours = timed(lambda c: suggestions(c, directory, weights, at, (), 10), "ours")
    everyone = list(directory.candidates.values())
    base = timed(lambda c: rank(need_of(c), everyone, weights, at, (), 10).best, "baseline")
    candidates = sum(len(directory.matching(need_of(c).wanted)) for c in cases) / len(cases)
    return {"agents": agents, "calls": calls, "mean_candidates": candidates,
            "ours": as_dict(ours), "baseline_scan_all": as_dict(base),
            "cpu_ms": cpu}  # fmt: skip


def _receiver(port: int, ready: Any) -> None:
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204)

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        return web.Response(status=204)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/ok", ok)
        app.router.add_post("/hang", hang)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    import uvloop

    uvloop.run(main())


async def _seed(engine: Any, sub: str, url: str, count: int, start: int) -> None:
    now = time.time()
    async with engine.begin() as conn:
        sub_row = {"id": sub, "owner_id": "", "url": url, "secret": new_secret(),
                   "events": "[]", "created_at": now}  # fmt: skip
        await conn.execute(sa.insert(webhook_subscriptions).values(**sub_row))
        body = json.dumps({"type": "swarmdesk.invitation", "link": "http://x/cases/y", "data": {}})
        rows = [{"id": f"msg_{sub[:8]}_{i}", "channel": "webhook", "target": sub,
                 "position": start + i, "kind": "invitation", "payload": body,
                 "status": "pending", "attempts": 0, "next_at": now, "first_at": now,
                 "last_status": "", "delivered_at": None} for i in range(count)]  # fmt: skip
        for i in range(0, len(rows), 500):
            await conn.execute(sa.insert(deliveries), rows[i : i + 500])


async def _delivered(engine: Any, sub: str) -> int:
    async with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            deliveries.c.target == sub, deliveries.c.status == "delivered"
        )
        return int((await conn.execute(query)).scalar() or 0)


async def sender_run(url: str, schema: str | None, port: int, count: int, hang: bool) -> float:
    engine = create_views_engine(url, schema=schema, pool_size=5)
    settings = NotifySettings(poll_seconds=0.05, timeout_seconds=30)
    fast = str(uuid.uuid4())
    await _seed(engine, fast, f"http://127.0.0.1:{port}/ok", count, 0)
    if hang:
        await _seed(engine, str(uuid.uuid4()), f"http://127.0.0.1:{port}/hang", count // 4, count)
    sender = Sender(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    t0 = time.perf_counter()
    while await _delivered(engine, fast) < count:  # noqa: ASYNC110 (polls the database)
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - t0
    stop.set()
    await sender.close()
    task.cancel()
    await engine.dispose()
    return count / elapsed


async def bench_sender(count: int, sqlite: bool) -> dict[str, Any]:
    from tests.e2e.server import free_port

    port = free_port()
    ready = mp.get_context("spawn").Event()
    proc = mp.get_context("spawn").Process(target=_receiver, args=(port, ready), daemon=True)
    proc.start()
    ready.wait(30)
    out: dict[str, Any] = {"deliveries": count, "backend": "sqlite" if sqlite else "postgres"}
    try:
        for label, hang in (("alone", False), ("with_a_hanging_receiver", True)):
            if sqlite:
                async with fresh_sqlite_url("matching") as url:
                    out[label] = await sender_run(url, None, port, count, hang)
            else:
                async with fresh_pg_schema("matching") as schema:
                    out[label] = await sender_run(PG_URL, schema, port, count, hang)
    finally:
        proc.kill()
    out["drop"] = 1 - out["with_a_hanging_receiver"] / out["alone"]
    return out


async def main() -> None:
    parser = common_parser(__doc__ or "")
    parser.add_argument("--sqlite", action="store_true", help="the sender on SQLite")
    args = parser.parse_args()
    calls = 300 if args.quick else 2000
    s = bench_suggestions(10_000, calls)
    print(f"suggestions among {s['agents']:,} agents ({calls} calls, "
          f"{s['mean_candidates']:.0f} candidates on average)")  # fmt: skip
    rows = [[name, fmt(d["p50_ms"], 2), fmt(d["p99_ms"], 2), fmt(d["max_ms"], 2),
             fmt(s["cpu_ms"][key], 2)]
            for name, key, d in (("ours (skill index)", "ours", s["ours"]),
                                 ("baseline: score everyone", "baseline",
                                  s["baseline_scan_all"]))]  # fmt: skip
    print(format_table(["", "p50 ms", "p99 ms", "max ms", "CPU ms/call"], rows))
    ok = s["ours"]["p99_ms"] <= 10
    print(f"target p99 <= 10 ms: {'met' if ok else 'MISSED'}; ratio p99 baseline/ours: "
          f"{s['baseline_scan_all']['p99_ms'] / s['ours']['p99_ms']:.1f}x\n")  # fmt: skip
    w = await bench_sender(2_000 if args.quick else 10_000, args.sqlite)
    print(f"webhook sender ({w['backend']}, {w['deliveries']:,} signed deliveries to a local "
          "receiver)")  # fmt: skip
    print(format_table(["", "deliveries/s"], [
        ["alone", fmt(w["alone"], 0)],
        ["with a receiver that never answers", fmt(w["with_a_hanging_receiver"], 0)],
    ]))  # fmt: skip
    print(f"target >= 1,000/s: {'met' if w['alone'] >= 1000 else 'MISSED'}; drop with the "
          f"hanging receiver {w['drop']:.1%} (target <= 10%: "
          f"{'met' if w['drop'] <= 0.10 else 'MISSED'})")  # fmt: skip
    if args.json:
        write_json(args.json, {"suggestions": s, "sender": w})


if __name__ == "__main__":
    asyncio.run(main())

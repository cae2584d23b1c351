"""Stream delivery rate: events/s to one consumer from position 0, over the HTTP feed and
over the WebSocket tail, against the raw read rate of the events table in the same run.

A fresh PostgreSQL schema is loaded with N events (real case stories, appended through
the store in batches); a real server (uvicorn subprocess, as in production) serves them;
the consumer runs in this process and parses every message (orjson), as a consumer would:

- raw-asyncpg   keyset pages of 5,000 rows straight from the events table (no decoding);
- http-feed     GET /api/events?after=P&limit=1000 until the head (CloudEvents batches);
- ws-tail       WS /ws/events?after=0, one CloudEvent per message, until the head;
- sse-tail      GET /api/events/stream (Server-Sent Events), until the head.

Target: >= 20,000 events/s over the WebSocket tail.
Usage: python bench/stream.py [--quick] [--events N] [--json PATH]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import orjson
import websockets

from app.store import create_store
from bench.common import (
    PG_URL,
    common_parser,
    environment_info,
    fmt,
    format_table,
    fresh_pg_schema,
    loop_name,
    pg_connect,
    ratio,
    run_async,
    write_json,
)
from tests.e2e.server import Server, free_port, server_env
from tests.stream_scenario import case_story, requests_for

TARGET = 20_000


async def load(schema: str, events: int) -> int:
    """Append case stories (21 events each) in concurrent batches until `events`."""
    async with create_store(PG_URL, schema=schema) as store:
        while (await store.max_position()) < events:
            stories = [case_story() for _ in range(200)]
            await asyncio.gather(*(store.append(r) for r in requests_for(stories)))
        return await store.max_position()


async def raw_read(schema: str) -> tuple[int, float]:
    conn = await pg_connect(PG_URL, schema)
    try:
        began, after, count = time.perf_counter(), 0, 0
        while True:
            rows = await conn.fetch(
                "SELECT position, event_id, originator_id, originator_version, topic, state"
                " FROM events WHERE position > $1 ORDER BY position LIMIT 5000",
                after,
            )
            if not rows:
                return count, time.perf_counter() - began
            count += len(rows)
            after = rows[-1]["position"]
    finally:
        await conn.close()


async def http_feed(server: Server, head: int, headers: dict[str, str]) -> tuple[int, float]:
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
        began, after, count = time.perf_counter(), 0, 0
        while after < head:
            response = await client.get(f"/api/events?after={after}&limit=1000", timeout=60)
            count += len(orjson.loads(response.content))
            after = int(response.headers["Swarmdesk-Next-Position"])
        return count, time.perf_counter() - began


async def ws_tail(server: Server, head: int, headers: dict[str, str]) -> tuple[int, float]:
    url = f"{server.ws_url}/ws/events?after=0"
    began, count, position = time.perf_counter(), 0, 0
    async with websockets.connect(url, additional_headers=headers, compression=None) as ws:
        while position < head:
            position = orjson.loads(await ws.recv())["position"]
            count += 1
    return count, time.perf_counter() - began


async def sse_tail(server: Server, head: int, headers: dict[str, str]) -> tuple[int, float]:
    began, count, position = time.perf_counter(), 0, 0
    async with (
        httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as client,
        client.stream("GET", "/api/events/stream?after=0") as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                position = orjson.loads(line[6:])["position"]
                count += 1
                if position >= head:
                    break
    return count, time.perf_counter() - began


async def main(events: int, repeat: int) -> dict[str, Any]:
    async with fresh_pg_schema("bench_stream") as schema:
        began = time.perf_counter()
        head = await load(schema, events)
        load_seconds = time.perf_counter() - began
        with tempfile.TemporaryDirectory(prefix="swarmdesk-bench-stream-") as tmp:
            server = Server(
                "postgres",
                PG_URL,
                schema,
                free_port(),
                server_env(PG_URL, schema, Path(tmp), SWARMDESK_PROJECTOR="false"),
            )
            server.log_path = Path(tmp) / "server.log"
            await asyncio.to_thread(server.start)
            try:
                headers = server.headers("bench", "service")
                results: dict[str, list[tuple[int, float]]] = {}
                for _ in range(repeat):
                    runs: list[tuple[str, Callable[[], Awaitable[tuple[int, float]]]]] = [
                        ("raw-asyncpg", lambda: raw_read(schema)),
                        ("http-feed", lambda: http_feed(server, head, headers)),
                        ("ws-tail", lambda: ws_tail(server, head, headers)),
                        ("sse-tail", lambda: sse_tail(server, head, headers)),
                    ]
                    for name, run in runs:
                        results.setdefault(name, []).append(await run())
            finally:
                await asyncio.to_thread(server.stop)
    best = {name: max(runs, key=_rate) for name, runs in results.items()}
    return {"events": head, "load_seconds": load_seconds, "best": best}


def _rate(run: tuple[int, float]) -> float:
    return run[0] / run[1]


def report(outcome: dict[str, Any]) -> tuple[str, dict[str, float]]:
    best = outcome["best"]
    raw_rate = best["raw-asyncpg"][0] / best["raw-asyncpg"][1]
    rows, rates = [], {}
    for name, (count, seconds) in best.items():
        rate = count / seconds
        rates[name] = rate
        rows.append(
            [name, fmt(count), fmt(seconds, 2), fmt(rate, 0), fmt(ratio(rate, raw_rate), 3)]
        )
    table = format_table(["channel", "events", "seconds", "events/s", "vs raw"], rows)
    return table, rates


def cli() -> None:
    parser = common_parser(__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events to pre-load")
    args = parser.parse_args()
    events = 10_000 if args.quick and args.events == 50_000 else args.events
    repeat = 1 if args.quick else 2
    outcome = run_async(lambda: main(events, repeat), args.loop)
    table, rates = report(outcome)
    print(f"stream delivery, PostgreSQL, one consumer from position 0 ({loop_name(args.loop)})")
    loaded = f"{outcome['events']:,} events in {outcome['load_seconds']:.1f} s"
    print(f"pre-loaded {loaded}; best of {repeat}")
    print(table)
    verdict = "met" if rates["ws-tail"] >= TARGET else "MISSED"
    print(f"target >= {TARGET:,} events/s over the WebSocket tail: {verdict}")
    if args.json:
        write_json(args.json, {"env": environment_info(), "rates": rates, **outcome})


if __name__ == "__main__":
    cli()

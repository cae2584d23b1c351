"""Push latency and memory per connection, on PostgreSQL, one server process.

1. Latency: 100 cases, 10 WebSocket clients each (1,000 in all); one command at a time
   (`POST /api/cases/{id}/context`); for each command, the time from its HTTP
   acknowledgement to its patch having arrived at *every* client of the case (0 when
   all had it before the acknowledgement). Targets: p50 <= 5 ms, p99 <= 20 ms.
2. Memory: the server's RSS before and after opening 10,000 idle connections (spread
   over the same cases, snapshot received); target <= 16 KiB per connection. Also the
   marginal cost over the last four fifths (the first connections reuse memory freed
   and kept resident after the latency run). `python -m bench.push_trace` shows where
   the bytes are (tracemalloc).

Each runs against the chosen path (uvicorn `--ws websockets-sansio`, `app.asgi`
handing push sockets to their raw ASGI endpoint before the FastAPI middleware, one
frame serialised per change and written inline) and, as the baseline, uvicorn's
deprecated `--ws websockets` backend serving the same app. Clients run in this process
(uvloop); the server in a subprocess with the open-files limit raised.

    .venv/bin/python -m bench.push [--quick] [--backends websockets-sansio,websockets]
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.common import (
    PG_URL,
    LatencyStats,
    common_parser,
    fmt,
    format_table,
    fresh_pg_schema,
    ratio,
    run_async,
    write_json,
)
from tests.e2e.server import SECRET, free_port, server_env

ROOT = Path(__file__).resolve().parents[1]


def raise_open_files() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@contextlib.contextmanager
def server_process(
    ws: str, schema: str, workdir: Path, launcher: tuple[str, ...] = ("-m", "uvicorn"), **env: str
) -> Iterator[tuple[int, int]]:
    """A uvicorn subprocess (the app, `--ws ws`); yields (port, pid)."""
    port = free_port()
    environ = server_env(PG_URL, schema, workdir, SWARMDESK_LOG_LEVEL="warning", **env)
    log = (workdir / f"server-{ws}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, *launcher, "app.asgi:app", "--port", str(port), "--ws", ws,
         "--ws-per-message-deflate", "false", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=raise_open_files,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / f"server-{ws}.log").read_text())
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@dataclass
class Result:
    ws: str
    latency: LatencyStats
    idle: int
    rss_before_kib: int
    rss_after_kib: int
    rss_fifth_kib: int  # after the first fifth of the idle connections

    @property
    def kib_per_connection(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.idle if self.idle else 0.0

    @property
    def marginal_kib_per_connection(self) -> float:
        """Over the last four fifths only: memory the process freed earlier (and kept
        resident) is reused by the first connections, which flatters the plain delta."""
        rest = self.idle - self.idle // 5
        return (self.rss_after_kib - self.rss_fifth_kib) / rest if rest else 0.0


class Watcher:
    """One client: records when each position arrived."""

    def __init__(self, ws: Any, arrivals: dict[int, list[float]], done: Any = None) -> None:
        self.ws = ws
        self.arrivals = arrivals
        self.done = done  # called with the position and its arrivals after each patch

    async def run(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in self.ws:
                now = time.perf_counter()
                if text.startswith('{"type":"patch"'):
                    position = json.loads(text)["position"]
                    got = self.arrivals.setdefault(position, [])
                    got.append(now)
                    if self.done is not None:
                        self.done(position, got)


async def scenario(port: int, pid: int, cases: int, per_case: int, commands: int,
                   idle: int) -> tuple[LatencyStats, int, int, int]:  # fmt: skip
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    token = "Bearer " + _issuer().issue("bench-owner", "agent")
    headers = {"Authorization": token}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        ids = []
        for i in range(cases):
            r = await http.post("/api/cases", json={"customer": "ACME", "subject": f"case {i}"})
            r.raise_for_status()
            ids.append(r.json()["case_id"])
        arrivals: dict[int, list[float]] = {}
        sockets, tasks = [], []
        complete: dict[int, asyncio.Event] = {}

        def done(position: int, got: list[float]) -> None:
            if len(got) >= per_case:
                complete.setdefault(position, asyncio.Event()).set()

        async def connect(case_id: str) -> Any:
            for _ in range(5):
                with contextlib.suppress(OSError, websockets.InvalidStatus, TimeoutError):
                    ws = await websockets.connect(
                        f"{ws_base}/ws/cases/{case_id}", additional_headers=headers,
                        compression=None, max_size=None, open_timeout=60,
                    )  # fmt: skip
                    await ws.recv()  # the snapshot
                    return ws
                await asyncio.sleep(0.5)
            raise RuntimeError("cannot connect")

        for case_id in ids:
            for _ in range(per_case):
                ws = await connect(case_id)
                sockets.append(ws)
                tasks.append(asyncio.create_task(Watcher(ws, arrivals, done).run()))
        await asyncio.sleep(1)
        lags: list[float] = []
        for n in range(commands):
            r = await http.post(
                f"/api/cases/{ids[n % cases]}/context", json={"kind": "symptom", "text": "x" * 120}
            )
            acked = time.perf_counter()
            r.raise_for_status()
            position = r.json()["position"]
            # woken by the last client's arrival (no polling loop competing for the CPU)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(complete.setdefault(position, asyncio.Event()).wait(), 5)
            got = arrivals.get(position, [])
            if len(got) < per_case:
                raise RuntimeError(f"position {position}: {len(got)} of {per_case} clients")
            lags.append(max(0.0, max(got) - acked))
        for t in tasks:
            t.cancel()
        # memory: idle connections (snapshot received, then nothing)
        await asyncio.sleep(1)
        before = rss_kib(pid)
        idle_sockets, fifth = [], before
        for i in range(idle):
            idle_sockets.append(await connect(ids[i % cases]))
            if i + 1 == idle // 5:
                await asyncio.sleep(2)
                fifth = rss_kib(pid)
        await asyncio.sleep(2)
        after = rss_kib(pid)
        for ws in [*sockets, *idle_sockets]:
            with contextlib.suppress(Exception):
                ws.transport.abort()
    return LatencyStats.of(lags), before, after, fifth


def _issuer() -> Any:
    from app.auth.tokens import TokenIssuer

    return TokenIssuer(SECRET)


async def run_one(ws: str, args: Any) -> Result:
    async with fresh_pg_schema() as schema:
        workdir = Path(f"/tmp/swarmdesk-bench-push-{schema}")
        workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        with server_process(ws, schema, workdir) as (port, pid):
            stats, before, after, fifth = await scenario(
                port, pid, args.cases, args.per_case, args.commands, args.idle
            )
    return Result(ws, stats, args.idle, before, after, fifth)


def main() -> None:
    parser = common_parser(__doc__ or "")
    parser.add_argument("--backends", default="websockets-sansio,websockets")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--per-case", type=int, default=10)
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--idle", type=int, default=10_000)
    args = parser.parse_args()
    if args.quick:
        args.commands, args.idle = 200, 3000
    limit = raise_open_files()
    results = []
    for ws in args.backends.split(","):
        results.append(run_async(functools.partial(run_one, ws, args), args.loop))
    chosen = results[0]
    rows = [
        [r.ws, fmt(r.latency.count), fmt(r.latency.p50_ms, 2), fmt(r.latency.p90_ms, 2),
         fmt(r.latency.p99_ms, 2), fmt(r.latency.max_ms, 2), fmt(r.idle),
         fmt(r.kib_per_connection, 1), fmt(r.marginal_kib_per_connection, 1),
         fmt(ratio(r.latency.p50_ms, chosen.latency.p50_ms), 2),
         fmt(ratio(r.kib_per_connection, chosen.kib_per_connection), 2)]
        for r in results
    ]  # fmt: skip
    print(f"push on PostgreSQL: {args.cases} cases x {args.per_case} clients, "
          f"{args.commands} commands one at a time; {args.idle} idle connections "
          f"(open-files limit {limit})")  # fmt: skip
    print(format_table(
        ["server ws path", "cmds", "p50 ms", "p90 ms", "p99 ms", "max ms", "idle conns",
         "KiB/conn", "marginal", "p50 x", "mem x"], rows))  # fmt: skip
    print("targets: p50 <= 5 ms, p99 <= 20 ms, <= 16 KiB per idle connection; "
          "marginal = KiB/conn over the last 4/5 of the idle connections; "
          "x = ratio to the first (chosen) path")  # fmt: skip
    if args.json:
        write_json(args.json, {"results": [r.__dict__ | {
            "kib_per_connection": r.kib_per_connection,
            "marginal_kib_per_connection": r.marginal_kib_per_connection,
        } for r in results]})  # fmt: skip


if __name__ == "__main__":
    main()

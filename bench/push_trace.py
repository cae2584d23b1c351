"""Where an idle push connection's server memory is: a tracemalloc diff, per connection.

Runs the server as `bench.push` does (uvicorn ``websockets-sansio``, `app.asgi`,
PostgreSQL), opens 500 connections to warm it up, starts tracing (signal USR2), takes
a snapshot (USR1), opens N more idle connections (snapshot received), takes another
and prints the difference grouped by the line that allocated, in bytes and blocks per
connection. Tracing starts late on purpose: tracing the imports and the warm-up would
take minutes. Python allocations only (uvloop's and libuv's go through PyMem, so they
appear too, under the loop's ``run_until_complete``); RSS under tracing is not
meaningful, `bench.push` measures RSS untraced.

    .venv/bin/python -m bench.push_trace [--idle 1500] [--top 25] [--frames 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import websockets

from bench.common import fresh_pg_schema
from bench.push import _issuer, raise_open_files, server_process

SNAPSHOT_ENV = "SWARMDESK_BENCH_SNAPSHOT"


def traced_server() -> None:
    """uvicorn's command line, plus USR2: start tracing, USR1: dump a snapshot."""
    path, frames, count = os.environ[SNAPSHOT_ENV], int(os.environ.get("TRACE_FRAMES", "1")), [0]

    def dump(*_: Any) -> None:
        count[0] += 1
        tracemalloc.take_snapshot().dump(f"{path}.{count[0]}")
        Path(f"{path}.{count[0]}.done").touch()

    signal.signal(signal.SIGUSR2, lambda *_: tracemalloc.start(frames))
    signal.signal(signal.SIGUSR1, dump)
    import uvicorn.main

    sys.argv = ["uvicorn", *sys.argv[2:]]
    uvicorn.main.main()


async def scenario(port: int, pid: int, idle: int, path: str) -> None:
    import httpx

    headers = {"Authorization": "Bearer " + _issuer().issue("bench-owner", "agent")}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
        ids = []
        for i in range(100):
            r = await http.post("/api/cases", json={"customer": "ACME", "subject": f"case {i}"})
            ids.append(r.raise_for_status().json()["case_id"])

    async def connect(case_id: str) -> Any:
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/cases/{case_id}", additional_headers=headers,
            compression=None, max_size=None, open_timeout=60,
        )  # fmt: skip
        await ws.recv()  # the snapshot
        return ws

    async def snapshot(n: int) -> None:
        os.kill(pid, signal.SIGUSR1)
        done = Path(f"{path}.{n}.done")
        while not done.exists():  # noqa: ASYNC110, ASYNC240 - written by another process
            await asyncio.sleep(0.2)

    sockets = [await connect(ids[i % 100]) for i in range(500)]
    os.kill(pid, signal.SIGUSR2)
    await asyncio.sleep(1)
    await snapshot(1)
    sockets += [await connect(ids[i % 100]) for i in range(idle)]
    await asyncio.sleep(2)
    await snapshot(2)
    for ws in sockets:
        with contextlib.suppress(Exception):
            ws.transport.abort()


def report(path: str, idle: int, top: int) -> None:
    before = tracemalloc.Snapshot.load(f"{path}.1")
    after = tracemalloc.Snapshot.load(f"{path}.2")
    stats = after.compare_to(before, "lineno")
    total = sum(s.size_diff for s in stats)
    print(f"tracemalloc, {idle} idle connections: {total / idle:,.0f} B per connection")
    print(f"{'B/conn':>8} {'blocks':>6}  allocated at")
    for s in stats[:top]:
        frame = s.traceback[0]
        where = frame.filename.split("site-packages/")[-1].split("/python3.11/")[-1]
        print(f"{s.size_diff / idle:8,.0f} {s.count_diff / idle:6.2f}  {where}:{frame.lineno}")


async def run(args: argparse.Namespace) -> None:
    async with fresh_pg_schema() as schema:
        workdir = Path(f"/tmp/swarmdesk-bench-push-trace-{schema}")
        workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        path = str(workdir / "snapshot")
        launcher = ("-m", "bench.push_trace", "--server")
        env = {SNAPSHOT_ENV: path, "TRACE_FRAMES": str(args.frames)}
        with server_process("websockets-sansio", schema, workdir, launcher, **env) as (port, pid):
            await scenario(port, pid, args.idle, path)
    report(path, args.idle, args.top)


def main() -> None:
    if sys.argv[1:2] == ["--server"]:
        traced_server()
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--idle", type=int, default=1500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=1, help="traceback depth when tracing")
    args = parser.parse_args()
    raise_open_files()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

"""The machinery of `bench/http_commands.py` (a helper, not a benchmark): a `swarmdesk
serve` (this tree's or another checkout's) on a fresh schema, one measured HTTP run
against it, the in-process baseline, and the table they print."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from app.auth.tokens import TokenIssuer
from bench._append_workload import Settings as AppendSettings
from bench._http_load import LoadResult, run_clients
from bench.append import bench_ours_pg
from bench.common import (
    PG_URL,
    LatencyStats,
    fmt,
    format_table,
    fresh_pg_schema,
    run_async,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-http-commands-secret-key-0123456789"
TARGET_RATE, TARGET_P99_MS = 2000.0, 25.0
SPAWN_SLACK = 2.0  # seconds for the load process to start before its warm-up begins


@dataclass
class Row:
    name: str
    clients: int
    commands: int
    errors: int
    rate: float
    p50_ms: float
    p99_ms: float
    server_cpu: float  # fraction of one core over the window
    client_cpu: float  # fraction of one core over the whole load run
    note: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_ticks(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def command(root: Path | None, *args: str) -> tuple[list[str], dict[str, str]]:
    """The `swarmdesk` command line: this tree's, or `root`'s code run with this
    environment's packages (`-S` skips the editable install that points at this tree)."""
    if root is None:
        return [str(Path(sys.executable).parent / "swarmdesk"), *args], {}
    site = sysconfig.get_paths()["purelib"]
    launch = "from app.cli import main; main()"
    return [sys.executable, "-S", "-c", launch, *args], {"PYTHONPATH": f"{root}:{site}"}


@contextlib.contextmanager
def serve(
    schema: str,
    projector: bool,
    separate: bool = False,
    root: Path | None = None,
    extra_env: dict[str, str] | None = None,
    output: Path | None = None,
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`swarmdesk serve` on a free port (uvicorn: uvloop + httptools), until exit; with
    `separate`, the projector runs in a `swarmdesk project` process beside it; `root`:
    another checkout's server (see `command`); `output`: a file for the server's stdout and
    stderr (its logs), else the terminal's."""
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="swarmdesk-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARMDESK_")}
    env.update(
        SWARMDESK_DATABASE_URL=PG_URL,
        SWARMDESK_DATABASE_SCHEMA=schema,
        SWARMDESK_SECRET_KEY=SECRET,
        SWARMDESK_DATA_DIR=data_dir,
        SWARMDESK_LOG_LEVEL="warning",
        SWARMDESK_PROJECTOR="true" if projector and not separate else "false",
        # one address, 32 principals at ~100 cmd/s each: limits on, never reached
        SWARMDESK_EDGE_ADDRESS_RATE="1e9",
        SWARMDESK_EDGE_PRINCIPAL_RATE="1e9",
    )
    env.update(extra_env or {})
    argv, extra = command(root, "serve", "--port", str(port))
    env.update(extra)
    sink = open(output, "ab") if output is not None else None  # noqa: SIM115 (closed below)
    process = subprocess.Popen(argv, cwd=root or ROOT, env=env, stdout=sink, stderr=sink)
    helper = None
    if separate:
        helper = subprocess.Popen(command(root, "project")[0], cwd=root or ROOT, env=env)
    try:
        deadline = time.monotonic() + 90  # a loaded machine starts slowly
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("swarmdesk serve did not become ready")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield process, port
    finally:
        if helper is not None:
            helper.terminate()
            helper.wait(10)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if sink is not None:
            sink.close()


def http_run(
    name: str,
    projector: bool,
    clients: int,
    seconds: float,
    warmup: float,
    idempotency: bool,
    separate: bool = False,
    root: Path | None = None,
    tokens: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    output: Path | None = None,
) -> Row:
    async def with_schema() -> Row:
        async with fresh_pg_schema("bench_http", url=PG_URL) as schema:
            return await asyncio.to_thread(measure, schema)

    def measure(schema: str) -> Row:
        issuer = TokenIssuer(SECRET)
        used = tokens or [
            issuer.issue(f"bench-agent-{n}", "agent", ttl=3600) for n in range(clients)
        ]
        with serve(schema, projector, separate, root, extra_env, output) as (process, port):
            start = time.time() + SPAWN_SLACK + warmup
            window = (start, start + seconds)
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                future = pool.submit(run_clients, "127.0.0.1", port, used, window, 0.1, idempotency)
                time.sleep(max(0.0, start - time.time()))
                cpu0 = cpu_ticks(process.pid)
                time.sleep(max(0.0, window[1] - time.time()))
                cpu1 = cpu_ticks(process.pid)
                load: LoadResult = future.result()
        stats = LatencyStats.of(load.latencies)
        note = f"{load.errors} errors, first: {load.first_error}" if load.errors else ""
        total = seconds + warmup + SPAWN_SLACK
        return Row(
            name, clients, stats.count, load.errors, stats.count / seconds,
            stats.p50_ms, stats.p99_ms, (cpu1 - cpu0) / seconds, load.cpu_seconds / total, note,
        )  # fmt: skip

    return run_async(with_schema)


def in_process_run(clients: int, seconds: float, warmup: float) -> Row:
    settings = AppendSettings(
        levels=[clients], seconds=seconds, warmup=warmup, new_ratio=0.1, url=PG_URL
    )
    began = time.process_time()
    (result,) = run_async(lambda: bench_ours_pg(settings))
    cpu = (time.process_time() - began) / (seconds + warmup)
    return Row(
        "in-process append (bench/append.py ours-pg)", clients, result.commands, result.errors,
        result.commands_per_s, result.p50_ms, result.p99_ms, cpu, 0.0, result.note,
    )  # fmt: skip


def table(rows: Sequence[Row]) -> str:
    return format_table(
        ["run", "clients", "commands", "errors", "cmd/s", "p50 ms", "p99 ms", "server CPU", "client CPU"],  # noqa: E501
        [
            [r.name, fmt(r.clients), fmt(r.commands), fmt(r.errors), fmt(r.rate), fmt(r.p50_ms, 2),
             fmt(r.p99_ms, 2), f"{r.server_cpu:.0%}", f"{r.client_cpu:.0%}" if r.client_cpu else "-"]  # noqa: E501
            for r in rows
        ],
    )  # fmt: skip

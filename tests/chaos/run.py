"""One chaos run: a fresh schema on the private cluster, a real `swarmdesk serve` on it,
clients writing and a socket following; the fault (the caller's); then the audit:
every acknowledged command once, positions contiguous, views equal a replay, the socket
resumed gap-free, a projector leads again, SIGTERM exits within the grace."""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr
from rich.console import Console

from app.cli.views import run_verify
from app.settings import Settings
from app.store.migrate import upgrade_async
from tests.chaos.audit import Probe, check_commands, read_log
from tests.chaos.cluster import Cluster
from tests.chaos.load import OWNER, Load, Resuming
from tests.chaos.report import Figures
from tests.e2e.server import SECRET, Server, free_port, server_env
from tests.support import fresh_schema

Starting = Callable[[Server, Callable[[], Coroutine[Any, Any, None]]], Awaitable[None]]
GRACE = 10.0  # SWARMDESK_SHUTDOWN_GRACE_SECONDS, its default
CATCH_UP_LIMIT = 60.0  # liveness: the views catch up eventually (10 s is the target)
RUN_LIMIT = 240.0  # a run that hangs fails instead of holding the suite
#: Short deadlines so a frozen connection costs seconds, not minutes, in the suite.
TIMEOUTS = {
    "SWARMDESK_STORE_STATEMENT_TIMEOUT_SECONDS": "2",
    "SWARMDESK_STORE_ACQUIRE_TIMEOUT_SECONDS": "2",
    "SWARMDESK_COMMANDS_DEADLINE_SECONDS": "3",
    "SWARMDESK_PROJECTOR_STALL_SECONDS": "5",
}


@dataclass
class Run:
    """A run in progress; `figures` fill in as it goes."""

    cluster: Cluster
    server: Server
    probe: Probe
    load: Load
    follower: Resuming
    figures: Figures
    cases: list[str] = field(default_factory=list)

    async def start_server(self) -> None:
        await asyncio.to_thread(self.server.start)

    def kill_server(self) -> None:
        assert self.server.process is not None
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait(10)
        self.server.process = None

    async def catch_up(self, cleared: float) -> None:
        """Record how long after `cleared` (the fault's end) the views reached the
        head of the log as it stood then; fails past CATCH_UP_LIMIT."""
        await self.probe.until(CATCH_UP_LIMIT)
        self.figures.catch_up = time.monotonic() - cleared

    async def finish(self) -> None:
        """Stop the load, then audit (see the module's docstring)."""
        await self.load.stop()
        figures = self.figures
        figures.acked = len(self.load.acked)
        figures.sent = len(self.load.commands)
        figures.answers = dict(self.load.answers)
        assert not self.load.unexpected, self.load.unexpected[:5]
        head, _ = await self.probe.until(CATCH_UP_LIMIT)
        log = await read_log(self.cluster, self.server.schema or "")
        figures.events = log.events
        assert head == log.events
        check_commands(log, self.load.commands)
        # the socket: every change of its case after its snapshot, in order, once
        expected = [p for p in log.positions_of(self.cases[0]) if p > (self.follower.first or 0)]
        await self.follower.reach(expected[-1] if expected else 0, 30)
        figures.resumes = self.follower.connects - 1
        if self.follower.ends:
            figures.notes.append(f"socket ended {dict(self.follower.ends)}")
        assert self.follower.follower.snapshots == 1, "a resume fell back to a snapshot"
        assert self.follower.follower.patches == expected
        figures.differences = await _verify(self.cluster, self.server.schema or "")
        assert figures.differences == 0, "the views differ from a replay of the log"
        await _leads(self.server)
        ends = sum(self.follower.ends.values())
        figures.sigterm = await _sigterm(self.server)  # the socket still open
        async with asyncio.timeout(10):
            while sum(self.follower.ends.values()) == ends:  # noqa: ASYNC110 - counted
                await asyncio.sleep(0.02)
        await self.follower.close()
        assert self.follower.ends["1012"] >= 1, self.follower.ends  # told: service restart


async def _verify(cluster: Cluster, schema: str) -> int:
    """`swarmdesk verify`'s body on the run's schema: stored views vs a replay."""
    settings = Settings(
        database_url=cluster.url, database_schema=schema, secret_key=SecretStr(SECRET)
    )
    out = io.StringIO()
    differences = await run_verify(settings, Console(file=out, width=200))
    if differences:
        print(out.getvalue())
    return differences


async def _leads(server: Server) -> None:
    """The server's projector leads and is not behind: /metrics says leading 1, lag 0."""
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
        while True:
            metrics = (await http.get("/metrics")).text
            lines = metrics.splitlines()
            values = dict(s.split()[:2] for s in lines if s.startswith("swarmdesk_projector_"))
            leading = values.get("swarmdesk_projector_leading")
            if leading == "1.0" and values.get("swarmdesk_projector_lag") in ("0", "0.0"):
                ready = await http.get("/readyz")
                assert ready.status_code == 200, ready.text
                return
            assert time.monotonic() < deadline, f"no projector leads: {values}"
            await asyncio.sleep(0.1)


async def _sigterm(server: Server) -> float:
    """SIGTERM (a socket open, the clients done): exits 0 within the grace; seconds."""
    process = server.process
    assert process is not None
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(process.wait, GRACE + 20)
    took = time.monotonic() - began
    server.process = None
    assert code == 0, server.log()[-3000:]
    assert took < GRACE, f"SIGTERM took {took:.1f} s"
    return took


@contextlib.asynccontextmanager
async def chaos_run(
    cluster: Cluster,
    workdir: Path,
    figures: Figures,
    starting: Starting | None = None,
    **extra: str,
) -> AsyncIterator[Run]:
    """A fresh schema and server, three cases, the load and the socket running.
    `starting(server, start)`, if given, starts the server itself (`await start()`)
    and may act on the database before and while it does."""
    schema = fresh_schema()
    await upgrade_async(cluster.url, schema=schema)
    env = server_env(cluster.url, schema, workdir, **(TIMEOUTS | extra))
    server = Server("postgres", cluster.url, schema, free_port(), env)
    server.log_path = workdir / "server.log"
    probe = Probe(cluster, schema)
    run: Run | None = None
    try:

        async def start() -> None:
            await asyncio.to_thread(server.start)

        await (start() if starting is None else starting(server, start))
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            cases = [await _open_case(http, server) for _ in range(3)]
        load = Load(server, cases, figures.fault)
        follower = Resuming(server, cases[0])
        run = Run(cluster, server, probe, load, follower, figures, cases)
        follower.start()
        load.start()
        async with asyncio.timeout(RUN_LIMIT):
            yield run
    finally:
        if run is not None:
            run.load.stopping.set()
            with contextlib.suppress(BaseException):
                await run.follower.close()
        if server.process is not None:
            await asyncio.to_thread(server.stop, True)
        await probe.close()
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            conn = await asyncpg.connect(cluster.dsn, timeout=5)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await conn.close()


async def _open_case(http: httpx.AsyncClient, server: Server) -> str:
    answer = await http.post(
        "/api/cases", json={"customer": "ACME", "subject": "Chaos"}, headers=server.headers(OWNER)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["case_id"])

"""Chaos on PostgreSQL (a private cluster this suite starts): each fault strikes a real
server under load (six clients writing insights, a socket following one case), then the
run is audited (`tests.chaos.run.Run.finish`). Catch-up times go to the session report;
the only time asserted is the liveness limit (60 s) and SIGTERM's grace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.audit import Probe
from tests.chaos.cluster import Cluster
from tests.chaos.report import RUNS, Figures
from tests.chaos.run import Run, chaos_run
from tests.e2e.push_support import DirectCase
from tests.e2e.server import Server

pytestmark = pytest.mark.chaos

WARM = 1.5  # load before the fault
AFTER = 1.0  # load after it


def _figures(name: str) -> Figures:
    figures = Figures(name)
    RUNS.append(figures)
    return figures


async def _strike(
    cluster: Cluster, workdir: Path, name: str, fault: Callable[[Run], Awaitable[float]]
) -> None:
    """A run: load, `fault` (returns when it ended: catch-up counts from there), more
    load, the audit."""
    async with chaos_run(cluster, workdir, _figures(name)) as run:
        await asyncio.sleep(WARM)
        cleared = await fault(run)
        await run.catch_up(cleared)
        await asyncio.sleep(AFTER)
        await run.finish()


async def test_database_restart_under_load(cluster: Cluster, tmp_path: Path) -> None:
    async def restart(run: Run) -> float:
        await asyncio.to_thread(cluster.restart)
        return time.monotonic()

    await _strike(cluster, tmp_path, "database restart", restart)


async def test_database_immediate_stop_under_load(cluster: Cluster, tmp_path: Path) -> None:
    async def crash(run: Run) -> float:
        await asyncio.to_thread(cluster.stop_immediately)
        await asyncio.sleep(1.5)  # down for a while: commands answer 503 meanwhile
        await asyncio.to_thread(cluster.start)
        return time.monotonic()

    await _strike(cluster, tmp_path, "database stop -m immediate", crash)


async def test_connections_killed_under_load(cluster: Cluster, tmp_path: Path) -> None:
    async def terminate(run: Run) -> float:
        for round_ in range(2):
            if round_:
                await asyncio.sleep(1.0)
            ended = await cluster.terminate(await cluster.backends("swarmdesk"))
            assert ended >= 3  # the appender, the listener, the projector's at least
        return time.monotonic()

    await _strike(cluster, tmp_path, "connections terminated x2", terminate)


async def test_appender_connection_frozen_under_load(cluster: Cluster, tmp_path: Path) -> None:
    async def freeze(run: Run) -> float:
        pids = await cluster.backends("swarmdesk-appender")
        assert len(pids) == 1, pids
        cluster.freeze(pids[0])
        try:
            await asyncio.sleep(4.0)  # longer than the statement timeout and the deadline
        finally:
            cluster.thaw(pids[0])
        return time.monotonic()

    await _strike(cluster, tmp_path, "appender frozen 4 s", freeze)


async def test_server_sigkill_under_load(cluster: Cluster, tmp_path: Path) -> None:
    async def kill(run: Run) -> float:
        killed = time.monotonic()  # catch-up counts the new process's start-up
        run.kill_server()
        await run.start_server()  # the same port: clients and the socket come back
        run.figures.notes.append(f"new process ready {time.monotonic() - killed:.1f} s after")
        return killed

    await _strike(cluster, tmp_path, "server SIGKILL", kill)


async def test_projector_connections_killed_with_a_backlog(
    cluster: Cluster, tmp_path: Path
) -> None:
    """6,000 events are in the log before the server starts (more than the projector's
    queue holds); while its projector works through them, the projector's connections
    (its writer and its leadership's) are terminated twice. The issue's reproduction of
    the freeze, with the audit after it."""
    figures = _figures("projector killed, backlog")
    cleared = 0.0

    async def starting(server: Server, start: Callable[[], Coroutine[Any, Any, None]]) -> None:
        nonlocal cleared
        for _ in range(6):
            writer = DirectCase(server, "chaos-backlog")
            writer.add_context(1_000, "backlog")
            backlog = await writer.flush()
        started = asyncio.create_task(start())
        killed: set[int] = set()
        probe = Probe(cluster, server.schema or "")
        for _ in range(2):
            pids: set[int] = set()
            while not pids:  # its writer, once it follows (a new one after a kill)
                pids = set(await cluster.backends("swarmdesk-projector")) - killed
                await asyncio.sleep(0.02)
            began = await probe.tracked()
            while await probe.tracked() == began:  # noqa: ASYNC110 - a batch in: mid-way
                await asyncio.sleep(0.01)
            pids |= set(await cluster.leader_backends(server.schema or ""))
            assert await cluster.terminate(sorted(pids)) >= 2
            killed |= pids
            figures.notes.append(f"killed at {await probe.tracked()}/{backlog}")
        cleared = time.monotonic()
        await probe.close()
        await started

    async with chaos_run(cluster, tmp_path, figures, starting) as run:
        await run.catch_up(cleared)
        await asyncio.sleep(WARM + AFTER)
        await run.finish()

"""Two `swarmdesk` processes on one PostgreSQL: a command sent to one reaches the
WebSocket clients of the other (which runs no projector: it learns through the table
`view_changes`, woken by LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from domain.actors import Role
from tests.e2e.push_support import Follower, add_context, open_case, stored_view, ws_connect
from tests.e2e.server import Server, running_server


@pytest.mark.postgres
async def test_command_on_one_process_reaches_clients_of_the_other(
    pair: tuple[Server, Server],
) -> None:
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    first, second = pair
    async with httpx.AsyncClient(base_url=first.base_url, timeout=10) as http:
        case_id, opened = await open_case(http, first, owner)
        follower = Follower()
        async with ws_connect(second, f"/ws/cases/{case_id}", owner) as ws:
            await follower.read_until(ws, opened)
            positions, lags = [], []
            for i in range(30):
                positions.append(await add_context(http, first, owner, case_id, f"n{i}"))
                acked = time.perf_counter()
                await follower.read_until(ws, positions[-1], seconds=5)
                lags.append(time.perf_counter() - acked)
    assert follower.patches == positions
    stored = await stored_view(second, "case", case_id)
    assert stored is not None
    assert follower.doc == stored[1]
    lags.sort()
    # generous bounds for a loaded test machine; bench/push.py measures the real figure
    assert lags[len(lags) // 2] < 0.05, lags
    assert lags[-1] < 1.0, lags


def wait_until_projecting(api: Server) -> None:
    """Until the `swarmdesk project` process projects (its start-up, imports included,
    takes about 2 s here: longer than a socket waits for a case it cannot see yet)."""
    headers = api.headers("warm-up")
    opened = httpx.post(f"{api.base_url}/api/cases", json={"customer": "W", "subject": "W"},
                        headers=headers, timeout=10).json()  # fmt: skip
    url = f"{api.base_url}/api/cases/{opened['case_id']}?min_position={opened['position']}"
    deadline = time.monotonic() + 30
    while httpx.get(url, headers=headers, timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "swarmdesk project did not project in 30 s"


@pytest.fixture
def api_and_projector(tmp_path: Path) -> Iterator[tuple[Server, subprocess.Popen[bytes]]]:
    """An API process without a projector, and `swarmdesk project` on its schema."""
    with running_server("postgres", tmp_path, SWARMDESK_PROJECTOR="false") as api:
        log_path = tmp_path / "project.log"
        with log_path.open("wb") as log:
            projector = subprocess.Popen(
                [str(Path(sys.executable).parent / "swarmdesk"), "project"],
                env=api.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_projecting(api)
            yield api, projector
        finally:
            if projector.poll() is None:
                projector.kill()
                projector.wait()


@pytest.mark.postgres
async def test_the_projector_process_runs_the_sla_engine_and_the_kpis(
    api_and_projector: tuple[Server, subprocess.Popen[bytes]],
) -> None:
    """Where the API process runs no projector, `swarmdesk project` runs what follows the
    log beside it: the SLA engine starts a new case's clocks (the timers' leader is the
    projector process: the API process cannot run the SLA engine, so it does not compete)
    and the KPI projection counts the case."""
    api, _ = api_and_projector
    admin = api.headers(f"admin-{uuid.uuid4().hex[:8]}", Role.ADMIN)
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    policy = {"name": "Split", "targets": [{"target": "resolution", "minutes": 600}]}
    async with httpx.AsyncClient(base_url=api.base_url, timeout=10) as http:
        r = await http.post("/api/sla/policies", json=policy, headers=admin)
        assert r.status_code == 201, r.text
        case_id, _ = await open_case(http, api, owner)
        view: dict[str, object] = {}
        for _ in range(400):
            r = await http.get(f"/api/cases/{case_id}", headers=api.headers(owner))
            view = r.json() if r.status_code == 200 else {}
            if "resolution" in view.get("sla", {}):  # type: ignore[operator]
                break
            await asyncio.sleep(0.05)
        assert view["sla"]["resolution"]["status"] == "running", view  # type: ignore[index]
        today = datetime.now(UTC).date().isoformat()
        opened = 0
        for _ in range(400):
            r = await http.get(
                "/api/kpis",
                params={"from": today, "to": today, "by": "day"},
                headers=admin,
            )
            assert r.status_code == 200, r.text
            opened = sum(s.get("intake", {}).get("opened", 0) for s in r.json()["series"])
            if opened == 2:
                break
            await asyncio.sleep(0.05)
        assert opened == 2  # the fixture's warm-up case and this one


@pytest.mark.postgres
async def test_the_projector_in_its_own_process(
    api_and_projector: tuple[Server, subprocess.Popen[bytes]],
) -> None:
    """`swarmdesk project` keeps the views of an API process that runs none; the API's
    clients get every patch through LISTEN and `view_changes`; SIGTERM stops it."""
    api, projector = api_and_projector
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=api.base_url, timeout=10) as http:
        case_id, opened = await open_case(http, api, owner)
        for _ in range(20):  # the projector process may still be starting: read our write
            seen = await http.get(
                f"/api/cases/{case_id}",
                params={"min_position": opened},
                headers=api.headers(owner),
            )
            if seen.status_code == 200:
                break
        assert seen.status_code == 200, seen.text
        follower = Follower()
        async with ws_connect(api, f"/ws/cases/{case_id}", owner) as ws:
            await follower.read_until(ws, opened, seconds=20)
            positions = [await add_context(http, api, owner, case_id, f"n{i}") for i in range(5)]
            await follower.read_until(ws, positions[-1], seconds=10)
        metrics = (await http.get("/metrics")).text
    assert follower.patches[-5:] == positions
    assert "swarmdesk_projector_leading" not in metrics  # none in the API process
    projector.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(projector.wait, 20) == 0

"""`swarmdesk serve --workers 2`: whichever worker answers `/metrics`, its histograms
count the commands every worker ran (prometheus_client's multiprocess mode)."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.store.migrate import upgrade
from tests.e2e.server import Server, free_port, server_env

COMMANDS = 12


def _scrape(base_url: str) -> tuple[float, set[str]]:
    """(commands counted by the latency histogram, workers named by the collector)."""
    with httpx.Client(base_url=base_url) as client:  # a new connection: any worker
        text = client.get("/metrics").text
    count, workers = 0.0, set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "swarmdesk_command_duration_seconds_count":
                count += sample.value
            if "worker" in sample.labels:
                workers.add(sample.labels["worker"])
    return count, workers


def test_any_worker_answers_every_workers_histograms(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'swarmdesk.db'}"
    upgrade(url)
    env = server_env(url, None, tmp_path, SWARMDESK_PROJECTOR="false")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = Server("sqlite", url, None, free_port(), env, args=["--workers", "2"])
    server.log_path = tmp_path / "server.log"
    server.start()
    try:
        for i in range(COMMANDS):
            with httpx.Client(base_url=server.base_url) as client:
                opened = client.post(
                    "/api/cases",
                    json={"customer": "Acme", "subject": f"w{i}"},
                    headers=server.headers("metrics-workers"),
                )
                assert opened.status_code == 201, opened.text
        seen: set[str] = set()
        for _ in range(60):
            count, workers = _scrape(server.base_url)
            assert count == COMMANDS
            seen |= workers
            if len(seen) == 2:
                break
        assert len(seen) == 2, "both workers answered a scrape"
    finally:
        server.stop()

"""What an operator sees of a real server: JSON log lines carrying the id of the request
that caused them (and never a credential), problem+json for an unhandled error, and
`/metrics` (parsed by `prometheus_client`) whose projector lag moves while the projector
is paused."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from app.asgi import build_asgi
from app.auth.tokens import TokenIssuer
from app.edge import Edge
from app.http.deps import services_of
from app.settings import ProjectorSettings, Settings
from app.store.migrate import upgrade_async
from app.telemetry import logs
from domain.actors import Role
from tests.e2e.server import uvicorn_in_process

SECRET = "observability-secret-key-long-enough-0"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every record, as the service writes them (JSON), into a buffer."""
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("info", "json", buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Edge, str, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    await upgrade_async(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key=SecretStr(SECRET),
        projector=ProjectorSettings(enabled=True),
    )
    edge = build_asgi(settings)
    token = TokenIssuer(SECRET).issue("ana", Role.AGENT)
    options: dict[str, Any] = {"lifespan": "on", "log_config": None, "log_level": "info"}
    async with uvicorn_in_process(edge, **options) as (_, port):
        yield edge, f"127.0.0.1:{port}", token


def _api(edge: Edge) -> FastAPI:
    inner: Any = edge.app  # Edge -> its layers -> PushFirst (whose `api` is the app)
    while not hasattr(inner, "api"):
        inner = inner.app
    api: FastAPI = inner.api
    return api


def _records(buffer: io.StringIO) -> list[dict[str, Any]]:
    for handler in logging.getLogger().handlers:
        handler.flush()  # the access lines gathered in the last ACCESS_DELAY
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


async def test_log_lines_are_json_with_the_request_context_and_no_credential(
    served: tuple[Edge, str, str], log_lines: io.StringIO
) -> None:
    _, address, token = served
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://{address}", headers=auth) as client:
        opened = await client.post(
            "/api/cases",
            json={"customer": "Acme", "subject": "Logs"},
            headers={"X-Request-ID": "req-open-1"},
        )
        case_id = opened.json()["case_id"]
        trace = uuid.uuid4().hex
        added = await client.post(
            f"/api/cases/{case_id}/context",
            json={"kind": "symptom", "text": "it fails"},
            headers={"traceparent": f"00-{trace}-{'1' * 16}-01"},
        )
        listed = await client.get("/api/cases", params={"owner": "me"})
    assert (opened.status_code, added.status_code, listed.status_code) == (201, 200, 200)
    assert added.headers["x-request-id"] == trace  # the trace id names the request
    async with websockets.connect(f"ws://{address}/ws/cases/{case_id}?access_token={token}"):
        pass

    records = _records(log_lines)
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
        assert token not in json.dumps(record)
        assert token.split(".")[-1] not in json.dumps(record)  # not even the signature
    access = {r["request_id"]: r for r in records if r["logger"] == "swarmdesk.access"}
    assert access["req-open-1"]["status"] == 201
    assert access["req-open-1"]["method"] == "POST"
    assert access["req-open-1"]["path"] == "/api/cases"
    assert access["req-open-1"]["principal_id"] == "ana"
    assert access[trace]["case_id"] == case_id
    assert access[trace]["principal_id"] == "ana"
    assert listed.headers["x-request-id"] in access  # a made id, logged as answered
    assert not [r for r in records if r["logger"] == "uvicorn.access"]  # the edge's only
    accepted = [r for r in records if "[accepted]" in r["message"]]
    assert accepted, "uvicorn's socket line (with its query string) is logged"
    assert "access_token=[redacted]" in accepted[0]["message"]


async def test_an_unhandled_error_is_problem_json_500_logged_with_its_request_id(
    served: tuple[Edge, str, str], log_lines: io.StringIO
) -> None:
    edge, address, _ = served

    async def boom() -> None:
        raise RuntimeError("a bug")

    _api(edge).add_api_route("/boom", boom)
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        answer = await client.get("/boom", headers={"X-Request-ID": "req-boom"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:swarmdesk:problem:internal"
    assert "req-boom" in answer.json()["detail"]
    assert "a bug" not in answer.text
    errors = [r for r in _records(log_lines) if r["logger"] == "swarmdesk.errors"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "req-boom"
    assert "RuntimeError: a bug" in errors[0]["exception"]


async def test_the_edge_answers_an_error_raised_outside_fastapi(log_lines: io.StringIO) -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("outside any framework")

    transport = httpx.ASGITransport(app=Edge(broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        answer = await client.get("/x", headers={"X-Request-ID": "req-raw"})
    assert answer.status_code == 500
    assert answer.json()["status"] == 500
    assert answer.headers["x-request-id"] == "req-raw"
    errors = [r for r in _records(log_lines) if r["logger"] == "swarmdesk.errors"]
    assert [e["request_id"] for e in errors] == ["req-raw"]


def _gauge(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"no {name}")


async def test_the_projector_lag_moves_while_the_projector_is_paused(
    served: tuple[Edge, str, str],
) -> None:
    edge, address, token = served
    services = services_of(_api(edge))
    projector = services.views.projector
    assert projector is not None
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://{address}", headers=auth) as client:
        first = await client.post("/api/cases", json={"customer": "A", "subject": "lag"})
        assert await projector.wait_for(first.json()["position"], 10)
        assert _gauge((await client.get("/metrics")).text, "swarmdesk_projector_lag") == 0
        await projector.close()  # paused
        for i in range(3):
            opened = await client.post("/api/cases", json={"customer": "A", "subject": f"{i}"})
            assert opened.status_code == 201
        head = opened.json()["position"]
        paused = (await client.get("/metrics")).text
        assert _gauge(paused, "swarmdesk_projector_lag") == head - first.json()["position"]
        projector.start()  # resumed: it catches up
        assert await projector.wait_for(head, 10)
        assert _gauge((await client.get("/metrics")).text, "swarmdesk_projector_lag") == 0


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of sample `name` with at least `labels` (0 when there is none)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                return float(sample.value)
    return 0.0


@pytest.mark.parametrize("observed", [True, False])
async def test_the_histograms_observe_unless_metrics_are_off(
    tmp_path: Path, observed: bool
) -> None:
    """`SWARMDESK_METRICS=false` (the all-off baseline of the telemetry bench): the
    command and append histograms stay empty; `/metrics` answers all the same."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    await upgrade_async(url)
    settings = Settings(
        database_url=url, data_dir=tmp_path, secret_key=SecretStr(SECRET), metrics=observed
    )
    auth = {"Authorization": f"Bearer {TokenIssuer(SECRET).issue('ana', Role.AGENT)}"}
    async with (
        uvicorn_in_process(build_asgi(settings), lifespan="on") as (_, port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=auth) as client,
    ):
        for i in range(2):
            opened = await client.post("/api/cases", json={"customer": "A", "subject": f"{i}"})
            assert opened.status_code == 201
        text = (await client.get("/metrics")).text
    commands = _sample(
        text, "swarmdesk_command_duration_seconds_count", command="open_case", outcome="ok"
    )
    appends = _sample(text, "swarmdesk_append_batch_size_count")
    assert (commands, appends > 0) == ((2.0, True) if observed else (0.0, False))
    families = {family.name for family in text_string_to_metric_families(text)}
    assert {"swarmdesk_command_duration_seconds", "process_cpu_seconds"} <= families

"""The edge wraps every path: a layer added there (CORS here) applies alike to a command
the fast dispatcher serves, a 422 the FastAPI app answers and a WebSocket upgrade; every
response carries the request id (the caller's `X-Request-ID`, else a new one)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from pydantic import SecretStr
from starlette.middleware import Middleware

from app.asgi import build_asgi
from app.auth.tokens import TokenIssuer
from app.edge import CORS, Edge
from app.settings import ProjectorSettings, Settings
from app.store.migrate import upgrade_async
from domain.actors import Role
from tests.e2e.server import uvicorn_in_process

SECRET = "edge-secret-key-that-is-long-enough-000"
ORIGIN = "https://console.example"


async def _serve(
    tmp_path: Path, layers: Sequence[Middleware]
) -> AsyncIterator[tuple[Edge, str, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    await upgrade_async(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key=SecretStr(SECRET),
        projector=ProjectorSettings(enabled=True),
    )
    edge = build_asgi(settings, layers=layers)
    token = TokenIssuer(SECRET).issue("owner", Role.AGENT)
    async with uvicorn_in_process(edge, lifespan="on") as (_, port):
        yield edge, f"127.0.0.1:{port}", token


@pytest.fixture
async def with_cors(tmp_path: Path) -> AsyncIterator[tuple[Edge, str, str]]:
    # starlette's factory protocol does not accept a typed `__init__` (mypy): as its docs do
    layer = Middleware(
        CORS,  # type: ignore[arg-type]
        allow_origins=[ORIGIN],
        allow_methods=["*"],
        allow_headers=["*"],
    )
    async for served in _serve(tmp_path, [layer]):
        yield served


@pytest.fixture
async def without_layers(tmp_path: Path) -> AsyncIterator[tuple[Edge, str, str]]:
    async for served in _serve(tmp_path, []):
        yield served


def _dispatcher_counts(edge: Edge) -> tuple[int, int]:
    inner: Any = edge.app  # Edge -> CORS -> PushFirst -> its FastAPI app
    api = inner.app.api
    return api.state.dispatcher.served, api.state.dispatcher.passed_on


async def _open_case(address: str, token: str, origin: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"}
    if origin:
        headers["Origin"] = origin
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        return await client.post(
            "/api/cases", headers=headers, json={"customer": "Acme", "subject": "Checkout"}
        )


async def test_cors_reaches_the_dispatcher_fastapi_and_sockets(
    with_cors: tuple[Edge, str, str],
) -> None:
    edge, address, token = with_cors
    auth = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    served_before, passed_before = 0, 0
    opened = await _open_case(address, token, ORIGIN)
    assert opened.status_code == 201
    assert opened.headers["access-control-allow-origin"] == ORIGIN
    assert opened.headers["x-request-id"] == "req-42"
    served, passed = _dispatcher_counts(edge)
    assert (served, passed) == (served_before + 1, passed_before)  # the fast path served it

    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        invalid = await client.post("/api/cases", headers=auth, json={"customer": ""})
        preflight = await client.options(
            "/api/cases",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert invalid.headers["access-control-allow-origin"] == ORIGIN
    assert len(invalid.headers["x-request-id"]) == 32  # made by the edge
    assert _dispatcher_counts(edge) == (served, passed + 1)  # FastAPI answered it
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN

    case_id = opened.json()["case_id"]
    async with websockets.connect(
        f"ws://{address}/ws/cases/{case_id}",
        additional_headers={"Authorization": f"Bearer {token}", "X-Request-ID": "ws-7"},
        origin=websockets.Origin(ORIGIN),
    ) as socket:
        assert socket.response is not None
        assert socket.response.headers["access-control-allow-origin"] == ORIGIN
        assert socket.response.headers["x-request-id"] == "ws-7"
        first = await socket.recv()
        assert '"type":"snapshot"' in str(first).replace(" ", "")

    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        other = await client.post(
            "/api/cases",
            headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
            json={"customer": "Acme", "subject": "Checkout"},
        )
    assert other.status_code == 201
    assert "access-control-allow-origin" not in other.headers


async def test_without_the_layer_no_cors_header_but_still_a_request_id(
    without_layers: tuple[Edge, str, str],
) -> None:
    _, address, token = without_layers
    opened = await _open_case(address, token, ORIGIN)
    assert opened.status_code == 201
    assert "access-control-allow-origin" not in opened.headers
    assert opened.headers["x-request-id"] == "req-42"
    case_id = opened.json()["case_id"]
    async with websockets.connect(
        f"ws://{address}/ws/cases/{case_id}",
        additional_headers={"Authorization": f"Bearer {token}"},
    ) as socket:
        assert socket.response is not None
        assert "access-control-allow-origin" not in socket.response.headers
        assert uuid.UUID(socket.response.headers["x-request-id"])


async def test_a_malformed_request_id_is_replaced(
    without_layers: tuple[Edge, str, str],
) -> None:
    _, address, _ = without_layers
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        for bad in ("bad id", "x" * 200, "a/b"):
            answer = await client.get("/healthz", headers={"X-Request-ID": bad})
            assert answer.headers["x-request-id"] != bad
            assert uuid.UUID(answer.headers["x-request-id"])

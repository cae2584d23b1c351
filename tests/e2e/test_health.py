"""A real server answers liveness and readiness on both backends."""

from __future__ import annotations

import httpx

from tests.e2e.server import Server


def test_healthz_and_readyz(server: Server) -> None:
    assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.base_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_unknown_route_is_problem_json(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:swarmdesk:problem:not-found"

"""Helpers for the command API's end-to-end tests: a client per test, unique subjects,
the log's position (to prove a refused command appended nothing) and the events of a
stream read back from the store itself (not through the API under test)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from app.store import create_store
from app.store.codec import event_name
from domain.actors import Role
from domain.agent import agent_id_for
from tests.e2e.server import Server

PROBLEM_JSON = "application/problem+json"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Api:
    """A keep-alive HTTP client on one server, with token helpers."""

    server: Server
    http: httpx.Client

    def auth(self, subject: str, role: Role | str = Role.AGENT) -> dict[str, str]:
        return self.server.headers(subject, role)

    def position(self) -> int:
        """The log's last position, as `/readyz` reports it."""
        response = self.http.get("/readyz")
        assert response.status_code == 200, response.text
        return int(response.json()["position"])

    def call(
        self,
        method: str,
        path: str,
        subject: str | None,
        role: Role | str = Role.AGENT,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if subject is not None:
            all_headers.update(self.auth(subject, role))
        return self.http.request(method, path, json=json, headers=all_headers)

    def ok(self, method: str, path: str, subject: str, json: Any = None, **kw: Any) -> Any:
        response = self.call(method, path, subject, json=json, **kw)
        assert response.status_code in (200, 201), (method, path, response.text)
        return response.json()

    def open_case(self, owner: str, **fields: Any) -> UUID:
        body = {"customer": "Acme", "subject": "Checkout fails"} | fields
        return UUID(self.ok("POST", "/api/cases", owner, body)["case_id"])

    def invite(self, case_id: UUID, owner: str, expert: str) -> Any:
        body = {"expert_id": str(agent_id_for(expert)), "reason": "you know this"}
        return self.ok("POST", f"/api/cases/{case_id}/invitations", owner, body)


@contextmanager
def api_for(server: Server) -> Iterator[Api]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        yield Api(server, http)


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> Any:
    """The response is an RFC 9457 problem with `status` (and type `slug`)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if slug is not None:
        assert body["type"] == f"urn:swarmdesk:problem:{slug}", body
    return body


def stream_events(server: Server, stream_id: UUID) -> list[str]:
    """Names of the events of one stream, read from the store directly."""

    async def read() -> list[str]:
        async with create_store(server.database_url, schema=server.schema) as store:
            rows = await store.read_stream(stream_id)
        return [event_name(row.topic) for row in rows]

    return asyncio.run(read())

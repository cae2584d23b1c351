"""Helpers for the push tests: a client that follows a view and checks the protocol."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonpatch
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from websockets.asyncio.client import ClientConnection

from app.store import AppendRequest, create_store
from app.store.codec import create_mapper
from domain.actors import Actor, Role
from domain.agent import agent_id_for
from domain.case import Case
from projections.changes import load_view
from tests.e2e.server import Server


@dataclass
class Follower:
    """Applies a snapshot then patches exactly as a careful client would.

    Raises AssertionError on a protocol breach: a patch before the snapshot, a patch
    whose ``prev`` is not the position applied last (a gap), or a position that does
    not grow (a duplicate or reordering).
    """

    doc: Any = None
    position: int | None = None
    snapshots: int = 0
    patches: list[int] = field(default_factory=list)
    heartbeats: int = 0

    def apply(self, text: str | bytes) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(text)
        kind = message["type"]
        if kind == "snapshot":
            self.doc = message["view"]
            self.position = message["position"]
            self.snapshots += 1
        elif kind == "patch":
            assert self.position is not None, "patch before any snapshot"
            assert message["prev"] == self.position, (
                f"gap: patch {message['position']} applies to {message['prev']}, "
                f"client is at {self.position}"
            )
            assert message["position"] > self.position, "position did not grow"
            self.doc = jsonpatch.apply_patch(self.doc, message["ops"])
            self.position = message["position"]
            self.patches.append(message["position"])
        elif kind == "heartbeat":
            self.heartbeats += 1
        else:
            raise AssertionError(f"unknown message {message!r}")
        return message

    async def read_until(self, ws: ClientConnection, position: int, seconds: float = 10) -> None:
        """Read until the client has applied `position` (or fail after `seconds`)."""
        async with asyncio.timeout(seconds):
            while self.position is None or self.position < position:
                self.apply(await ws.recv())


def ws_connect(server: Server, path: str, subject: str, **kwargs: Any) -> websockets.connect:
    return websockets.connect(
        f"{server.ws_url}{path}",
        additional_headers=server.headers(subject),
        compression=None,
        **kwargs,
    )


async def open_case(http: httpx.AsyncClient, server: Server, owner: str) -> tuple[str, int]:
    r = await http.post(
        "/api/cases", json={"customer": "ACME", "subject": "Outage"}, headers=server.headers(owner)
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return str(body["case_id"]), int(body["position"])


async def add_context(
    http: httpx.AsyncClient, server: Server, owner: str, case_id: str, text: str = "it fails"
) -> int:
    r = await http.post(
        f"/api/cases/{case_id}/context",
        json={"kind": "symptom", "text": text},
        headers=server.headers(owner),
    )
    assert r.status_code == 200, r.text
    return int(r.json()["position"])


def views_engine(server: Server) -> AsyncEngine:
    if server.schema:
        return create_async_engine(
            server.database_url,
            connect_args={"server_settings": {"search_path": server.schema}},
            poolclass=sa.pool.NullPool,
        )
    return create_async_engine(server.database_url, poolclass=sa.pool.NullPool)


async def stored_view(server: Server, view: str, key: str) -> tuple[int, Any] | None:
    """The view document as the server stored it (read straight from its database)."""
    engine = views_engine(server)
    try:
        return await load_view(engine, view, key)
    finally:
        await engine.dispose()


async def wait_stored(server: Server, view: str, key: str, position: int) -> None:
    """Wait (at most 10 s) until the server's stored view has reached `position`."""
    async with asyncio.timeout(10):
        while True:
            found = await stored_view(server, view, key)
            if found is not None and found[0] >= position:
                return
            await asyncio.sleep(0.05)


class DirectCase:
    """A case written straight into a server's event store (bulk events in one append),
    as a foreign writer would; the server sees them through its own subscription."""

    def __init__(self, server: Server, owner: str) -> None:
        self.server = server
        self.actor = Actor(agent_id_for(owner), Role.AGENT, owner)
        self.case = Case.open(self.actor, customer="ACME", subject="Outage")
        self.mapper = create_mapper()

    @property
    def case_id(self) -> str:
        return str(self.case.id)

    async def flush(self) -> int:
        """Append every pending event in one request; returns the last position."""
        events = [self.mapper.to_stored_event(e) for e in self.case.collect_events()]
        async with create_store(self.server.database_url, schema=self.server.schema) as store:
            result = await store.append(AppendRequest(events))
        return result.position

    def add_context(self, count: int, text: str) -> None:
        for _ in range(count):
            self.case.add_context(self.actor, context_id=uuid.uuid4(), kind="symptom", text=text)

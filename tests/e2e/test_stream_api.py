"""The event stream against a real server (SQLite and PostgreSQL): access, the HTTP feed
with filters and long-poll, the WebSocket and SSE tails, and every received message
validated against the served AsyncAPI document."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any
from uuid import UUID

import httpx
import jsonschema
import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from app.realtime.stream.catalog import resolve_type_filter
from app.store import create_store
from tests.e2e.server import Server
from tests.stream_scenario import append_stories, append_to_database

CASE_EVENTS = 24  # events of one full case story


def svc(server: Server) -> dict[str, str]:
    return server.headers("stream-svc", "service")


def validators(server: Server) -> dict[str, jsonschema.Draft7Validator]:
    """A validator per message of the served AsyncAPI document (public: no token), its
    `$ref`s resolved within the whole document."""
    doc = httpx.get(f"{server.base_url}/asyncapi.json").json()
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == {
        "eventsWebSocket",
        "eventsServerSentEvents",
        "caseView",
        "inbox",
        "myCases",
        "allCases",
        "swarmBoard",
    }
    return {
        name: jsonschema.Draft7Validator(
            {"allOf": [message["payload"]], "components": doc["components"]}
        )
        for name, message in doc["components"]["messages"].items()
    }


def check_message(checks: dict[str, jsonschema.Draft7Validator], message: dict[str, Any]) -> None:
    if message.get("kind") == "progress":
        name = "Progress"
    else:
        info = resolve_type_filter(message["type"])
        assert info is not None, message["type"]
        name = info.name
    checks[name].validate(message)


def new_cases(server: Server, count: int) -> list[UUID]:
    async def run() -> list[UUID]:
        async with create_store(server.database_url, schema=server.schema) as store:
            return await append_stories(store, count)

    return asyncio.run(run())


def head(server: Server) -> int:
    response = httpx.get(f"{server.base_url}/api/events?limit=1&after=0", headers=svc(server))
    return int(response.headers["Swarmdesk-Head-Position"])


@pytest.mark.parametrize("path", ["/api/events", "/api/events/stream"])
def test_http_endpoints_need_a_service_or_admin_token(server: Server, path: str) -> None:
    url = f"{server.base_url}{path}"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    forged = httpx.get(url, headers={"Authorization": "Bearer nonsense"})
    assert forged.status_code == 401
    for role in ("agent", "supervisor"):
        refused = httpx.get(url, headers=server.headers("someone", role))
        assert refused.status_code == 403, role
        assert refused.json()["type"] == "urn:swarmdesk:problem:forbidden"
    if path != "/api/events/stream":
        for role in ("service", "admin"):
            assert httpx.get(url, headers=server.headers("robot", role)).status_code == 200


async def close_code(server: Server, query: str, headers: dict[str, str]) -> tuple[int, str]:
    url = f"{server.ws_url}/ws/events{query}"
    async with websockets.connect(url, additional_headers=headers) as socket:
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(socket.recv(), 10)
    assert info.value.rcvd is not None
    return info.value.rcvd.code, info.value.rcvd.reason


async def test_websocket_refusals_close_before_sending_anything(server: Server) -> None:
    assert (await close_code(server, "", {}))[0] == 4401
    token = server.token("svc", "service")  # valid, but a token in a URL is not accepted
    assert (await close_code(server, f"?access_token={token}", {}))[0] == 4401
    assert (await close_code(server, "", server.headers("ann", "agent")))[0] == 4403
    assert (await close_code(server, "", server.headers("sue", "supervisor")))[0] == 4403
    code, reason = await close_code(server, "?after=-1", svc(server))
    assert (code, "after") == (4422, reason[:5])
    assert (await close_code(server, "?type=Nope", svc(server)))[0] == 4422
    assert (await close_code(server, "?case=123", svc(server)))[0] == 4422


def test_bad_feed_parameters_are_problems(server: Server) -> None:
    for query in ("after=-1", "limit=0", "limit=5000", "wait=31", "type=Nope", "case=x"):
        response = httpx.get(f"{server.base_url}/api/events?{query}", headers=svc(server))
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"
    response = httpx.get(
        f"{server.base_url}/api/events/stream", headers={**svc(server), "Last-Event-ID": "x"}
    )
    assert response.status_code == 422


def test_feed_pages_through_the_whole_log_with_next_positions(server: Server) -> None:
    checks = validators(server)
    cases = new_cases(server, 3)
    seen: list[dict[str, Any]] = []
    after = 0
    while True:
        response = httpx.get(
            f"{server.base_url}/api/events?after={after}&limit=17", headers=svc(server)
        )
        assert response.headers["content-type"] == "application/cloudevents-batch+json"
        batch = response.json()
        if not batch:
            assert int(response.headers["Swarmdesk-Next-Position"]) == after
            break
        seen += batch
        after = int(response.headers["Swarmdesk-Next-Position"])
        assert after == int(batch[-1]["position"])
    assert [int(e["position"]) for e in seen] == list(range(1, len(seen) + 1))
    assert len({e["id"] for e in seen}) == len(seen)
    for event in seen:
        check_message(checks, event)
    mine = [e for e in seen if e["source"] == f"/swarmdesk/cases/{cases[0]}"]
    assert [e["caseversion"] for e in mine] == list(range(1, CASE_EVENTS + 1))


def test_feed_filters_advance_the_next_position(server: Server) -> None:
    cases = new_cases(server, 2)
    url = f"{server.base_url}/api/events"
    by_case = httpx.get(f"{url}?case={cases[1]}&limit=1000", headers=svc(server))
    events = by_case.json()
    assert {e["source"] for e in events} == {f"/swarmdesk/cases/{cases[1]}"}
    assert len(events) == CASE_EVENTS
    # fewer than `limit` matched: the next position is the head, past filtered-out events
    assert int(by_case.headers["Swarmdesk-Next-Position"]) >= int(events[-1]["position"])
    assert by_case.headers["Swarmdesk-Next-Position"] == by_case.headers["Swarmdesk-Head-Position"]
    typed = httpx.get(
        f"{url}?case={cases[0]}&type=io.swarmdesk.case.insight_posted.v1&type=Closed",
        headers=svc(server),
    ).json()
    assert [e["type"].split(".")[3] for e in typed] == [
        "insight_posted",
        "insight_posted",
        "closed",
    ]
    # a full page of matches: the next position is the last match, not the head
    page = httpx.get(f"{url}?case={cases[0]}&limit=2", headers=svc(server))
    assert int(page.headers["Swarmdesk-Next-Position"]) == int(page.json()[-1]["position"])


def test_long_poll_returns_when_an_event_arrives(server: Server) -> None:
    start = head(server)
    writer = threading.Timer(
        1.0, append_to_database, (server.database_url, server.schema, 1), {"full": False}
    )
    began = time.monotonic()
    writer.start()
    try:
        response = httpx.get(
            f"{server.base_url}/api/events?after={start}&wait=15",
            headers=svc(server),
            timeout=30,
        )
    finally:
        writer.join()
    elapsed = time.monotonic() - began
    assert response.status_code == 200
    assert response.json()
    assert int(response.json()[0]["position"]) == start + 1
    assert 0.9 < elapsed < 10
    empty_began = time.monotonic()
    quiet = httpx.get(
        f"{server.base_url}/api/events?after={head(server)}&wait=1&case={UUID(int=1)}",
        headers=svc(server),
        timeout=30,
    )
    assert quiet.json() == []
    assert time.monotonic() - empty_began >= 0.9


async def test_websocket_catch_up_then_live_without_gap_or_duplicate(server: Server) -> None:
    checks = await asyncio.to_thread(validators, server)
    await asyncio.to_thread(new_cases, server, 2)
    start = max(0, await asyncio.to_thread(head, server) - 30)
    url = f"{server.ws_url}/ws/events?after={start}"
    received: list[dict[str, Any]] = []
    async with websockets.connect(url, additional_headers=svc(server)) as socket:
        writer = asyncio.create_task(asyncio.to_thread(new_cases, server, 4))
        target: int | None = None
        async with asyncio.timeout(60):
            while target is None or not received or int(received[-1]["position"]) < target:
                if target is None and writer.done():
                    await writer
                    target = await asyncio.to_thread(head, server)
                    continue
                try:  # recv() is cancellation-safe: a timed-out wait loses nothing
                    received.append(orjson.loads(await asyncio.wait_for(socket.recv(), 0.5)))
                except TimeoutError:
                    continue
    assert [int(e["position"]) for e in received] == list(range(start + 1, target + 1))
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{server.base_url}/api/events?after={start}&limit=1000", headers=svc(server)
        )
    feed = response.json()
    assert [e["id"] for e in received] == [e["id"] for e in feed][: len(received)]
    for message in received:
        check_message(checks, message)


async def test_websocket_filters_and_progress_marks(server: Server) -> None:
    checks = await asyncio.to_thread(validators, server)
    start = await asyncio.to_thread(head, server)
    cases = await asyncio.to_thread(new_cases, server, 2)
    url = f"{server.ws_url}/ws/events?after={start}&type=Closed&type=ExpertJoined&case={cases[1]}"
    messages: list[dict[str, Any]] = []
    async with websockets.connect(url, additional_headers=svc(server)) as socket:
        while not messages or messages[-1].get("kind") != "progress":
            messages.append(orjson.loads(await asyncio.wait_for(socket.recv(), 20)))
    for message in messages:
        check_message(checks, message)
    events = [m for m in messages if "specversion" in m]
    assert [e["type"] for e in events] == [
        "io.swarmdesk.case.expert_joined.v1",
        "io.swarmdesk.case.closed.v1",
    ]
    assert {e["subject"] for e in events} == {str(cases[1])}
    assert {e["source"] for e in events} == {f"/swarmdesk/cases/{cases[1]}"}
    assert messages[-1]["position"] > int(events[-1]["position"])


def test_sse_honours_last_event_id_and_validates(server: Server) -> None:
    checks = validators(server)
    cases = new_cases(server, 1)
    start = head(server) - CASE_EVENTS - 2  # the new case's events (and the agent's)
    headers = {**svc(server), "Last-Event-ID": str(start)}
    received: list[tuple[int, dict[str, Any]]] = []
    url = f"{server.base_url}/api/events/stream?after=0&case={cases[0]}"
    with httpx.stream("GET", url, headers=headers, timeout=20) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event_id: int | None = None
        for line in response.iter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                assert event_id is not None
                received.append((event_id, orjson.loads(line[6:])))
            elif line == "" and event_id is not None and len(received) == CASE_EVENTS:
                break
    assert [int(m["position"]) for _, m in received] == [i for i, _ in received]
    assert [m["caseversion"] for _, m in received] == list(range(1, CASE_EVENTS + 1))
    assert all(i > start for i, _ in received)
    for _, message in received:
        check_message(checks, message)

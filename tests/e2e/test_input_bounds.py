"""Client input stays client input: every numeric parameter naming a position or a
version is bounded in its schema (422 problem+json), never an overflow answered as a 500
or a "store unavailable"; sockets close with 4422."""

from __future__ import annotations

import httpx
import pytest
import websockets

from domain.actors import Role
from tests.e2e.commands_support import unique
from tests.e2e.push_support import open_case
from tests.e2e.server import Server

HUGE = str(2**63)  # one past PostgreSQL's BIGINT
PAST_INT = "3000000000"  # past INTEGER (stream versions)


@pytest.fixture
async def case(server: Server) -> tuple[str, str]:
    owner = unique("owner")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, _ = await open_case(http, server, owner)
    return owner, case_id


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/cases", {"cursor": "2428017050697096430226505728"}),
        ("/api/cases", {"min_position": HUGE}),
        ("/api/swarms", {"cursor": HUGE}),
        ("/api/cases/{case}/events", {"after": PAST_INT}),
        ("/api/cases/{case}", {"at_version": PAST_INT}),
    ],
)
async def test_agent_queries_refuse_numbers_past_the_columns(
    server: Server, case: tuple[str, str], path: str, params: dict[str, str]
) -> None:
    owner, case_id = case
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        answer = await http.get(
            path.format(case=case_id), params=params, headers=server.headers(owner)
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:swarmdesk:problem:validation-error"


async def test_the_largest_values_are_answered_not_failed(
    server: Server, case: tuple[str, str]
) -> None:
    owner, case_id = case
    service = server.headers(unique("svc"), Role.SERVICE)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        version = await http.get(
            f"/api/cases/{case_id}", params={"at_version": 2**31 - 1}, headers=server.headers(owner)
        )
        events = await http.get("/api/events", params={"after": 2**63 - 1}, headers=service)
        past = await http.get("/api/events", params={"after": HUGE}, headers=service)
        sse = await http.get("/api/events/stream", headers={**service, "Last-Event-ID": HUGE})
    assert version.status_code == 404  # no such version: a client error, not a fault
    assert events.status_code == 200
    assert events.json() == []
    assert past.status_code == 422
    assert sse.status_code == 422


@pytest.mark.parametrize("path", ["/ws/cases/{case}?after=" + HUGE, "/ws/events?after=" + HUGE])
async def test_sockets_refuse_positions_past_the_log(
    server: Server, case: tuple[str, str], path: str
) -> None:
    owner, case_id = case
    role = Role.SERVICE if path.startswith("/ws/events") else Role.AGENT
    who = unique("svc") if role is Role.SERVICE else owner
    async with websockets.connect(
        f"{server.ws_url}{path.format(case=case_id)}",
        additional_headers=server.headers(who, role),
        compression=None,
    ) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4422

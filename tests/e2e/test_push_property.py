"""Property: for random command sequences, the view a client builds from the snapshot
plus every pushed patch equals the stored view (and a fresh snapshot)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.agent import agent_id_for
from tests.e2e.push_support import Follower, open_case, stored_view, ws_connect
from tests.e2e.server import Server

Command = tuple[str, int, str]

commands = st.lists(
    st.tuples(
        st.sampled_from(
            ["context", "message", "priority", "swarm", "invite", "join", "leave",
             "insight", "resolve", "reopen", "close", "ack"]
        ),
        st.integers(0, 2),  # who acts: 0 owner, 1 and 2 experts
        st.sampled_from(["low", "high", "urgent", "normal"]),
    ),
    min_size=1,
    max_size=12,
)  # fmt: skip


def request(command: Command, experts: list[str], version: int) -> tuple[str, Any, int]:
    """(path suffix, JSON body, acting index) for one command; bodies are valid inputs."""
    name, who, word = command
    expert = experts[(who or 1) - 1]
    bodies: dict[str, tuple[str, Any, int]] = {
        "context": ("/context", {"kind": "symptom", "text": f"seen {word}"}, who),
        "message": ("/customer-messages", {"direction": "inbound", "text": word}, 0),
        "priority": ("/priority", {"priority": word, "reason": "because"}, 0),
        "swarm": ("/swarm", {"help_needed": "db", "skills_wanted": ["sql"]}, 0),
        "invite": (
            "/invitations",
            {"expert_id": str(agent_id_for(expert)), "reason": "knows it"},
            0,
        ),
        "join": ("/participants", {}, who or 1),
        "leave": ("/participants/me", None, who or 1),
        "insight": ("/insights", {"kind": "finding", "text": word}, who),
        "resolve": ("/resolve", {"summary": "fixed"}, 0),
        "reopen": ("/reopen", {"reason": "again"}, 0),
        "close": ("/close", {}, 0),
        "ack": ("/briefing-acks", {"version": max(1, version)}, who),
    }
    return bodies[name]


async def scenario(server: Server, steps: list[Command]) -> None:
    owner = f"agent-{uuid.uuid4().hex[:8]}"
    experts = [f"agent-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    people = [owner, *experts]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        case_id, last = await open_case(http, server, owner)
        version = 1
        follower = Follower()
        async with ws_connect(server, f"/ws/cases/{case_id}", owner, max_size=None) as ws:
            follower.apply(await ws.recv())
            for step in steps:
                path, body, who = request(step, experts, version)
                url = f"/api/cases/{case_id}{path}"
                headers = server.headers(people[who])
                if body is None:
                    r = await http.delete(url, headers=headers)
                else:
                    r = await http.post(url, json=body, headers=headers)
                assert r.status_code < 500, r.text
                if r.status_code < 300:
                    last, version = int(r.json()["position"]), int(r.json()["version"])
            await follower.read_until(ws, last)
        async with ws_connect(server, f"/ws/cases/{case_id}", owner, max_size=None) as ws:
            fresh = Follower()
            await fresh.read_until(ws, last)
    stored = await stored_view(server, "case", case_id)
    assert stored is not None
    assert stored[0] == follower.position == last
    assert follower.doc == stored[1] == fresh.doc


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=commands)
def test_pushed_view_equals_stored_view(server: Server, steps: list[Command]) -> None:
    asyncio.run(scenario(server, steps))

"""Invitation expiry with real servers: the due time survives a kill -9 of the process
that scheduled it; two processes whose clocks say it is due append `InvitationExpired`
once; the invitee's inbox and the case show it expired, the owner's inbox holds an
`invitation_expired` item with the suggestions' link; the owner's suggestions now
exclude the invitee. On PostgreSQL, the timers are led under one advisory lock
("timers"): the SLA engine's and invitation expiry's own locks are gone."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from domain import agent_id_for
from projections.db import create_views_engine
from projections.leader import lock_key
from tests.e2e.commands_support import api_for, stream_events, unique
from tests.e2e.server import Server, running_server

POLL = "0.1"  # SWARMDESK_TIMERS_POLL_SECONDS
AHEAD = "3600"  # SWARMDESK_TIMERS_SKEW_SECONDS of the later processes: an hour on, it is due


def _timers(server: Server) -> list[str]:
    async def read() -> list[str]:
        engine = create_views_engine(server.database_url, schema=server.schema)
        try:
            async with engine.connect() as conn:
                query = sa.text("SELECT key FROM timers WHERE state = 'pending'")
                return list((await conn.execute(query)).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(read())


LOCKS = ("views", "kpis", "timers", "notify", "sla", "invitation-timers")


def _leaders(server: Server) -> set[str]:
    """The leaderships held in the server's schema (by any process): advisory locks."""

    async def read() -> set[int]:
        engine = create_views_engine(server.database_url, schema=server.schema)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    sa.text(
                        "SELECT classid::bigint, objid::bigint FROM pg_locks "
                        "WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                    )
                )
                keys = {(high << 32) | low for high, low in rows}
                return {k - (1 << 64) if k >= 1 << 63 else k for k in keys}
        finally:
            await engine.dispose()

    held = asyncio.run(read())
    return {name for name in LOCKS if lock_key(server.schema, name) in held}


def _wait(check: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("not in time")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_expiry_survives_kill_9_and_fires_once_across_two_processes(
    backend: str, tmp_path: Path
) -> None:
    owner, expert = unique("owner"), unique("expert")
    for name in "abc":
        (tmp_path / name).mkdir()
    with running_server(backend, tmp_path / "a", SWARMDESK_TIMERS_POLL_SECONDS=POLL) as first:
        with api_for(first) as api:
            api.ok("PUT", "/api/agents/me", expert, {"name": "Late"})  # a known agent
            case_id = api.open_case(owner)
            body = {
                "expert_id": str(agent_id_for(expert)),
                "reason": "you wrote it",
                "expires_in_seconds": 600,
            }
            invitation = api.ok("POST", f"/api/cases/{case_id}/invitations", owner, body)
        _wait(lambda: f"invitation-expiry:{invitation['invitation_id']}" in _timers(first))
        first.stop(kill=True)  # kill -9: the timer is in the database, not in memory
        assert "InvitationExpired" not in stream_events(first, case_id)
        with (
            running_server(
                backend,
                tmp_path / "b",
                share=first,
                SWARMDESK_TIMERS_POLL_SECONDS=POLL,
                SWARMDESK_TIMERS_SKEW_SECONDS=AHEAD,
            ) as second,
            running_server(
                backend,
                tmp_path / "c",
                share=first,
                SWARMDESK_TIMERS_POLL_SECONDS=POLL,
                SWARMDESK_TIMERS_SKEW_SECONDS=AHEAD,
            ) as third,
        ):
            _wait(lambda: "InvitationExpired" in stream_events(second, case_id))
            _wait(lambda: _timers(second) == [])
            time.sleep(1.0)  # ten more polls of both processes
            assert stream_events(third, case_id).count("InvitationExpired") == 1
            with api_for(second) as api:
                last = api.position()
                inbox = api.ok("GET", f"/api/me/inbox?min_position={last}", expert)
                assert [i["status"] for i in inbox["items"]] == ["expired"]
                told = api.ok("GET", f"/api/me/inbox?min_position={last}", owner)["items"][-1]
                assert told["kind"] == "invitation_expired"
                assert told["id"] == invitation["invitation_id"]
                assert told["expert_id"] == str(agent_id_for(expert))
                assert told["reason"] is None
                assert told["link"] == f"/cases/{case_id}"
                assert told["suggestions"] == f"/api/cases/{case_id}/suggestions"
                after = f"?min_position={last}"
                nxt = api.ok("GET", f"{told['suggestions']}{after}", owner)
                gone = {"agent_id": str(agent_id_for(expert)), "reason": "declined"}
                assert gone in nxt["excluded"]
                view = api.ok("GET", f"/api/cases/{case_id}?min_position={last}", owner)
                assert view["invitations"] == {}  # decided invitations leave the document
                assert view["timeline"][-1]["type"] == "InvitationExpired"
            if backend == "postgres":  # one leadership for the timers, none of its own
                expected = {"views", "kpis", "timers", "notify"}
                _wait(lambda: _leaders(second) >= expected)
                assert _leaders(second) == expected

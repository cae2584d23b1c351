"""The webhook sender gives up after `RETRY_HOURS` (25 h), end to end on both backends:
the whole service in this process (uvicorn on a real socket, `build_asgi(clock=...)`), a
real receiver that answers 500 every time, and a `ManualClock` moved to each retry's
due time (nothing waits for 25 hours, nothing sleeps on the clock). The delivery log
(`GET /api/webhooks/{id}/deliveries`) shows every retry with the back-off of the
default schedule, then `failed`; the receiver got exactly those attempts, one
`webhook-id` throughout, and nothing after the give-up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from pydantic import SecretStr

from app.asgi import build_asgi
from app.auth.tokens import TokenIssuer
from app.matching_settings import NotifySettings
from app.service.clock import ManualClock
from app.settings import ProjectorSettings, Settings
from domain import agent_id_for
from domain.actors import Role
from projections.db import create_views_engine
from tests.conftest import Database
from tests.e2e.server import uvicorn_in_process
from tests.receivers import http_receiver

SECRET = "give-up-secret-key-that-is-long-enough-0"
# The default schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h), by hand:
# attempts at these seconds after the first; the 8th (27.6 h) is past 25 h: failed.
ATTEMPTS_AT = [0, 5, 305, 2105, 9305, 27305, 63305, 99305]


async def _until(check: Any, seconds: float = 30.0) -> Any:
    for _ in range(int(seconds / 0.02)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("not in time")


async def test_the_sender_gives_up_after_25_hours(database: Database, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        data_dir=tmp_path,
        secret_key=SecretStr(SECRET),
        projector=ProjectorSettings(enabled=True),
        notify=NotifySettings(poll_seconds=0.05, timeout_seconds=5),
    )
    assert NotifySettings().retry_hours == 25.0  # the default under test
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    start = clock.now().timestamp()
    tokens = TokenIssuer(SECRET)
    owner, ada = "owner-give-up", "ada-give-up"

    def auth(who: str, role: Role = Role.AGENT) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.issue(who, role)}"}

    engine = create_views_engine(database.url, schema=database.schema)
    with http_receiver({"/down": 1000}) as receiver:
        edge = build_asgi(settings, clock=clock)
        async with (
            uvicorn_in_process(edge, lifespan="on") as (_, port),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
        ):

            async def ok(method: str, path: str, who: str, body: Any = None) -> Any:
                response = await http.request(method, path, json=body, headers=auth(who))
                assert response.status_code in (200, 201), response.text
                return response.json()

            async def notifier_started() -> bool:  # its first start begins at the log's end
                async with engine.connect() as conn:
                    query = sa.text("SELECT 1 FROM tracking WHERE application_name = 'notify'")
                    return (await conn.execute(query)).first() is not None

            await _until(notifier_started)
            await ok("PUT", "/api/agents/me", ada, {"name": "Ada", "channels": ["webhook"]})
            sub = await ok("POST", "/api/webhooks", ada, {"url": receiver.url("/down")})
            case = await ok("POST", "/api/cases", owner, {"customer": "ACME", "subject": "Down"})
            await ok("POST", f"/api/cases/{case['case_id']}/invitations", owner,
                     {"expert_id": str(agent_id_for(ada)), "reason": "you built it"})  # fmt: skip
            log_path = f"/api/webhooks/{sub['id']}/deliveries"
            seen: list[float] = []
            for n, at in enumerate(ATTEMPTS_AT, start=1):
                await clock.set(datetime.fromtimestamp(start + at, UTC))

                async def attempted(n: int = n) -> Any:
                    log = await ok("GET", log_path, ada)
                    return log if log and log[0]["attempts"] == n else None

                (delivery,) = await _until(attempted)
                seen.append(delivery["next_at"] - start)
                assert delivery["first_at"] == start
                assert delivery["last_status"] == "500"
                assert delivery["status"] == ("failed" if n == len(ATTEMPTS_AT) else "pending")
            assert seen[:-1] == ATTEMPTS_AT[1:]  # each retry due where the schedule says
            # given up: ten more hours bring no attempt
            await clock.advance(10 * 3600)
            await asyncio.sleep(0.5)  # ten polls of the sender
            (final,) = await ok("GET", log_path, ada)
            assert (final["status"], final["attempts"]) == ("failed", len(ATTEMPTS_AT))
            got = receiver.at("/down")
            assert len(got) == len(ATTEMPTS_AT)
            assert {r.headers["webhook-id"] for r in got} == {final["id"]}
    await engine.dispose()

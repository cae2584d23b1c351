"""The fast dispatcher answers exactly as the FastAPI app does.

The same scenario (good commands, replays, conflicts, every kind of bad input) runs twice
on one real SQLite store: once through the FastAPI app alone, once through the
`Dispatcher` in front of it. Status, content type, `Location` and body must be equal
once ids and positions are normalised, and the short path must have served the good
requests itself and handed every bad one on with its body intact.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from pydantic import SecretStr

from app.auth.tokens import TokenIssuer
from app.http.app import app_routes, create_app
from app.http.dispatcher import MAX_BODY, Dispatcher, dispatch_table
from app.service.commands import COMMANDS
from app.settings import ProjectorSettings, Settings
from app.store.migrate import upgrade_async
from domain.actors import Role

SECRET = "short-path-secret-key-that-is-long-enough"
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}")


def test_every_declared_command_is_dispatched() -> None:
    api = create_app(Settings(secret_key=SecretStr(SECRET)))
    table = dispatch_table(COMMANDS, app_routes(api))
    shapes = {f"{method} {shape}" for method, shape in table}
    assert "POST /api/cases" in shapes
    assert "POST /api/cases/*/context" in shapes
    assert "POST /api/cases/*/proposals/*/accept" in shapes
    assert "PUT /api/agents/me" in shapes
    assert "DELETE /api/cases/*/participants/me" in shapes  # its note is a query parameter
    assert not any(shape.startswith("GET") for shape in shapes)
    assert {"POST /api/articles/*/reuses", "POST /api/cases/*/reuses"} <= shapes
    assert {"POST /api/sla/policies", "PUT /api/sla/policies/*"} <= shapes
    assert len(table) == len(COMMANDS) == 30


def test_a_shadowed_command_is_left_to_fastapi() -> None:
    api = create_app(Settings(secret_key=SecretStr(SECRET)))

    earlier = APIRouter()

    @earlier.post("/api/cases/{anything}/context")
    async def shadow() -> None: ...

    routes = [*earlier.routes, *app_routes(api)]  # the new route comes first
    shapes = {shape for _, shape in dispatch_table(COMMANDS, routes)}
    assert "/api/cases/*/context" not in shapes
    assert "/api/cases/*/insights" in shapes


@pytest.fixture
async def apps(tmp_path: Path) -> AsyncIterator[tuple[Any, Dispatcher]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    await upgrade_async(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key=SecretStr(SECRET),
        projector=ProjectorSettings(enabled=False),
    )
    api = create_app(settings)
    async with api.router.lifespan_context(api):
        yield api, Dispatcher(api)


def normalise(response: httpx.Response, run: str = "") -> tuple[int, str, str, Any]:
    text = UUID_TEXT.sub("<id>", response.text)
    if run:
        text = text.replace(run, "<run>")
    body = json.loads(text) if text else None
    if isinstance(body, dict):
        body.pop("position", None)
    location = UUID_TEXT.sub("<id>", response.headers.get("location", ""))
    return response.status_code, response.headers.get("content-type", ""), location, body


async def scenario(app: Any, run: str) -> list[tuple[int, str, str, Any]]:
    """Every request, answered; `run` keeps the two runs' cases and keys apart."""
    issuer = TokenIssuer(SECRET)
    owner = {"Authorization": f"Bearer {issuer.issue(f'owner-{run}', Role.AGENT)}"}
    stranger = {"Authorization": f"Bearer {issuer.issue(f'stranger-{run}', Role.AGENT)}"}
    service = {"Authorization": f"Bearer {issuer.issue('svc', Role.SERVICE)}"}
    forged = {"Authorization": "Bearer " + TokenIssuer("x" * 40).issue("owner", Role.AGENT)}
    opened = {"customer": "Acme", "subject": "Checkout fails", "priority": "high"}
    context = {"kind": "symptom", "text": "402 after the 3-D Secure step"}
    answers: list[httpx.Response] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def post(path: str, headers: dict[str, str], **kw: Any) -> httpx.Response:
            response = await client.post(path, headers=headers, **kw)
            answers.append(response)
            return response

        first = await post("/api/cases", {**owner, "Idempotency-Key": f"o-{run}"}, json=opened)
        case = f"/api/cases/{first.json()['case_id']}"
        await post("/api/cases", {**owner, "Idempotency-Key": f"o-{run}"}, json=opened)
        await post("/api/cases", {**owner, "Idempotency-Key": f"o-{run}"}, json=context)
        await post(f"{case}/context", owner, json=context)
        await post(f"{case}/context", {**owner, "If-Match": "2"}, json=context)
        await post(f"{case}/context", {**owner, "If-Match": '"9"'}, json=context)
        await post(f"{case}/context", {**owner, "If-Match": "nine"}, json=context)
        await post(f"{case}/context", {**owner, "Idempotency-Key": "a b"}, json=context)
        await post(f"{case}/context", owner, json={**context, "extra": 1})
        await post(f"{case}/context", owner, json={**context, "kind": "rumour"})
        await post(f"{case}/context", owner, json={**context, "text": "x" * (MAX_BODY + 1)})
        await post(f"{case}/context", {**owner, "Content-Type": "application/json"}, content=b"{")
        await post(f"{case}/context", {**owner, "Content-Type": "text/plain"}, json=context)
        await post(f"{case}/context", owner)
        await post(f"{case}/context", {}, json=context)
        await post(f"{case}/context", {"Authorization": "Basic abc"}, json=context)
        await post(f"{case}/context", forged, json=context)
        await post(f"{case}/context", service, json=context)
        await post(f"{case}/context", stranger, json=context)
        await post(f"/api/cases/{uuid.uuid4()}/context", owner, json=context)
        await post(f"/api/cases/{uuid.uuid4().hex}/context", owner, json=context)
        await post("/api/cases/not-a-uuid/context", owner, json=context)
        await post(f"{case}/participants", stranger)
        await post(f"{case}/proposals/{uuid.uuid4()}/accept", owner)
        await post(f"{case}/priority", owner, json={"priority": "urgent", "reason": "VIP"})
        await post(f"{case}/swarm", owner, json={"help_needed": "Who knows 3DS?"})
        await post(f"{case}/participants", stranger)  # now by the open swarm request
        leave = f"{case}/participants/me"
        for note in ("x" * 2001, "bye"):  # the note is a query parameter, bounded
            answers.append(await client.delete(leave, headers=stranger, params={"note": note}))
        await post(f"{case}/close", owner)
        await post(f"{case}/context", owner, json=context)
        profile = {"name": "Olga", "skills": {"payments": 3}}
        answers.append(await client.put("/api/agents/me", headers=owner, json=profile))
    return [normalise(answer) for answer in answers]


async def test_the_dispatcher_answers_as_the_fastapi_app(
    apps: tuple[Any, Dispatcher],
) -> None:
    api, short = apps
    through_fastapi = await scenario(api, "a")
    through_short_path = await scenario(short, "b")
    for n, (expected, got) in enumerate(zip(through_fastapi, through_short_path, strict=True)):
        assert got == expected, f"request {n}"
    statuses = [status for status, *_ in through_fastapi]
    assert statuses.count(200) + statuses.count(201) >= 6
    assert {401, 403, 404, 412, 422} <= set(statuses)
    # good requests (and the ones only the service or the domain refuses) took the short
    # path; every malformed one was handed on, body and all
    assert short.served == 17
    assert short.passed_on == 13  # the two paths that are no UUID never reach it


POLICY: dict[str, Any] = {
    "name": "Standard",
    "warn_share": 0.5,
    "targets": [{"target": "first_response", "minutes": 60}],
}


async def policy_scenario(app: Any, run: str) -> list[tuple[int, str, str, Any]]:
    """The SLA policy commands: admins only, validated, idempotent, If-Match."""
    issuer = TokenIssuer(SECRET)

    def bearer(subject: str, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(f'{subject}-{run}', role)}"}

    admin, agent = bearer("admin", Role.ADMIN), bearer("agent", Role.AGENT)
    supervisor, service = bearer("sup", Role.SUPERVISOR), bearer("svc", Role.SERVICE)
    answers: list[httpx.Response] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def send(method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
            response = await client.request(method, path, headers=headers, **kw)
            answers.append(response)
            return response

        policies = "/api/sla/policies"
        for who in (agent, supervisor, service, {}):
            await send("POST", policies, who, json=POLICY)
        key = {**admin, "Idempotency-Key": f"p-{run}"}
        first = await send("POST", policies, key, json=POLICY)
        policy = f"{policies}/{first.json()['policy_id']}"
        await send("POST", policies, key, json=POLICY)  # the same answer again
        await send("POST", policies, key, json={**POLICY, "warn_share": 0.6})  # key reused
        await send("POST", policies, admin, json={**POLICY, "calendar": {"timezone": "Mars/X"}})
        await send("POST", policies, admin, json={**POLICY, "extra": 1})
        await send("POST", policies, admin, json={"name": "no targets"})
        await send("POST", policies, {**admin, "Content-Type": "application/json"}, content=b"{")
        await send("POST", policies, admin)
        changed = {**POLICY, "warn_share": 0.25}
        await send("PUT", policy, agent, json=changed)
        await send("PUT", policy, {**admin, "If-Match": "7"}, json=changed)
        await send("PUT", policy, {**admin, "If-Match": "one"}, json=changed)
        await send("PUT", policy, {**admin, "If-Match": '"1"'}, json=changed)
        await send("PUT", policy, {**admin, "If-Match": '"1"'}, json=changed)  # now at 2
        await send("PUT", policy, admin, json={**changed, "targets": []})
        await send("PUT", f"{policies}/{uuid.uuid4()}", admin, json=changed)
        await send("PUT", f"{policies}/not-a-uuid", admin, json=changed)
    return [normalise(answer, run) for answer in answers]


async def test_the_policy_commands_answer_as_through_the_fastapi_app(
    apps: tuple[Any, Dispatcher],
) -> None:
    api, short = apps
    through_fastapi = await policy_scenario(api, "run-one")
    through_short_path = await policy_scenario(short, "run-two")
    for n, (expected, got) in enumerate(zip(through_fastapi, through_short_path, strict=True)):
        assert got == expected, f"request {n}"
    statuses = [status for status, *_ in through_fastapi]
    assert statuses == [
        403, 403, 403, 401, 201, 201, 422, 422, 422, 422, 422, 422,
        403, 412, 422, 200, 412, 422, 404, 422,
    ]  # fmt: skip
    created = through_fastapi[4]
    assert created[2] == "/api/sla/policies/<id>"
    assert created[3]["version"] == 1
    assert through_fastapi[15][3]["version"] == 2
    assert all(t.startswith("application/problem+json") for s, t, *_ in through_fastapi if s >= 400)
    assert (short.served, short.passed_on) == (12, 7)  # the path that is no UUID: neither

"""Idempotency-Key and If-Match over HTTP: a retried command answers its first result and
appends nothing (server-chosen ids included); a reused key with another body is a 422;
a stale If-Match is a 412 with the current version; racing commands with the same If-Match
give one 200 and 409s (never a silent overwrite); racing commands without If-Match are
retried on the server and all succeed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.commands_support import api_for, assert_problem, unique
from tests.e2e.server import Server


def test_same_key_same_body_replays_first_result(server: Server) -> None:
    with api_for(server) as api:
        owner = unique("owner")
        key = {"Idempotency-Key": unique("key")}
        body = {"customer": "Acme", "subject": "Retry me"}
        first = api.call("POST", "/api/cases", owner, json=body, headers=key)
        position = api.position()
        again = api.call("POST", "/api/cases", owner, json=body, headers=key)
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert again.headers["location"] == first.headers["location"]
        case = first.json()["case_id"]
        insight = {"kind": "finding", "text": "once"}
        key = {"Idempotency-Key": unique("key")}
        one = api.ok("POST", f"/api/cases/{case}/insights", owner, insight, headers=key)
        position = api.position()
        two = api.ok("POST", f"/api/cases/{case}/insights", owner, insight, headers=key)
        assert one == two  # same version, position and server-chosen insight id
        assert one["version"] == 2
        assert api.position() == position


def test_same_key_other_body_or_path_is_422(server: Server) -> None:
    with api_for(server) as api:
        owner = unique("owner")
        case = api.open_case(owner)
        other_case = api.open_case(owner)
        key = {"Idempotency-Key": unique("key")}
        api.ok(
            "POST",
            f"/api/cases/{case}/context",
            owner,
            {"kind": "symptom", "text": "a"},
            headers=key,
        )
        before = api.position()
        for path, body in (
            (f"/api/cases/{case}/context", {"kind": "symptom", "text": "b"}),
            (f"/api/cases/{other_case}/context", {"kind": "symptom", "text": "a"}),
        ):
            response = api.call("POST", path, owner, json=body, headers=key)
            assert_problem(response, 422, "idempotency-key-reused")
        assert api.position() == before


def test_keys_are_scoped_per_caller(server: Server) -> None:
    with api_for(server) as api:
        key = {"Idempotency-Key": unique("shared")}
        body = {"customer": "Acme", "subject": "Same key"}
        first = api.ok("POST", "/api/cases", unique("a"), body, headers=key)
        second = api.ok("POST", "/api/cases", unique("b"), body, headers=key)
        assert first["case_id"] != second["case_id"]


@pytest.mark.parametrize("form", ["{v}", '"{v}"', 'W/"{v}"'])
def test_if_match_forms(server: Server, form: str) -> None:
    with api_for(server) as api:
        owner = unique("owner")
        case = api.open_case(owner)
        body = {"kind": "symptom", "text": "t"}
        path = f"/api/cases/{case}/context"
        ok = api.ok("POST", path, owner, body, headers={"If-Match": form.format(v=1)})
        assert ok["version"] == 2
        before = api.position()
        stale = api.call("POST", path, owner, json=body, headers={"If-Match": form.format(v=1)})
        problem = assert_problem(stale, 412, "precondition-failed")
        assert problem["current_version"] == 2
        assert problem["case_id"] == str(case)
        assert api.position() == before


async def _race(server: Server, case: str, owner: str, n: int, if_match: str | None) -> list[Any]:
    headers = server.headers(owner) | ({"If-Match": if_match} if if_match else {})
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        return list(
            await asyncio.gather(
                *(
                    client.post(
                        f"/api/cases/{case}/context",
                        json={"kind": "symptom", "text": f"racer {i}"},
                        headers=headers,
                    )
                    for i in range(n)
                )
            )
        )


def test_racing_if_match_gives_one_winner_and_412s(server: Server) -> None:
    """Commands on one case are decided in arrival order, so of 8 racing commands naming
    the same version one wins and every other sees the case moved: 412 with the current
    version, never a 409 (no command reaches the append with a stale version)."""
    with api_for(server) as api:
        owner = unique("owner")
        case = str(api.open_case(owner))
        version = 1
        for _ in range(3):
            before = api.position()
            responses = asyncio.run(_race(server, case, owner, 8, str(version)))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200] + [412] * 7, statuses
            for response in responses:
                if response.status_code == 412:
                    problem = assert_problem(response, 412, "precondition-failed")
                    assert problem["current_version"] == version + 1
            assert api.position() == before + 1
            version += 1


def test_racing_without_if_match_are_retried_and_all_succeed(server: Server) -> None:
    with api_for(server) as api:
        owner = unique("owner")
        case = str(api.open_case(owner))
        before = api.position()
        responses = asyncio.run(_race(server, case, owner, 3, None))
        assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
        assert sorted(r.json()["version"] for r in responses) == [2, 3, 4]
        assert api.position() == before + 3


def test_retry_of_a_committed_command_gets_its_first_result_not_a_rule(server: Server) -> None:
    """Re-running `join` would now break a rule (already a participant): the key wins."""
    with api_for(server) as api:
        owner, expert = unique("owner"), unique("expert")
        case = api.open_case(owner)
        api.invite(case, owner, expert)
        key = {"Idempotency-Key": unique("join")}
        first = api.ok("POST", f"/api/cases/{case}/participants", expert, headers=key)
        before = api.position()
        again = api.ok("POST", f"/api/cases/{case}/participants", expert, headers=key)
        assert again == first
        plain = api.call("POST", f"/api/cases/{case}/participants", expert)
        assert_problem(plain, 403, "rule-violated")  # without the key it is a new command
        assert api.position() == before


def test_a_second_process_never_makes_the_cache_overwrite(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Server A caches the case; server B (same database) changes it; A's next commands
    are decided on the current state (retry after conflict, 412 only from the store)."""
    from tests.e2e.server import running_server

    with (
        running_server(server.backend, tmp_path_factory.mktemp("b"), share=server) as other,
        api_for(server) as a,
        api_for(other) as b,
    ):
        owner, expert = unique("owner"), unique("expert")
        case = a.open_case(owner)
        a.ok("POST", f"/api/cases/{case}/context", owner, {"kind": "symptom", "text": "a"})
        b.invite(case, owner, expert)  # version 3, unknown to A's cache
        body = {"kind": "symptom", "text": "after"}
        ok = a.ok("POST", f"/api/cases/{case}/context", owner, body, headers={"If-Match": "3"})
        assert ok["version"] == 4
        b.ok("POST", f"/api/cases/{case}/participants", expert)  # version 5
        stale = a.call(
            "POST", f"/api/cases/{case}/context", owner, json=body, headers={"If-Match": "4"}
        )
        assert assert_problem(stale, 412)["current_version"] == 5
        b.ok("POST", f"/api/cases/{case}/context", expert, {"kind": "symptom", "text": "b"})
        latest = a.ok("POST", f"/api/cases/{case}/context", owner, body)  # conflict, retried
        assert latest["version"] == 7
        # the joined expert (known only through B's write) is a participant for A too
        assert (
            a.ok("POST", f"/api/cases/{case}/insights", expert, {"kind": "finding", "text": "x"})[
                "version"
            ]
            == 8
        )

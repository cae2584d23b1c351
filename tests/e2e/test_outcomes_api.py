"""Outcomes over HTTP and the CLI, against a real server of its own (an active policy
would start clocks on the shared servers' cases): SLA policies (admin only, validated,
If-Match), waiting on the customer and satisfaction, the SLA engine's facts in the case
view, the at-risk list, `GET /api/kpis`, `swarmdesk kpis` (CSV and JSON) and
`swarmdesk sla what-if`, which writes nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.store import create_store
from domain import Role
from tests.e2e.server import Server, running_server

POLICY: dict[str, Any] = {
    "name": "Around the clock",
    "warn_share": 0.5,
    "targets": [
        {"target": "first_response", "minutes": 60},
        {"target": "first_response", "minutes": 30, "priority": "urgent"},
        {"target": "resolution", "minutes": 600},
    ],
}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def own_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(request.param, tmp_path_factory.mktemp(f"out-{request.param}")) as srv:
        yield srv


def _cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "swarmdesk"), *args],
        cwd=ROOT,
        env={**server.env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _head(server: Server) -> int:
    store = create_store(server.database_url, schema=server.schema)
    await store.start()
    try:
        return await store.max_position()
    finally:
        await store.close()


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    return body


async def test_policies_sla_facts_kpis_and_the_cli(own_server: Server, tmp_path: Path) -> None:
    s = own_server
    admin, sup = s.headers("root", Role.ADMIN), s.headers("sue", Role.SUPERVISOR)
    olga = s.headers("olga")
    async with httpx.AsyncClient(base_url=s.base_url, timeout=20) as http:
        # only admins define policies; a bad document is refused and changes nothing
        _problem(await http.post("/api/sla/policies", json=POLICY, headers=olga), 403)
        bad = {**POLICY, "calendar": {"timezone": "Mars/Olympus"}}
        body = _problem(await http.post("/api/sla/policies", json=bad, headers=admin), 422)
        assert "timezone" in json.dumps(body)
        _problem(await http.post("/api/sla/policies", json={"name": "x"}, headers=admin), 422)
        head = await _head(s)
        r = await http.get("/api/sla/policies", headers=sup, params={"min_position": head})
        assert r.json() == {"items": []}
        # defined, then changed with If-Match
        r = await http.post("/api/sla/policies", json=POLICY, headers=admin)
        assert r.status_code == 201, r.text
        policy_id = r.json()["policy_id"]
        assert r.headers["location"] == f"/api/sla/policies/{policy_id}"
        url = f"/api/sla/policies/{policy_id}"
        changed = {**POLICY, "warn_share": 0.25}
        _problem(await http.put(url, json=changed, headers={**admin, "If-Match": "7"}), 412)
        r = await http.put(url, json=changed, headers={**admin, "If-Match": "1"})
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 2
        _problem(
            await http.put(
                f"/api/sla/policies/{'0' * 8}-0000-4000-8000-{'0' * 12}", json=POLICY, headers=admin
            ),
            404,
        )
        r = await http.get(
            "/api/sla/policies", headers=sup, params={"min_position": r.json()["position"]}
        )
        [item] = r.json()["items"]
        assert (item["policy_id"], item["version"], item["document"]["warn_share"]) == (
            policy_id,
            2,
            0.25,
        )
        _problem(await http.get("/api/sla/policies", headers=olga), 403)

        # a case: the SLA engine starts its clocks; waiting on the customer pauses them
        r = await http.post(
            "/api/cases",
            json={
                "customer": "Acme",
                "subject": "Slow",
                "priority": "urgent",
                "product_area": "web",
            },
            headers=olga,
        )
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        case_url = f"/api/cases/{case_id}"
        view = await _wait_view(http, case_url, olga, lambda v: "resolution" in v.get("sla", {}))
        assert view["sla"]["first_response"]["minutes"] == 30  # urgent
        assert view["sla"]["resolution"]["status"] == "running"
        r = await http.post(f"{case_url}/awaiting-customer", json={"note": "logs?"}, headers=olga)
        assert r.status_code == 200, r.text
        view = await _wait_view(
            http, case_url, olga, lambda v: v["sla"]["resolution"]["status"] == "paused"
        )
        assert view["awaiting_customer"] is True
        _problem(await http.post(f"{case_url}/satisfaction", json={"score": 6}, headers=olga), 422)
        _problem(
            await http.post(
                f"{case_url}/satisfaction", json={"score": 4}, headers=s.headers("stranger")
            ),
            404,
        )
        r = await http.post(f"{case_url}/satisfaction", json={"score": 4}, headers=olga)
        assert r.status_code == 200, r.text
        last = r.json()["position"]

        # at risk: nothing while every clock is paused; once the customer writes, the
        # first response (due in 30 min) but not the resolution (10 h)
        r = await http.get(
            "/api/sla/at-risk", headers=sup, params={"within": 86400, "min_position": last}
        )
        assert r.status_code == 200, r.text
        assert r.json()["items"] == []
        r = await http.post(
            f"{case_url}/customer-messages",
            headers=olga,
            json={"direction": "inbound", "text": "Here are the logs"},
        )
        assert r.status_code == 200, r.text
        await _wait_view(
            http, case_url, olga, lambda v: v["sla"]["resolution"]["status"] == "running"
        )
        for _ in range(100):
            r = await http.get("/api/sla/at-risk", headers=sup, params={"within": 3600})
            if r.json()["items"]:
                break
            await asyncio.sleep(0.05)
        risky = [(i["case_id"], i["target"], i["status"]) for i in r.json()["items"]]
        assert risky == [(case_id, "first_response", "running")]
        assert r.json()["items"][0]["subject"] == "Slow"
        last = await _head(s)

        # KPIs, for supervisors, any period
        today = datetime.now(UTC).date().isoformat()
        params: dict[str, Any] = {"from": today, "to": today, "by": "day", "min_position": last}
        r = await http.get("/api/kpis", headers=sup, params=params)
        assert r.status_code == 200, r.text
        [day] = r.json()["series"]
        assert day["intake"]["opened"] == 1
        assert day["satisfaction"]["mean"] == 4.0
        assert day["backlog"]["open"] == 1
        r = await http.get(
            "/api/kpis", headers=sup, params={**params, "group": "priority", "families": "intake"}
        )
        assert [(e["group"], e["intake"]["opened"]) for e in r.json()["series"]] == [("urgent", 1)]
        _problem(await http.get("/api/kpis", headers=olga, params=params), 403)
        _problem(await http.get("/api/kpis", headers=sup, params={**params, "families": "x"}), 422)
        _problem(
            await http.get("/api/kpis", headers=sup, params={**params, "to": "2000-01-01"}), 422
        )

    # the CLI: the same KPIs as CSV and JSON; what-if writes nothing
    out = _cli(s, "kpis", "--from", today, "--to", today, "--by", "day", "--format", "csv")
    assert out.returncode == 0, out.stderr
    [row] = list(csv.DictReader(io.StringIO(out.stdout)))
    assert row["period"] == today
    assert row["intake.opened"] == "1"
    out = _cli(s, "kpis", "--from", today, "--to", today, "--format", "json")
    assert json.loads(out.stdout)["series"][0]["intake"]["opened"] == 1
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(changed))
    before = await _head(s)
    out = _cli(s, "sla", "what-if", str(policy_file), "--from", today, "--to", today)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert 0 < report["events_replayed"] <= before  # only the events clocks need
    assert set(report["targets"]) == {"first_response", "next_response", "resolution"}
    assert await _head(s) == before
    policy_file.write_text(json.dumps({"name": "no targets"}))
    out = _cli(s, "sla", "what-if", str(policy_file), "--from", today, "--to", today)
    assert out.returncode != 0
    assert "targets" in out.stderr


async def _wait_view(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], ready: Any
) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for _ in range(200):
        r = await http.get(url, headers=headers)
        view = r.json()
        if r.status_code == 200 and ready(view):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"the case view never got there: {json.dumps(view)[:500]}")

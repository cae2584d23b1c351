"""The bounded briefing and its pages, on a real server: a case with more items than its
windows; the document keeps the newest with totals, the pages give back every item in
order, `?at_version=` shows the windows as they stood. Strangers get 404; a bad cursor
is a 422."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.store import create_store
from domain import Actor, Case, Role, agent_id_for
from projections.case_view import CONTEXT_WINDOW, INSIGHTS_WINDOW, TIMELINE_MAX
from tests.e2e.server import Server
from tests.views_support import append

EXTRA = 7  # items beyond each window


async def _seed(server: Server) -> tuple[Case, int, str, list[str], list[str]]:
    owner_name = f"owner-{uuid.uuid4().hex[:8]}"
    owner = Actor(agent_id_for(owner_name), Role.AGENT, "Owner")
    case = Case.open(owner, customer="ACME", subject="Busy", description="many items")
    insights = [uuid.uuid4() for _ in range(INSIGHTS_WINDOW + EXTRA)]
    for n, iid in enumerate(insights):
        case.post_insight(owner, insight_id=iid, kind="finding", text=f"insight {n}")
    contexts = [uuid.uuid4() for _ in range(CONTEXT_WINDOW + EXTRA)]
    for n, cid in enumerate(contexts):
        case.add_context(owner, context_id=cid, kind="symptom", text=f"symptom {n}")
    store = create_store(server.database_url, schema=server.schema)
    await store.start()
    try:
        last = await append(store, case)
    finally:
        await store.close()
    return case, last, owner_name, [str(i) for i in insights], [str(c) for c in contexts]


async def _all_pages(http: httpx.AsyncClient, url: str, headers: Any, limit: int) -> list[Any]:
    items: list[Any] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        r = await http.get(url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        items = page["items"] + items
        if page["next_before"] is None:
            return items
        assert page["next_before"] == page["items"][0]["version"]
        params = {"limit": limit, "before": page["next_before"]}


async def test_briefing_windows_and_pages(server: Server) -> None:
    case, last, owner_name, insights, contexts = await _seed(server)
    owner = server.headers(owner_name)
    url = f"/api/cases/{case.id}"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        r = await http.get(url, params={"min_position": last}, headers=owner)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert [i["id"] for i in doc["insights"]] == insights[-INSIGHTS_WINDOW:]
        assert doc["totals"]["insights"] == len(insights)
        assert [c["id"] for c in doc["context"]["symptom"]] == contexts[-CONTEXT_WINDOW:]
        assert doc["totals"]["context"]["symptom"] == len(contexts)
        assert len(doc["timeline"]) == min(TIMELINE_MAX, case.version)
        assert doc["timeline_total"] == case.version

        paged = await _all_pages(http, f"{url}/insights", owner, 6)
        assert [i["id"] for i in paged] == insights
        assert paged[-INSIGHTS_WINDOW:] == doc["insights"]  # the same items, as stored
        paged = await _all_pages(http, f"{url}/context/symptom", owner, 5)
        assert [c["id"] for c in paged] == contexts
        timeline = await _all_pages(http, f"{url}/timeline", owner, 200)
        assert [t["version"] for t in timeline] == list(range(1, case.version + 1))
        assert timeline[-len(doc["timeline"]) :] == doc["timeline"]
        r = await http.get(f"{url}/proposals", headers=owner)
        assert r.json() == {"items": [], "next_before": None}

        # as it stood: the windows of version 3 (two insights)
        r = await http.get(url, params={"at_version": 3}, headers=owner)
        assert [i["id"] for i in r.json()["insights"]] == insights[:2]

        stranger = server.headers(f"stranger-{uuid.uuid4().hex[:8]}")
        for path in ("insights", "timeline", "context/symptom"):
            r = await http.get(f"{url}/{path}", headers=stranger)
            assert r.status_code == 404
            assert r.headers["content-type"].startswith("application/problem+json")
        for params in ({"before": 0}, {"before": 2**31}, {"limit": 0}, {"limit": 201}):
            r = await http.get(f"{url}/insights", params=params, headers=owner)
            assert r.status_code == 422, params
        r = await http.get(f"{url}/context/mood", headers=owner)
        assert r.status_code == 422

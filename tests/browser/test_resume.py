"""The socket of one browser is cut mid-swarm, changes happen meanwhile, it reconnects with
`?after=` and shows every one of them, none twice, without a reload.

The cut: Chromium's offline mode leaves open WebSockets alone, so the browser's case
socket runs through Playwright's WebSocket routing (page <-> route <-> the real server);
the test closes both sides as a restarting server does (1012), then refuses the
browser's reconnections (1013) until the changes are made, then lets them through."""

from __future__ import annotations

import re

from playwright.sync_api import WebSocketRoute, expect

from tests.browser.conftest import People
from tests.browser.harness import Person


def scene(ana: Person, ben: Person) -> str:
    """A case of Ana's with Ben in its swarm (set over HTTP: the swarm test clicks it)."""
    opened = ana.api("POST", "/api/cases", {"customer": "Initech", "subject": "Webhooks late"})
    assert opened.status_code == 201, opened.text
    case_id = str(opened.json()["case_id"])
    invited = ana.api(
        "POST",
        f"/api/cases/{case_id}/invitations",
        {"expert_id": ben.agent_id, "reason": "queues"},
    )
    assert invited.status_code == 200, invited.text
    assert ben.api("POST", f"/api/cases/{case_id}/participants", {}).status_code == 200
    return case_id


def versions(person: Person) -> list[int]:
    found = person.page.locator(".timeline-list > li").evaluate_all(
        "items => items.map(item => Number(item.dataset.version))"
    )
    return [int(v) for v in found]


def test_a_cut_socket_resumes_and_shows_every_change_once(people: People) -> None:
    ana, ben = people("Ana"), people("Ben")
    case_id = scene(ana, ben)
    sockets: list[str] = []
    live: list[tuple[WebSocketRoute, WebSocketRoute]] = []
    cut = False

    def route(page_side: WebSocketRoute) -> None:
        sockets.append(page_side.url)
        if cut:
            page_side.close(code=1013, reason="try again later")
            return
        live.append((page_side, page_side.connect_to_server()))

    ben.page.route_web_socket(re.compile(f"/ws/cases/{case_id}"), route)
    ben.goto(f"/cases/{case_id}")
    room = ben.page
    status = room.locator(".room-head .live-status")
    expect(status).to_have_attribute("data-status", "live")
    before = versions(ben)
    room.evaluate("() => { window.__noReload = true; }")

    cut = True
    for page_side, server_side in live:
        server_side.close(code=1012, reason="restarting")
        page_side.close(code=1012, reason="restarting")
    expect(status).to_have_attribute("data-status", re.compile("waiting|connecting"))
    texts = [f"symptom {n} while Ben was away" for n in range(3)]
    for text in texts:
        added = ana.api("POST", f"/api/cases/{case_id}/context", {"kind": "symptom", "text": text})
        assert added.status_code == 200, added.text
    insights = ["Queue depth doubled at 09:40", "Consumer lag is on shard 3"]
    for text in insights:
        body = {"kind": "finding", "text": text}
        posted = ana.api("POST", f"/api/cases/{case_id}/insights", body)
        assert posted.status_code == 200, posted.text
    final = int(posted.json()["version"])
    cut = False

    expect(room.locator(".room").first).to_have_attribute("data-version", str(final))
    expect(status).to_have_attribute("data-status", "live")
    for text in texts:
        expect(room.locator(".briefing li").filter(has_text=text)).to_have_count(1)
    for text in insights:
        expect(room.locator(".insights li").filter(has_text=text)).to_have_count(1)
    after = versions(ben)
    assert after == sorted(set(after)), "a timeline item shown twice or out of order"
    assert after[: len(before)] == before
    assert after[-1] == final
    assert after == list(range(after[0], final + 1)), "a change is missing"
    assert room.evaluate("() => window.__noReload === true")
    assert len(sockets) >= 3, sockets  # the first, at least one refused, the resumed one
    assert "after=" not in sockets[0]
    assert all("after=" in url for url in sockets[1:]), sockets

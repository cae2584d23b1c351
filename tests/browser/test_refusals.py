"""A refused command shows the server's problem detail next to its control and leaves the
case unchanged: a stranger's (offering help where it is no longer wanted), a decision on
an outdated screen (If-Match: the form lists what changed and lets the owner decide
again), and an over-long text."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import WebSocketRoute, expect

from tests.browser.conftest import People
from tests.browser.harness import Person


def case_of(person: Person, case_id: str) -> dict[str, Any]:
    found = person.api("GET", f"/api/cases/{case_id}")
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def proposal_in(case: dict[str, Any], proposal_id: str) -> dict[str, Any]:
    """A proposal of the case document's window (a list, newest last)."""
    (found,) = [p for p in case["proposals"] if p["id"] == proposal_id]
    return dict(found)


def swarming_case(ana: Person, ben: Person) -> tuple[str, str]:
    """Ana's case with an open request for help, Ben in it and his proposal open."""
    opened = ana.api("POST", "/api/cases", {"customer": "Globex", "subject": "Invoices missing"})
    case_id = str(opened.json()["case_id"])
    asked = ana.api("POST", f"/api/cases/{case_id}/swarm", {"help_needed": "billing exports"})
    assert asked.status_code == 200, asked.text
    assert ben.api("POST", f"/api/cases/{case_id}/participants", {}).status_code == 200
    proposed = ben.api(
        "POST", f"/api/cases/{case_id}/proposals", {"summary": "Re-run the export job"}
    )
    assert proposed.status_code == 200, proposed.text
    return case_id, str(proposed.json()["proposal_id"])


def test_a_decision_on_an_outdated_screen_shows_what_changed_and_decides_again(
    people: People,
) -> None:
    ana, ben = people("Ana"), people("Ben")
    case_id, proposal_id = swarming_case(ana, ben)
    ana.goto(f"/cases/{case_id}")
    page = ana.page
    proposal = page.locator(f'[data-proposal="{proposal_id}"]')
    reason = proposal.get_by_label("Reason to reject")
    reason.click()  # Ana starts deciding on the version she sees
    seen = case_of(ana, case_id)["version"]
    posted = ben.api(
        "POST", f"/api/cases/{case_id}/insights", {"kind": "finding", "text": "Export ran at 02:00"}
    )
    assert posted.status_code == 200
    reason.fill("Not the export job")
    proposal.get_by_role("button", name="Reject").click()

    problem = proposal.get_by_role("alert")
    expect(problem).to_contain_text("412")
    conflict = proposal.locator("[data-conflict]")
    expect(conflict).to_contain_text(f"you decided on version {seen}")
    expect(conflict).to_contain_text("Export ran at 02:00")
    assert reason.get_attribute("aria-describedby") == problem.get_attribute("id")
    after = case_of(ana, case_id)
    assert after["version"] == seen + 1  # only Ben's insight: the rejection changed nothing
    assert proposal_in(after, proposal_id)["status"] == "open"

    conflict.get_by_role("button", name="I have read this: decide again").click()
    proposal.get_by_role("button", name="Reject").click()
    expect(proposal).to_have_attribute("data-status", "rejected")
    assert proposal_in(case_of(ana, case_id), proposal_id)["reason"] == "Not the export job"


def test_an_over_long_insight_and_a_strangers_offer_are_refused_next_to_the_control(
    people: People,
) -> None:
    ana, ben, dan = people("Ana"), people("Ben"), people("Dan")
    case_id, _ = swarming_case(ana, ben)
    ben.goto(f"/cases/{case_id}")
    room = ben.page
    before = case_of(ana, case_id)["version"]
    room.get_by_label("Insight", exact=True).fill("x" * 10_001)
    room.get_by_role("button", name="Post insight").click()
    problem = room.locator(".post-insight").get_by_role("alert")
    expect(problem).to_contain_text("422")
    expect(problem).to_contain_text("text")
    assert case_of(ana, case_id)["version"] == before
    expect(room.locator(".insights li")).to_have_count(0)

    # Dan sees the request on the board; Ana resolves the case before he offers help, and
    # before his board hears of it (the board is live: its socket's later frames are held
    # back here, as a slow network would)
    def late(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()
        frames: list[str | bytes] = []

        def first_only(message: str | bytes) -> None:
            frames.append(message)
            if len(frames) == 1:
                page_side.send(message)

        server_side.on_message(first_only)

    dan.page.route_web_socket(re.compile("/ws/swarms"), late)
    dan.page.get_by_role("link", name="Swarm board").click()
    request = dan.page.locator(f'.request[data-case="{case_id}"]')
    expect(request).to_be_visible()
    resolved = ana.api("POST", f"/api/cases/{case_id}/resolve", {"summary": "Fixed upstream"})
    assert resolved.status_code == 200, resolved.text
    request.get_by_role("button", name="Offer help").click()
    refusal = request.get_by_role("alert")
    expect(refusal).to_contain_text("40")  # 403 or 404: the rules, or no longer visible
    after = case_of(ana, case_id)
    assert after["version"] == before + 1  # the resolution only
    assert dan.agent_id not in after["participants"]
    assert dan.page.url.endswith("/board")

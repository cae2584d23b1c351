"""Usable by everyone: axe-core (from npm, injected from this checkout, never a CDN) finds
no serious or critical violation on any screen, on a desktop and at 375 px wide (where
nothing scrolls sideways); the case room works from the keyboard alone, with a visible
focus ring. The README's screenshots come from here
(`SWARMDESK_SCREENSHOTS=docs/screenshots` saves them there; else to a temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from domain.actors import Role
from tests.browser.conftest import People
from tests.browser.harness import Person


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("SWARMDESK_SCREENSHOTS") or tmp_path)


def swarm(ana: Person, ben: Person, chen: Person) -> str:
    """A case in full swing: briefing, a raised hand, two experts, insights, a proposal,
    and an invitation pending for Chen."""
    opened = ana.api(
        "POST",
        "/api/cases",
        {
            "customer": "Acme Corp",
            "subject": "Checkout fails after the 3-D Secure challenge",
            "description": "Every EU card payment returns card_declined since 09:40 UTC.",
            "priority": "high",
            "product_area": "payments",
        },
    )
    case_id = str(opened.json()["case_id"])
    base = f"/api/cases/{case_id}"
    steps: list[tuple[Person, str, str, Any]] = [
        (ana, "POST", "/context", {"kind": "symptom", "text": "HTTP 402 after the 3DS step"}),
        (ana, "POST", "/context", {"kind": "environment", "text": "EU region, API 2024-06"}),
        (ana, "POST", "/context", {"kind": "step_tried", "text": "Test card: same error"}),
        (ana, "POST", "/customer-messages", {"direction": "inbound", "text": "Still failing"}),
        (ana, "POST", "/swarm", {"help_needed": "3DS retry path", "skills_wanted": ["3ds"]}),
        (ben, "POST", "/participants", {}),
        (ben, "POST", "/briefing-acks", {"version": 7}),
        (ben, "POST", "/insights", {"kind": "finding", "text": "The retry drops the 3DS result"}),
        (ana, "POST", "/invitations", {"expert_id": chen.agent_id, "reason": "SSO proxy?"}),
    ]
    for person, method, path, body in steps:
        answer = person.api(method, base + path, body)
        assert answer.status_code == 200, (path, answer.text)
    insight = ana.api("GET", base).json()["insights"][-1]["id"]
    proposed = ben.api(
        "POST",
        f"{base}/proposals",
        {"summary": "Deploy the retry fix", "steps": ["Roll out 4.2.1"], "cites": [insight]},
    )
    assert proposed.status_code == 200, proposed.text
    return case_id


def check(person: Person, what: str) -> None:
    serious = person.axe()
    assert serious == [], f"{what}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in serious
    )
    width = person.page.evaluate("() => document.documentElement.scrollWidth")
    viewport = person.page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"{what} scrolls sideways ({width} px)"


def settle(page: Page) -> None:
    expect(page.locator("main")).not_to_contain_text("Loading")


@pytest.mark.parametrize("width", [1280, 375])
def test_every_screen_passes_axe_at_desktop_and_phone_width(
    people: People, width: int, shots: Path
) -> None:
    size = {"width": width, "height": 900 if width > 400 else 812}
    ana, ben = people("Ana", **size), people("Ben", **size)
    chen, sam = people("Chen", **size), people("Sam", Role.SUPERVISOR, **size)
    case_id = swarm(ana, ben, chen)
    suffix = "" if width > 400 else "-phone"

    ana.goto("/")
    expect(ana.page.locator(f'tr[data-case="{case_id}"]')).to_contain_text("1 expert")
    check(ana, "my cases")
    ana.page.screenshot(path=shots / f"my-cases{suffix}.png")

    ana.goto(f"/cases/{case_id}")
    expect(ana.page.locator(".proposal")).to_be_visible()
    check(ana, "the owner's case room")
    ana.page.screenshot(path=shots / f"case-room{suffix}.png", full_page=True)

    ben.goto(f"/cases/{case_id}")
    expect(ben.page.locator(".room .new-mark").first).to_be_visible()
    check(ben, "an expert's case room with what is new")

    ana.goto(f"/cases/{case_id}?at_version=3")
    expect(ana.page.get_by_text("as it stood at version 3")).to_be_visible()
    check(ana, "the case as it stood")

    chen.goto("/inbox")
    expect(chen.page.locator(f'.inbox-item[data-case="{case_id}"]')).to_be_visible()
    check(chen, "the inbox")
    chen.page.screenshot(path=shots / f"inbox{suffix}.png")

    chen.goto("/board")
    expect(chen.page.locator(f'.request[data-case="{case_id}"]')).to_be_visible()
    check(chen, "the swarm board")
    chen.page.screenshot(path=shots / f"board{suffix}.png")

    sam.goto("/supervisor")
    expect(sam.page.locator(f'tr[data-case="{case_id}"]')).to_be_visible()
    check(sam, "the supervisor's cases")


def test_the_case_room_works_from_the_keyboard_with_a_visible_focus(people: People) -> None:
    ana, ben, chen = people("Ana"), people("Ben"), people("Chen")
    case_id = swarm(ana, ben, chen)
    ben.goto(f"/cases/{case_id}")
    page = ben.page
    expect(page.locator(".insights li")).to_have_count(1)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")

    def tab_to(label: str) -> None:
        for _ in range(80):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.labels?.[0]?.textContent || e.textContent || ''; }"
            )
            if focused.strip() == label:
                outline = page.evaluate(
                    "() => getComputedStyle(document.activeElement).outlineStyle"
                )
                assert outline != "none", f"no visible focus on {label}"
                return
        raise AssertionError(f"Tab never reached {label!r}")

    tab_to("Insight")
    page.keyboard.type("Only EU cards carry the 3DS v2 flag")
    tab_to("Post insight")
    page.keyboard.press("Enter")
    ana.goto(f"/cases/{case_id}")
    expect(ana.page.locator(".insights li").filter(has_text="Only EU cards")).to_be_visible()
    expect(page.locator(".insights li")).to_have_count(2)

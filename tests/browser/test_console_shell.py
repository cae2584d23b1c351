"""The console is served at `/` and at its deep links, loads nothing from another host,
signs people in with a login link, and a case opened from it lands in its live room."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, expect

from tests.browser.conftest import People
from tests.e2e.server import Server


def test_the_console_is_served_at_its_paths_with_the_csp(console_server: Server) -> None:
    base = console_server.base_url
    pages = [httpx.get(f"{base}{path}", timeout=5) for path in ("/", "/inbox", "/cases/x")]
    for page in pages:
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
    script = re.search(r'src="(/assets/[^"]+\.js)"', pages[0].text)
    assert script is not None, pages[0].text
    asset = httpx.get(base + script.group(1), timeout=5)
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    assert httpx.get(f"{base}/assets/..%2Fsecret", timeout=5).status_code == 404
    assert httpx.get(f"{base}/assets/nothing.js", timeout=5).status_code == 404


def test_a_browser_without_a_session_is_told_how_to_sign_in(
    browser: Browser, console_server: Server
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(console_server.base_url + "/cases/00000000-0000-4000-8000-000000000000")
        expect(page.get_by_role("heading", name="Sign in to Swarmdesk")).to_be_visible()
        expect(page.get_by_text("swarmdesk login-link")).to_be_visible()
    finally:
        context.close()


def test_a_case_opened_in_the_console_lands_in_its_live_room_and_deep_links_work(
    people: People,
) -> None:
    ana = people("Ana")
    page = ana.page
    page.get_by_role("button", name="Open a case").click()
    page.get_by_label("Customer").fill("Acme Corp")
    page.get_by_label("Subject").fill("Checkout fails after 3DS")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Open", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Checkout fails after 3DS", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    case_url = page.url

    # a deep link (a notification's) opens the room straight away, in a fresh page
    other = ana.context.new_page()
    other.goto(case_url)
    expect(other.get_by_role("heading", name="Checkout fails after 3DS", level=1)).to_be_visible()
    other.close()

    # and the case is in "My cases"
    page.get_by_role("link", name="My cases").click()
    expect(page.get_by_role("link", name="Checkout fails after 3DS")).to_be_visible()

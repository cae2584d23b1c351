"""The console's browser-test harness: Debian's Chromium (`/usr/bin/chromium`, installed by
`scripts/test.sh`; never a downloaded browser) driven by Playwright, one browser and one
server for the whole session, one browser context (cookies, sockets) per person.

A person signs in the way people do: a login link (`swarmdesk login-link`'s token) opened
in their browser, which redeems it into the session cookie and lands on the console. The
same person also has a bearer token for setting a scene over HTTP faster than clicking.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    ViewportSize,
    expect,
    sync_playwright,
)

from app.auth.sessions import link_token
from domain.actors import Role
from domain.agent import agent_id_for
from tests.e2e.server import SECRET, Server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SWARMDESK_TEST_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
# The flags these machines need: no sandbox as root, no network but loopback.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


def launch() -> Generator[Browser, None, None]:
    """Debian's Chromium, headless, for the whole session."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        raise RuntimeError(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Person:
    """Someone at a browser: their page, and what they are called."""

    server: Server
    subject: str
    name: str
    role: Role
    context: BrowserContext
    page: Page
    foreign: list[str] = field(default_factory=list)  # requests to any other host

    @property
    def agent_id(self) -> str:
        return str(agent_id_for(self.subject))

    @property
    def url(self) -> str:
        return self.server.base_url

    def api(self, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
        """A command or query as this person over HTTP (bearer token), to set a scene."""
        token = self.server.issuer.issue(self.subject, self.role, name=self.name)
        sent = {"Authorization": f"Bearer {token}", **headers}
        if body is not None:
            sent["Content-Type"] = "application/json"
        return httpx.request(
            method,
            self.url + path,
            headers=sent,
            content=None if body is None else json.dumps(body),
            timeout=10,
        )

    def goto(self, path: str) -> None:
        self.page.goto(self.url + path)

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's violations of serious or critical impact on the page as it is."""
        result = self.page.evaluate(
            "async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations"
        )
        return [v for v in result if v.get("impact") in ("serious", "critical")]


def sign_in(
    browser: Browser,
    server: Server,
    name: str,
    role: Role = Role.AGENT,
    *,
    width: int = 1280,
    height: int = 900,
    axe: bool = True,
) -> Person:
    """A new browser context signed in as a new person called `name` (unique subject);
    with `axe`, every page of it loads axe-core first (the benchmarks leave it out)."""
    subject = f"{name.lower()}-{uuid.uuid4().hex[:8]}"
    viewport: ViewportSize = {"width": width, "height": height}
    context = browser.new_context(viewport=viewport, base_url=server.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    if axe:
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    person = Person(server, subject, name, role, context, page)

    def outside(request: Request) -> None:
        if not request.url.startswith((server.base_url, server.ws_url, "data:")):
            person.foreign.append(request.url)

    page.on("request", outside)
    # the profile, so pickers and names work as for a real agent
    assert person.api("PUT", "/api/agents/me", {"name": name}).status_code in (200, 201)
    link = link_token(SECRET, 300, subject, role, name)
    page.goto(f"{server.base_url}/auth/link?{urlencode({'token': link})}")
    page.wait_for_url(f"{server.base_url}/")
    page.get_by_role("heading", name="My cases").wait_for()
    return person

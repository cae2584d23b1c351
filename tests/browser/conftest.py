"""One server (PostgreSQL, the production store) and one Chromium for all the browser tests
(package scope: Playwright's sync API holds an event loop in this thread while it runs, so
it must be gone before other packages' asyncio tests run)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser

from domain.actors import Role
from tests.browser.harness import Person, launch, sign_in
from tests.e2e.server import Server, running_server


@pytest.fixture(scope="package")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server("postgres", tmp_path_factory.mktemp("console")) as server:
        yield server


@pytest.fixture(scope="package")
def browser(console_server: Server) -> Iterator[Browser]:
    """Started after the server and stopped before it: Playwright's sync API keeps an
    event loop in this thread while it runs, and the server's set-up uses asyncio.run."""
    yield from launch()


People = Callable[..., Person]


@pytest.fixture
def people(browser: Browser, console_server: Server) -> Iterator[People]:
    """`people("Ana")` signs a new person in, in a browser context of their own."""
    made: list[Person] = []

    def make(name: str, role: Role = Role.AGENT, width: int = 1280, height: int = 900) -> Person:
        person = sign_in(browser, console_server, name, role, width=width, height=height)
        made.append(person)
        return person

    yield make
    for person in made:
        assert person.foreign == [], f"{person.name}'s console loaded from another host"
        person.context.close()

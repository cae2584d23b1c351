"""One server (PostgreSQL, the production store) and one Chromium for every browser test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser

from domain.actors import Role
from tests.browser.harness import Person, launch, sign_in
from tests.e2e.server import Server, running_server


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server("postgres", tmp_path_factory.mktemp("console")) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    yield from launch()


People = Callable[..., Person]


@pytest.fixture
def people(browser: Browser, console_server: Server) -> Iterator[People]:
    """`people("Ana")` signs a new person in, in a browser context of their own."""
    made: list[Person] = []

    def make(name: str, role: Role = Role.AGENT, **viewport: int) -> Person:
        person = sign_in(browser, console_server, name, role, **viewport)
        made.append(person)
        return person

    yield make
    for person in made:
        assert person.foreign == [], f"{person.name}'s console loaded from another host"
        person.context.close()

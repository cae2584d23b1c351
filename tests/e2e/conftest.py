"""One real server per backend for the whole session (tests use unique ids, not cleanup)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, running_server


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(request.param, tmp_path_factory.mktemp(f"srv-{request.param}")) as srv:
        yield srv


@pytest.fixture
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Two servers on one PostgreSQL schema; only the first may run the projector."""
    with (
        running_server("postgres", tmp_path_factory.mktemp("a")) as first,
        running_server(
            "postgres", tmp_path_factory.mktemp("b"), share=first, SWARMDESK_PROJECTOR="false"
        ) as second,
    ):
        yield first, second

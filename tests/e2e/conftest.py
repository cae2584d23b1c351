"""One real server per backend for the whole session (tests use unique ids, not cleanup)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, running_server
from tests.oidc_provider import (
    AUDIENCE,
    CLIENT_SECRET,
    ROLE_MAP,
    ROLES_CLAIM,
    Provider,
    running_provider,
)


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


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The real OpenID provider (oidc-provider under node), shared by the session."""
    with running_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def oidc_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    oidc_provider: Provider,
) -> Iterator[Server]:
    """A server that trusts the provider (bearer tokens, browser sign-in), per backend,
    logging at INFO so its whole output can be searched for credentials."""
    workdir = tmp_path_factory.mktemp(f"oidc-{request.param}")
    with running_server(
        request.param,
        workdir,
        SWARMDESK_OIDC_ISSUER=oidc_provider.issuer,
        SWARMDESK_OIDC_AUDIENCE=AUDIENCE,
        SWARMDESK_OIDC_ROLES_CLAIM=ROLES_CLAIM,
        SWARMDESK_OIDC_ROLE_MAP=ROLE_MAP,
        SWARMDESK_OIDC_CLIENT_ID="swarmdesk",
        SWARMDESK_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        SWARMDESK_OIDC_JWKS_REFETCH_SECONDS="1",
        SWARMDESK_LOG_LEVEL="info",
    ) as srv:
        yield srv

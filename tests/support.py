"""Shared test helpers: real databases, fresh tables per test, unique ids."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlparse

import pytest

PG_URL = os.environ.get(
    "SWARMDESK_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def postgres_reachable() -> bool:
    parsed = urlparse(PG_URL.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), 1):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    """Under CI=true a missing server fails the test; elsewhere it skips it."""
    if postgres_reachable():
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} and CI=true: tests must run")
    pytest.skip(f"no PostgreSQL server reachable at {PG_URL}")


def fresh_schema() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


def drop_schema_sql(schema: str) -> str:
    return f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'

"""Sessions and login links in the database, on SQLite and PostgreSQL: a session lives
while used (use past half its idle time renews it), ends idle, at its maximum age or at
sign-out; a login link opens one session, once, even when redeemed twice at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.sessions import LoginLinks, SessionStore
from app.auth.tokens import AuthError, Principal
from app.settings import SessionSettings
from domain.actors import Role
from projections.db import create_views_engine
from tests.conftest import Database

ANA = Principal("ana", "Ana", Role.AGENT)


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_views_engine(database.url, schema=database.schema)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_session_lives_while_used_and_ends_idle(engine: AsyncEngine) -> None:
    store = SessionStore(engine, SessionSettings(idle_seconds=2, max_seconds=60))
    cookie = await store.open(ANA)
    assert await store.principal(cookie) == ANA
    await asyncio.sleep(1.2)
    assert await store.principal(cookie) == ANA  # past half its idle time: renewed
    await asyncio.sleep(1.2)  # 2.4 s after opening, 1.2 s after the renewal
    assert await store.principal(cookie) == ANA
    await asyncio.sleep(2.2)
    with pytest.raises(AuthError, match="expired"):
        await store.principal(cookie)


async def test_a_session_ends_at_its_maximum_age_and_at_sign_out(engine: AsyncEngine) -> None:
    store = SessionStore(engine, SessionSettings(idle_seconds=60, max_seconds=1))
    old = await store.open(ANA)
    await asyncio.sleep(1.1)
    with pytest.raises(AuthError, match="expired"):
        await store.principal(old)
    lasting = SessionStore(engine, SessionSettings())
    cookie = await lasting.open(ANA)
    other = await lasting.open(ANA)
    await lasting.end(cookie)
    with pytest.raises(AuthError, match="signed out"):
        await lasting.principal(cookie)
    assert await lasting.principal(other) == ANA  # one browser's sign-out only
    with pytest.raises(AuthError):
        await lasting.principal("not-a-session")


async def test_a_login_link_works_once_even_redeemed_twice_at_once(
    engine: AsyncEngine,
) -> None:
    links = LoginLinks(engine, "s" * 40, ttl_seconds=60)
    link = links.issue("ana", Role.SUPERVISOR, "Ana")
    results = await asyncio.gather(links.redeem(link), links.redeem(link), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["AuthError", "Principal"]
    with pytest.raises(AuthError, match="used"):
        await links.redeem(link)
    other = links.issue("bo", Role.AGENT)
    assert (await links.redeem(other)).subject == "bo"  # each link its own
    forged = LoginLinks(engine, "t" * 40, ttl_seconds=60).issue("ana", Role.ADMIN)
    with pytest.raises(AuthError, match="invalid"):
        await links.redeem(forged)
    expired = LoginLinks(engine, "s" * 40, ttl_seconds=1).issue("ana", Role.AGENT)
    await asyncio.sleep(1.1)
    with pytest.raises(AuthError, match="expired"):
        await links.redeem(expired)

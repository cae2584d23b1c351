"""Browser sessions and one-time login links, kept in the database (migration 0005), so
several API processes share them and a sign-out ends a session everywhere.

Contract:
- `open` returns a new session's cookie value (32 random bytes, URL-safe); only its
  SHA-256 is stored. The browser never holds a provider's token: a session names the
  principal it was opened for, nothing else.
- `principal(cookie)` is the session's principal while it lives: used within
  `idle_seconds` of its last renewal and younger than `max_seconds`; using it past half
  its idle time renews it. Else, or after `end`, `AuthError`.
- `LoginLinks.issue` signs a short-lived link token (HS256 with the service secret, a
  random `jti`, `typ` "login-link"); `redeem` verifies it and records its `jti` in
  `login_links_used` (primary key): a second redemption, here or in another process,
  is refused.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.tokens import AuthError, Principal
from app.settings import SessionSettings
from domain.actors import Role

metadata = sa.MetaData()
sessions_table = sa.Table(
    "sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("renewed_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float, nullable=True),
)
login_links_used = sa.Table(
    "login_links_used",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("used_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

LINK_TYPE = "login-link"


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


class SessionStore:
    """Sessions in the database (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, settings: SessionSettings) -> None:
        self.engine = engine
        self.settings = settings

    async def open(self, principal: Principal) -> str:
        cookie = secrets.token_urlsafe(32)
        now = time.time()
        async with self.engine.begin() as conn:
            await conn.execute(
                sessions_table.insert().values(
                    id_hash=_digest(cookie),
                    subject=principal.subject,
                    name=principal.name,
                    role=principal.role.value,
                    created_at=now,
                    renewed_at=now,
                )
            )
            # Sessions past their maximum age are never valid again: drop them as we go.
            cutoff = now - self.settings.max_seconds
            await conn.execute(sessions_table.delete().where(sessions_table.c.created_at < cutoff))
        return cookie

    async def principal(self, cookie: str) -> Principal:
        now = time.time()
        table = sessions_table
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(table).where(table.c.id_hash == _digest(cookie)))
            ).first()
            if row is None or row.ended_at is not None:
                raise AuthError("no such session (signed out or never opened)")
            if now - row.created_at > self.settings.max_seconds:
                raise AuthError("the session has expired")
            if now - row.renewed_at > self.settings.idle_seconds:
                raise AuthError("the session has expired")
            if now - row.renewed_at > self.settings.idle_seconds / 2:
                await conn.execute(
                    table.update().where(table.c.id_hash == row.id_hash).values(renewed_at=now)
                )
                await conn.commit()
        return Principal(row.subject, row.name, Role(row.role))

    async def end(self, cookie: str) -> None:
        table = sessions_table
        async with self.engine.begin() as conn:
            await conn.execute(
                table.update()
                .where(table.c.id_hash == _digest(cookie), table.c.ended_at.is_(None))
                .values(ended_at=time.time())
            )


def _link_key(secret: str) -> str:
    """A key of its own: a link is never a bearer token, nor a token a link."""
    return hashlib.sha256(f"{LINK_TYPE}:{secret}".encode()).hexdigest()


def link_token(secret: str, ttl_seconds: int, subject: str, role: Role, name: str = "") -> str:
    """A login link's token (`swarmdesk login-link` prints it in a URL)."""
    now = int(time.time())
    claims = {
        "typ": LINK_TYPE,
        "jti": uuid.uuid4().hex,
        "sub": subject,
        "name": name or subject,
        "role": role.value,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, _link_key(secret), algorithm="HS256")


@dataclass(frozen=True, slots=True)
class LoginLinks:
    """One-time, short-lived login links (see the module docstring)."""

    engine: AsyncEngine
    secret: str
    ttl_seconds: int

    def issue(self, subject: str, role: Role, name: str = "") -> str:
        return link_token(self.secret, self.ttl_seconds, subject, role, name)

    @property
    def _key(self) -> str:
        return _link_key(self.secret)

    async def redeem(self, link: str) -> Principal:
        try:
            claims = jwt.decode(
                link,
                self._key,
                algorithms=["HS256"],
                options={"require": ["exp", "jti", "sub", "role", "typ"]},
            )
            role = Role(str(claims["role"]))
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the login link has expired") from exc
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise AuthError("invalid login link") from exc
        if claims["typ"] != LINK_TYPE or not isinstance(claims["jti"], str):
            raise AuthError("invalid login link")
        now = time.time()
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    login_links_used.delete().where(login_links_used.c.expires_at < now)
                )
                await conn.execute(
                    login_links_used.insert().values(
                        jti=claims["jti"][:64], used_at=now, expires_at=float(claims["exp"])
                    )
                )
        except IntegrityError as exc:
            raise AuthError("the login link was used already") from exc
        subject, name = str(claims["sub"]), str(claims.get("name") or claims["sub"])
        return Principal(subject, name, role)

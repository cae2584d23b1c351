"""Webhook subscriptions: register (with a fresh `whsec_` secret, shown once), list,
delete, the delivery log, and replay from a stream position.

Who: an agent registers receivers for its own notifications; an admin may register one
for every agent's (`all_agents`). A subscription is visible to its owner and to admins;
to anyone else it does not exist (`ResourceNotFound`). A URL must be http(s) with a host,
and must not point at this service itself (its own host and port, or a loopback name
with its port): `InvalidParameter`.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.notify.plan import KINDS
from app.service.errors import InvalidParameter, NotPermitted, ResourceNotFound
from app.service.tables import deliveries, webhook_subscriptions
from domain.actors import Actor

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def check_url(url: str, own: Iterable[str]) -> str:
    """`url` if acceptable (see the module docstring); `own`: the service's base URLs."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter("a webhook URL must be http(s) with a host", url=url)
    if parts.username or parts.password:
        raise InvalidParameter("a webhook URL must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidParameter("the webhook URL's port is not a number", url=url) from None
    host = parts.hostname.lower()
    for base in own:
        mine = urlsplit(base)
        my_port = mine.port or (443 if mine.scheme == "https" else 80)
        if port == my_port and (host == (mine.hostname or "").lower() or _local(host)):
            raise InvalidParameter("a webhook URL must not point at this service", url=url)
    return url.strip()


def _local(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Subscriptions:
    """See the module docstring."""

    def __init__(self, engine: AsyncEngine, own_urls: Iterable[str]) -> None:
        self.engine = engine
        self.own_urls = list(own_urls)

    async def create(
        self, actor: Actor, url: str, events: list[str], all_agents: bool, also: Iterable[str] = ()
    ) -> dict[str, Any]:
        """`also`: more addresses of this service (the one the request came to)."""
        if all_agents and not actor.is_admin:
            raise NotPermitted("only an admin subscribes to every agent's notifications")
        unknown = [e for e in events if e not in KINDS]
        if unknown:
            raise InvalidParameter(f"unknown notification kind {unknown[0]!r}", events=events)
        row = {
            "id": str(uuid.uuid4()),
            "owner_id": "" if all_agents else str(actor.id),
            "url": check_url(url, [*self.own_urls, *also]),
            "secret": new_secret(),
            "events": json.dumps(list(dict.fromkeys(events))),
            "created_at": time.time(),
        }
        async with self.engine.begin() as conn:
            await conn.execute(sa.insert(webhook_subscriptions).values(**row))
        return _public(row) | {"secret": row["secret"]}

    async def get(self, actor: Actor, sub_id: uuid.UUID) -> dict[str, Any]:
        s = webhook_subscriptions
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(s).where(s.c.id == str(sub_id)))).first()
        if row is None or not (actor.is_admin or row.owner_id == str(actor.id)):
            raise ResourceNotFound("subscription", sub_id)
        return dict(row._mapping)

    async def mine(self, actor: Actor) -> list[dict[str, Any]]:
        s = webhook_subscriptions
        query = sa.select(s).order_by(s.c.created_at, s.c.id)
        if not actor.is_admin:
            query = query.where(s.c.owner_id == str(actor.id))
        async with self.engine.connect() as conn:
            return [_public(dict(r._mapping)) for r in await conn.execute(query)]

    async def delete(self, actor: Actor, sub_id: uuid.UUID) -> None:
        await self.get(actor, sub_id)
        async with self.engine.begin() as conn:
            s = webhook_subscriptions
            await conn.execute(sa.delete(s).where(s.c.id == str(sub_id)))

    async def log(
        self, actor: Actor, sub_id: uuid.UUID, after: int, limit: int
    ) -> list[dict[str, Any]]:
        """The subscription's deliveries with position > `after`, oldest first."""
        await self.get(actor, sub_id)
        d = deliveries
        query = (
            sa.select(d.c.id, d.c.position, d.c.kind, d.c.status, d.c.attempts,
                      d.c.last_status, d.c.next_at, d.c.first_at, d.c.delivered_at)
            .where(d.c.target == str(sub_id), d.c.position > after)
            .order_by(d.c.position, d.c.id)
            .limit(limit)
        )  # fmt: skip
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def replay(self, actor: Actor, sub_id: uuid.UUID, after: int) -> int:
        """Send again, with their ids, the subscription's deliveries after `after`: the
        number set to go (a fresh retry budget each)."""
        await self.get(actor, sub_id)
        now = time.time()
        d = deliveries
        stmt = (
            sa.update(d)
            .where(d.c.target == str(sub_id), d.c.position > after)
            .values(status="pending", next_at=now, first_at=now, attempts=0, last_status="")
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": json.loads(row["events"]),
        "all_agents": row["owner_id"] == "",
        "owner_id": row["owner_id"] or None,
        "created_at": row["created_at"],
    }

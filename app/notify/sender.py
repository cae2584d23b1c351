"""Sending due deliveries: webhooks signed per Standard Webhooks, e-mail over SMTP.

`Sender.run()` keeps up to `concurrency` deliveries in flight, at most `per_subscriber`
of them to one target, each bounded by `timeout_seconds`: a receiver that answers slowly
or never holds only its own slots, so the others go on at full rate, and nothing waits
for a batch to finish. Due deliveries are read oldest first, skipping those in flight;
outcomes are written back in batches. A 2xx answer (or an accepted e-mail) marks a
delivery delivered; anything else (status, timeout, connection error) schedules the next
attempt after the back-off `retry_schedule` (seconds; the last step repeats) until
`retry_hours` have passed since the first try, then marks it failed. The `webhook-id`
is the delivery's id on every attempt, so receivers deduplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import aiohttp
import aiosmtplib
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from app.matching_settings import NotifySettings
from app.notify.mail import compose
from app.service.tables import deliveries, webhook_subscriptions
from projections.tables import case_views

log = logging.getLogger("swarmdesk.notify")

Outcome = tuple[str, bool, str]  # (delivery id, delivered, last status)


def backoff(attempts: int, schedule: list[float]) -> float:
    """Seconds before retry number `attempts` (1 = the first retry)."""
    return schedule[min(attempts, len(schedule)) - 1]


class Sender:
    """See the module docstring."""

    def __init__(
        self, engine: AsyncEngine, settings: NotifySettings, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.schedule = [float(s) for s in settings.retry_schedule.split(",") if s.strip()]
        self.in_flight: dict[str, str] = {}  # delivery id -> target
        self.per_target: dict[str, int] = {}
        self.outcomes: list[tuple[dict[str, Any], Outcome]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.signers: dict[str, Webhook] = {}
        self.sent = 0
        self.failed_attempts = 0
        self.wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(self.tasks)
        if self._session is not None:
            await self._session.close()

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.settings.concurrency, limit_per_host=0)
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._session

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set."""
        while not stop.is_set():
            await self.step()
            pending = self.tasks
            if pending:
                await asyncio.wait(pending, timeout=0.005, return_when=asyncio.FIRST_COMPLETED)
                await asyncio.sleep(0.002)  # gather a few outcomes per write
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.settings.poll_seconds)
                self.wake.clear()

    async def step(self) -> int:
        """Write the outcomes gathered so far, then start what is due; how many started."""
        await self.flush()
        free = self.settings.concurrency - len(self.tasks)
        if free <= 0:
            return 0
        full = [t for t, n in self.per_target.items() if n >= self.settings.per_subscriber]
        rows = await self._due(free + len(self.in_flight), full)  # in flight: skipped
        started = 0
        for row in rows:
            if started >= free:
                break
            target = row["target"]
            if row["id"] in self.in_flight:
                continue
            if self.per_target.get(target, 0) >= self.settings.per_subscriber:
                continue
            self.in_flight[row["id"]] = target
            self.per_target[target] = self.per_target.get(target, 0) + 1
            task = asyncio.create_task(self._send(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started

    async def _due(self, limit: int, full: list[str]) -> list[dict[str, Any]]:
        """Due deliveries, oldest first, but none to a target whose slots are all taken
        (a hanging receiver's backlog must not fill the window of the others)."""
        d, s = deliveries, webhook_subscriptions
        query = (
            sa.select(
                d.c.id, d.c.channel, d.c.target, d.c.payload, d.c.attempts, d.c.first_at,
                s.c.url, s.c.secret,
            )
            .select_from(d.outerjoin(s, s.c.id == d.c.target))
            .where(d.c.status == "pending", d.c.next_at <= self.clock())
            .order_by(d.c.next_at, d.c.id)
            .limit(limit)
        )  # fmt: skip
        if full:
            query = query.where(d.c.target.not_in(full))
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def _send(self, row: dict[str, Any]) -> None:
        try:
            if row["channel"] == "email":
                outcome = await self._email(row)
            else:
                outcome = await self._webhook(row)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # recorded as the attempt's outcome, retried later
            outcome = (row["id"], False, f"error: {type(exc).__name__}")
        finally:  # its slot is free; it stays in `in_flight` until its outcome is written
            target = row["target"]
            self.per_target[target] = self.per_target.get(target, 1) - 1
            if self.per_target[target] <= 0:
                self.per_target.pop(target, None)
        self.outcomes.append((row, outcome))

    async def _webhook(self, row: dict[str, Any]) -> Outcome:
        if row["url"] is None:
            return (row["id"], False, "gone: subscription deleted")
        signer = self.signers.get(row["secret"])
        if signer is None:
            signer = self.signers[row["secret"]] = Webhook(row["secret"])
        now = datetime.now(UTC)
        body = row["payload"].encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": row["id"],
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(row["id"], now, body),
        }
        try:
            async with self.session().post(row["url"], data=body, headers=headers) as answer:
                await answer.read()
                return (row["id"], 200 <= answer.status < 300, str(answer.status))
        except TimeoutError:
            return (row["id"], False, "timeout")
        except aiohttp.ClientError as exc:
            return (row["id"], False, f"error: {type(exc).__name__}")

    async def _email(self, row: dict[str, Any]) -> Outcome:
        s = self.settings
        if not s.smtp_host:
            return (row["id"], False, "error: no SMTP server configured")
        query = sa.select(case_views.c.doc).where(
            case_views.c.view == "agent", case_views.c.key == row["target"]
        )
        async with self.engine.connect() as conn:
            profile = (await conn.execute(query)).scalar()
        address = json.loads(profile).get("email", "") if profile else ""
        if not address:
            return (row["id"], False, "gone: no address")
        msg: EmailMessage = compose(row["id"], row["payload"], s.smtp_from, address)
        await aiosmtplib.send(
            msg,
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            use_tls=s.smtp_tls,
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() or None,
            timeout=s.timeout_seconds,
        )
        return (row["id"], True, "250")

    async def flush(self) -> None:
        """Write the outcomes gathered so far (one transaction)."""
        if not self.outcomes:
            return
        outcomes, self.outcomes = self.outcomes, []
        now = self.clock()
        give_up = self.settings.retry_hours * 3600
        updates = []
        for row, (ident, ok, status) in outcomes:
            attempts = row["attempts"] + 1
            if ok:
                self.sent += 1
                values = {"status": "delivered", "next_at": now, "delivered_at": now}
            else:
                self.failed_attempts += 1
                gone = status.startswith("gone") or now - row["first_at"] >= give_up
                next_at = now + backoff(attempts, self.schedule)
                values = {"status": "failed" if gone else "pending", "next_at": next_at,
                          "delivered_at": None}  # fmt: skip
            updates.append({"b_id": ident, "attempts": attempts, "last_status": status, **values})
        d = deliveries
        stmt = (
            sa.update(d)
            .where(d.c.id == sa.bindparam("b_id"))
            .values(
                status=sa.bindparam("status"),
                attempts=sa.bindparam("attempts"),
                next_at=sa.bindparam("next_at"),
                last_status=sa.bindparam("last_status"),
                delivered_at=sa.bindparam("delivered_at"),
            )
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt, updates)
        for row, _ in outcomes:  # written: `_due` may see them again (as retries)
            self.in_flight.pop(row["id"], None)

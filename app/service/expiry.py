"""Invitations that resolve themselves: an unanswered invitation expires as an event.

A timer part (`app.service.timekeeper`): `InvitationExpiry` follows the log (tracking row
"timers", `app.service.follower`): an `ExpertInvited` with `expires_at` schedules a
durable timer of kind "invitation-expiry" (`app.service.timers`, key
`invitation-expiry:<invitation id>`, due at `expires_at`) in the transaction that moves
its position; `InvitationDeclined`, `InvitationExpired` and `ExpertJoined` by that
invitation cancel it. When it is due, the process's one timer runner runs
`Case.expire_invitation` as the system (an admin principal, subject `swarmdesk:timers`)
with the idempotency key `swarmdesk:timers:invitation-expiry:<invitation id>`: the
domain refuses a second expiry and a settled invitation, and appends are checked against
the case version, so the event is appended once, across processes and after a restart
(a runner that dies between the append and marking the timer fired hands it over
again; the second append appends nothing). An answer that refuses (settled, withdrawn,
the case gone) settles the timer too; a version conflict is retried.

Until revision 0016 these timers had a table and a leader of their own
(`invitation_timers`, lock "invitation-timers"); that revision moved the pending ones
into `timers`, keeping their key and so their idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth.tokens import Principal
from app.service.cases import CaseService
from app.service.clock import Clock
from app.service.context import CommandContext
from app.service.errors import ApplicationError
from app.service.follower import LogFollower
from app.service.timers import Handler, Timer, Timers
from app.store import EventStore
from app.store.codec import decode, event_name
from app.store.types import RecordedEvent
from domain.actors import Role
from domain.errors import DomainError

__all__ = ["KIND", "SYSTEM", "InvitationExpiry", "timer_key"]

log = logging.getLogger("swarmdesk.timers")

KIND = "invitation-expiry"
SYSTEM = Principal(subject="swarmdesk:timers", name="Swarmdesk", role=Role.ADMIN)
TRACKING = "timers"  # the follower's tracking row (the name it had before 0016)
_SETTLING = frozenset(("InvitationDeclined", "InvitationExpired", "ExpertJoined"))


def timer_key(invitation_id: str) -> str:
    return f"{KIND}:{invitation_id}"


class InvitationExpiry:
    """See the module docstring."""

    def __init__(
        self,
        store: EventStore,
        timers: Timers,
        mapper: Mapper[UUID],
        cases: CaseService,
        clock: Clock,
        *,
        poll_seconds: float = 1.0,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.timers = timers
        self.mapper = mapper
        self.cases = cases
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.wake = wake  # the runner, after a commit that scheduled something
        self.follower = LogFollower(TRACKING, timers.engine, store.read, self._handle)
        self.leading = False
        self.expired = 0  # invitations this process expired (a metric)
        self._scheduled = False

    # -- a timer part (`app.service.timekeeper`) ---------------------------------------
    def timer_handlers(self) -> Mapping[str, Handler]:
        return {KIND: self.fire}

    def set_leading(self, leading: bool) -> None:
        self.leading = leading

    async def prepare(self) -> None:
        """Nothing: a timer due before the follower catches up meets the domain's rules."""

    async def follow(self) -> None:
        """Follow the log every `poll_seconds` until cancelled (a failing page is retried)."""
        while True:
            try:
                await self.catch_up()
            except Exception:
                log.exception("invitation expiry could not follow the log; retrying")
            await asyncio.sleep(self.poll_seconds)

    # -- scheduling from the log --------------------------------------------------------
    async def catch_up(self) -> int:
        """Follow the log to its end (timers scheduled and cancelled); the events read."""
        self._scheduled = False
        count = await self.follower.catch_up()
        if self._scheduled:
            self.wake()
        return count

    async def _handle(self, conn: AsyncConnection, rows: Sequence[RecordedEvent]) -> None:
        for row in rows:
            name = event_name(row.topic)
            if name == "ExpertInvited":
                e: Any = decode(self.mapper, row)
                if e.expires_at:
                    iid = str(e.invitation_id)
                    payload = {"case_id": str(row.originator_id), "invitation_id": iid}
                    due = datetime.fromisoformat(e.expires_at)
                    await self.timers.schedule(timer_key(iid), KIND, due, payload, conn=conn)
                    self._scheduled = True
            elif name in _SETTLING:
                settled = getattr(decode(self.mapper, row), "invitation_id", None)
                if settled is not None:
                    await self.timers.cancel(timer_key(str(settled)), conn=conn)

    # -- firing -------------------------------------------------------------------------
    async def fire(self, timer: Timer) -> None:
        """Expire the invitation (see the module docstring); a version conflict (or any
        other failure) raises, and the runner retries the timer."""
        invitation_id = UUID(timer.payload["invitation_id"])
        context = CommandContext(
            principal=SYSTEM,
            idempotency_key=f"{SYSTEM.subject}:{timer.key}",
            fingerprint=f"expire:{invitation_id}",
        )
        now = self.clock.now()
        with contextlib.suppress(DomainError, ApplicationError):  # answered, withdrawn, gone
            await self.cases.execute(
                UUID(timer.payload["case_id"]),
                context,
                lambda case, actor: case.expire_invitation(
                    actor, invitation_id=invitation_id, now=now
                ),
            )
            self.expired += 1

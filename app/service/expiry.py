"""Invitations that resolve themselves: an unanswered invitation expires as an event.

`InvitationTimers` follows the log (tracking row "timers", `app.service.follower`): an
`ExpertInvited` with `expires_at` schedules a durable timer (`app.service.expiry_timers`) keyed
by the invitation; `InvitationDeclined`, `InvitationExpired` and `ExpertJoined` by that
invitation cancel it. When it is due, the leader runs `Case.expire_invitation` as the
system (an admin principal, subject `swarmdesk:timers`) with the idempotency key
`timer:<invitation id>`: the domain refuses a second expiry and a settled invitation,
and appends are checked against the case version, so the event is appended once, across
processes and after a restart. `run()` leads under the "timers" lock (one process at a
time, lock "invitation-timers"), following the log and firing every `poll_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.auth.tokens import Principal
from app.service.cases import CaseService
from app.service.context import CommandContext
from app.service.errors import ApplicationError
from app.service.expiry_timers import Clock, Timers, cancel, schedule, system_clock
from app.service.follower import LogFollower
from app.store import EventStore, VersionConflict
from app.store.codec import decode, event_name
from app.store.types import RecordedEvent
from domain.actors import Role
from domain.errors import DomainError
from projections.leader import leadership

log = logging.getLogger("swarmdesk.timers")

KIND = "invitation-expiry"
SYSTEM = Principal(subject="swarmdesk:timers", name="Swarmdesk", role=Role.ADMIN)
_SETTLING = frozenset(("InvitationDeclined", "InvitationExpired", "ExpertJoined"))


def timer_id(invitation_id: str) -> str:
    return f"{KIND}:{invitation_id}"


class InvitationTimers:
    """See the module docstring."""

    def __init__(
        self,
        store: EventStore,
        engine: AsyncEngine,
        mapper: Mapper[UUID],
        cases: CaseService,
        *,
        schema: str | None = None,
        clock: Clock = system_clock,
        poll_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.mapper = mapper
        self.cases = cases
        self.schema = schema
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.follower = LogFollower("timers", engine, store.read, self._handle)
        self.timers = Timers(engine, {KIND: self._expire}, clock)

    async def _handle(self, conn: AsyncConnection, rows: Sequence[RecordedEvent]) -> None:
        for row in rows:
            name = event_name(row.topic)
            if name == "ExpertInvited":
                e: Any = decode(self.mapper, row)
                if e.expires_at:
                    due = datetime.fromisoformat(e.expires_at)
                    iid = str(e.invitation_id)
                    payload = {"invitation_id": iid}
                    await schedule(
                        self.engine, conn, timer_id(iid), KIND, str(row.originator_id), due,
                        payload,
                    )  # fmt: skip
            elif name in _SETTLING:
                e = decode(self.mapper, row)
                settled = getattr(e, "invitation_id", None)
                if settled is not None:
                    await cancel(conn, timer_id(str(settled)))

    async def _expire(self, key: str, payload: Mapping[str, Any]) -> bool:
        invitation_id = UUID(payload["invitation_id"])
        context = CommandContext(
            principal=SYSTEM,
            idempotency_key=f"{SYSTEM.subject}:{timer_id(str(invitation_id))}",
            fingerprint=f"expire:{invitation_id}",
        )
        now = self.clock()
        try:
            await self.cases.execute(
                UUID(key),
                context,
                lambda case, actor: case.expire_invitation(
                    actor, invitation_id=invitation_id, now=now
                ),
            )
        except (DomainError, ApplicationError):
            return True  # answered, withdrawn, or the case is gone: nothing to expire
        except VersionConflict:
            return False  # try again at the next tick
        return True

    async def step(self) -> int:
        """Follow the log to its end, then fire what is due; the timers settled."""
        await self.follower.catch_up()
        return await self.timers.tick()

    async def run(self) -> None:
        """Lead (one process at a time), then follow and fire every `poll_seconds`."""
        while True:
            try:
                async with leadership(self.engine, self.schema, name="invitation-timers") as lost:
                    while not lost.is_set():
                        try:
                            await self.step()
                        except Exception:
                            log.exception("invitation timers failed; retrying")
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(lost.wait(), self.poll_seconds)
            except Exception:  # the database went away: lead again once it is back
                log.exception("invitation timers lost their database; retrying")
                await asyncio.sleep(self.poll_seconds)

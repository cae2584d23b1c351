"""The notifier's log follower (tracking row "notify"): case events become `deliveries`
rows (`app.notify.plan`) in the transaction that moves its position, so each event is
planned once and a restart resumes after the last page committed.

It follows the log only as far as the views have reached (`views_position`), so the case
view (for the owner and subject) and the agent profiles (channels, quiet hours) it reads
are at least as new as the event. The first start begins at the end of the log: history
from before notifications existed is not sent (replay re-sends what was planned).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import Mapper
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.notify.plan import deliveries, message, notices
from app.service.clock import Clock
from app.service.follower import LogFollower, insert_new
from app.service.tables import deliveries as deliveries_table
from app.service.tables import tracking, webhook_subscriptions
from app.store import EventStore
from app.store.codec import decode, event_name
from app.store.types import RecordedEvent
from projections.case_items import PROPOSAL
from projections.tables import case_items, case_views

NOTIFYING = frozenset(
    ("ExpertInvited", "InsightPosted", "InvitationDeclined", "InvitationExpired",
     "ProposalAccepted", "ProposalRejected")
)  # fmt: skip


class Outbox:
    """See the module docstring."""

    def __init__(
        self,
        store: EventStore,
        engine: AsyncEngine,
        mapper: Mapper[UUID],
        views_position: Callable[[], Awaitable[int]],
        public_url: str,
        clock: Clock,
    ) -> None:
        self.store = store
        self.engine = engine
        self.mapper = mapper
        self.views_position = views_position
        self.public_url = public_url
        self.clock = clock
        self.follower = LogFollower("notify", engine, self._read, self._handle)
        self.planned = 0  # deliveries planned by this process (a metric)

    async def start(self) -> None:
        """The first time, begin at the end of the log (see the module docstring)."""
        async with self.engine.connect() as conn:
            query = sa.select(tracking.c.position).where(tracking.c.application_name == "notify")
            if (await conn.execute(query)).first() is None:
                await self.follower.move_to(await self.store.max_position())

    async def _read(self, after: int, limit: int) -> Sequence[RecordedEvent]:
        upto = await self.views_position()
        if upto <= after:
            return []
        return await self.store.read(after, limit, until=upto)

    async def _handle(self, conn: AsyncConnection, rows: Sequence[RecordedEvent]) -> None:
        wanted = [r for r in rows if event_name(r.topic) in NOTIFYING]
        if not wanted:
            return
        subs = [dict(r._mapping) for r in await conn.execute(sa.select(webhook_subscriptions))]
        now = self.clock.now()
        planned: list[dict[str, Any]] = []
        for row in wanted:
            event: Any = decode(self.mapper, row)
            case = await _doc(conn, "case", str(row.originator_id))
            if case is not None and hasattr(event, "proposal_id"):  # a decided proposal's
                case["proposals"] = await _proposal(conn, str(row.originator_id), event)
            subject = case["problem"]["subject"] if case else ""
            for notice in notices(event_name(row.topic), event, case):
                profile = await _doc(conn, "agent", notice.agent_id)
                body = message(notice, row.position, subject, self.public_url)
                planned += deliveries(notice, row.position, body, profile, subs, now)
        if planned:
            await conn.execute(insert_new(self.engine, deliveries_table, planned))
            self.planned += len(planned)


async def _proposal(conn: AsyncConnection, case_id: str, event: Any) -> dict[str, Any]:
    """{proposal id: its item} of the event's proposal: the stored case document is its
    core (`projections.case_store`), its proposals are `case_items` rows."""
    pid = str(event.proposal_id)
    t = case_items
    query = sa.select(t.c.doc).where(
        t.c.case_id == case_id, t.c.kind == PROPOSAL, t.c.item_id == pid
    )
    text = (await conn.execute(query)).scalar()
    return {} if text is None else {pid: json.loads(text)}


async def _doc(conn: AsyncConnection, view: str, key: str) -> dict[str, Any] | None:
    query = sa.select(case_views.c.doc).where(case_views.c.view == view, case_views.c.key == key)
    text = (await conn.execute(query)).scalar()
    return None if text is None else dict(json.loads(text))

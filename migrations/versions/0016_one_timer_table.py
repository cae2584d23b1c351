"""One timer table: invitation-expiry timers join `timers` (`app.service.timers`).

Every row still in `invitation_timers` is a timer that has not fired (a fired or settled
one was deleted), so each becomes a pending row of `timers` with the same key
(`invitation-expiry:<invitation id>`: the expiry's idempotency key is derived from it, so a
timer fired just before this revision and fired again after it appends nothing), its due
time, and a payload naming the case and the invitation. A key already in `timers` is
left as it is. Then `invitation_timers` goes: a process of the previous build cannot
fire these timers a second time from it. The follower that schedules them keeps its
tracking row ("timers"), so nothing is scheduled twice or skipped.

Downgrade moves the pending invitation-expiry timers back.

Revision ID: 0016
Revises: 0015 (0015_compact_view_changes: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None

KIND = "invitation-expiry"


def _old(meta: sa.MetaData) -> sa.Table:
    return sa.Table(
        "invitation_timers",
        meta,
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Index("ix_invitation_timers_due_at", "due_at"),
    )


def _timers(meta: sa.MetaData) -> sa.Table:
    return sa.Table(
        "timers",
        meta,
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("fired_at", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )


def upgrade() -> None:
    bind = op.get_bind()
    old, timers = _old(sa.MetaData()), _timers(sa.MetaData())
    taken = set(bind.execute(sa.select(timers.c.key)).scalars())
    moved: list[dict[str, Any]] = []
    for row in bind.execute(sa.select(old).order_by(old.c.due_at, old.c.id)):
        if row.id in taken:
            continue
        payload = {"case_id": row.key, **json.loads(row.payload)}
        moved.append({
            "key": row.id, "kind": row.kind, "due_at": row.due_at,
            "payload": json.dumps(payload, sort_keys=True), "state": "pending",
            "fired_at": None, "attempts": 0,
        })  # fmt: skip
    if moved:
        bind.execute(timers.insert(), moved)
    old.drop(bind)


def downgrade() -> None:
    bind = op.get_bind()
    old, timers = _old(sa.MetaData()), _timers(sa.MetaData())
    old.create(bind)
    t = timers.c
    pending = sa.select(timers).where(t.kind == KIND, t.state == "pending")
    back: list[dict[str, Any]] = []
    for row in bind.execute(pending):
        payload = json.loads(row.payload)
        case_id = payload.pop("case_id")
        back.append({"id": row.key, "kind": row.kind, "key": case_id, "due_at": row.due_at,
                     "payload": json.dumps(payload)})  # fmt: skip
    if back:
        bind.execute(old.insert(), back)
    bind.execute(timers.delete().where(t.kind == KIND))

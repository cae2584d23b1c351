"""The tables of outbound notifications (Alembic revision 0011; the durable timers are
`app.service.timers`'s `timers` table since revision 0016).

- `webhook_subscriptions`: a receiver's URL, its `whsec_` secret (never answered back
  after creation), the notification kinds it wants (JSON list, empty: all), and whose
  notifications it takes (`owner_id`: an agent's own, or "" for every agent's: admins).
- `deliveries`: one row per message and target: `id` is the stable `webhook-id` (also for
  e-mail, its Message-ID), the log `position` it came from, `status` pending, delivered
  or failed (gave up), attempts, when the next one is due, the last answer.
The followers' positions are rows of the event store's `tracking` table ("timers",
"notify").
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("owner_id", sa.Text(), nullable=False),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("secret", sa.Text(), nullable=False),
    sa.Column("events", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Index("ix_webhook_subscriptions_owner", "owner_id"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("channel", sa.Text(), nullable=False),  # webhook | email
    sa.Column("target", sa.Text(), nullable=False),  # subscription id | agent id
    sa.Column("position", POSITION, nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_at", sa.Float(), nullable=False),
    sa.Column("first_at", sa.Float(), nullable=False),
    sa.Column("last_status", sa.Text(), nullable=False),
    sa.Column("delivered_at", sa.Float(), nullable=True),
    sa.Index("ix_deliveries_due", "status", "next_at"),
    sa.Index("ix_deliveries_target", "target", "position"),
)

tracking = sa.Table(
    "tracking",
    sa.MetaData(),
    sa.Column("application_name", sa.Text(), primary_key=True),
    sa.Column("position", sa.BigInteger(), nullable=False),
)

"""Durable timers (invitation expiry) and outbound notifications (webhook subscriptions,
deliveries): `app.service.tables`.

`invitation_timers` is declared here, as it was when this revision was written: the
application no longer has it (revision 0016 moved its rows into `timers` and dropped it).

Revision ID: 0011
Revises: 0010 (0010_knowledge: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.service.tables import metadata

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def invitation_timers(meta: sa.MetaData) -> sa.Table:
    """The invitation-expiry timers still to fire (until revision 0012)."""
    return sa.Table(
        "invitation_timers",
        meta,
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),  # the case
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),  # JSON {"invitation_id"}
        sa.Index("ix_invitation_timers_due_at", "due_at"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind)
    invitation_timers(sa.MetaData()).create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_table("invitation_timers")
    metadata.drop_all(bind)

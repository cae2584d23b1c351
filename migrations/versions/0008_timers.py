"""Durable timers (`app.service.timers`): one row per timer, fired once by the leader.

Times are Unix seconds. `state` is pending, fired or cancelled; the runner reads the
pending ones by due time.

Revision ID: 0008
Revises: 0007 (0007_case_items_by_seq: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("fired_at", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_timers_state_due", "timers", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_timers_state_due", table_name="timers")
    op.drop_table("timers")

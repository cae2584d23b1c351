"""The SLA engine's checkpoint (`app.service.sla_checkpoint`): its state per case and its
policies at its tracked position, so taking the lead resumes from there.

Revision ID: 0012
Revises: 0011 (0011_invitation_timers_notifications: the head when this was written)
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from app.service.sla_checkpoint import metadata

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())

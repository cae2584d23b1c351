"""Durable timers (invitation expiry) and outbound notifications (webhook subscriptions,
deliveries): `app.service.tables`.

Revision ID: 0011
Revises: 0010 (0010_knowledge: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from app.service.tables import metadata

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind)


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(bind)

"""The KPI projection's weekly rollups per owner (`projections.kpi_rollups.BY_OWNER`),
filled from the KPI tables as they are (the projection keeps them from then on), so a
KPI query split or filtered by owner reads at most a row per week and owner.

Revision ID: 0020
Revises: 0019 (0019_shared_list_changes)
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from projections.kpi_rollups import OWNER_ROLLUPS, owner_metadata

revision = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    bind = op.get_bind()
    owner_metadata.create_all(bind)
    for rollup in OWNER_ROLLUPS:
        for statement in rollup.fill():
            bind.execute(statement)


def downgrade() -> None:
    owner_metadata.drop_all(op.get_bind())

"""The KPI projection's daily rollups (`projections.kpi_rollups`), filled from the KPI
tables as they are (the projection keeps them from then on).

Revision ID: 0013
Revises: 0012 (0012_sla_checkpoint)
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from projections.kpi_rollups import ROLLUPS, metadata

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind)
    for rollup in ROLLUPS:
        for statement in rollup.fill():
            bind.execute(statement)


def downgrade() -> None:
    metadata.drop_all(op.get_bind())

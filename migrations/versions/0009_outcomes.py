"""Outcomes: the KPI projection's tables (`projections.kpi_tables`: kpi_cases,
kpi_activity, kpi_sla, sla_policies, sla_clocks), and the swarm board's `rank` (its
order: the urgency time pressure raised, then recency; `projections.rows.board_rows`).

Revision ID: 0009
Revises: 0008 (0008_timers)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from projections.kpi_tables import metadata

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # The same definitions the KPI projection and its rebuild use.
    bind = op.get_bind()
    metadata.create_all(bind)
    # 0002 builds the read models from today's definitions (`projections.tables`), so a
    # database created since has the rank already; an older one gets it here
    if "rank" not in {c["name"] for c in sa.inspect(bind).get_columns("swarm_board")}:
        op.add_column(
            "swarm_board", sa.Column("rank", sa.BigInteger(), nullable=False, server_default="0")
        )
        op.execute("UPDATE swarm_board SET rank = position")
        op.create_index("ix_swarm_board_rank", "swarm_board", ["rank"])


def downgrade() -> None:
    metadata.drop_all(op.get_bind())  # the board keeps its rank (0002 would create it too)

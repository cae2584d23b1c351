"""The weekly KPI rollups per owner also hold each row's family documents as JSON text
(`intake_doc`, `swarm_doc`, `resolution_doc`, `satisfaction_doc`, `sla_doc`: what
`projections.kpi_text` writes from the row's measures), written with the row by the
projection, so a year split by owner reads them instead of writing 3,180 series' of
them per query. Refilled here from the KPI tables. (0020 creates the tables from the
live `owner_metadata`, so on a new database they have the columns already: added only
where missing.)

Revision ID: 0021
Revises: 0020 (0020_kpi_owner_weeks)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from projections.kpi_rollups import OWNER_ROLLUPS, doc_column

revision = "0021"
down_revision: str | None = "0020"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for rollup in OWNER_ROLLUPS:
        name = rollup.table.name
        have = {c["name"] for c in inspector.get_columns(name)}
        for family in rollup.docs:
            if doc_column(family) not in have:
                op.add_column(name, sa.Column(doc_column(family), sa.Text()))
        if rollup.docs:
            for statement in rollup.fill():
                bind.execute(statement)


def downgrade() -> None:
    for rollup in OWNER_ROLLUPS:
        for family in rollup.docs:
            op.drop_column(rollup.table.name, doc_column(family))

"""Read models: view documents, view changes, case summaries, members, swarm board.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from projections.tables import table_defs

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # The same definitions the projector and `swarmdesk rebuild` use.
    tables = table_defs(sa.MetaData())
    tables["case_views"].metadata.create_all(op.get_bind())


def downgrade() -> None:
    tables = table_defs(sa.MetaData())
    tables["case_views"].metadata.drop_all(op.get_bind())

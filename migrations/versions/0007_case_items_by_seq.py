"""`case_items` keyed by (case_id, kind, seq): one index instead of two.

Items are created one of a kind per event, so (case, kind, creation version) is unique;
it is the order of the windows and pages, and a primary key on it serves both, where
revision 0006 had a key on the item id plus an index on seq (about 0.7 KB of WAL per
event for the second index, measured by bench/growth.py's private cluster). The table
is a read model: it is recreated and the projection starts afresh, as in 0006.

Revision ID: 0007
Revises: 0006 (0006_case_items: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from projections.tables import table_defs

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_READ_MODELS = ("case_views", "view_changes", "case_summaries", "case_members", "swarm_board")


def _fresh_projection() -> None:
    for name in _READ_MODELS:
        op.execute(f"DELETE FROM {name}")
    op.execute("DELETE FROM tracking WHERE application_name = 'views'")


def upgrade() -> None:
    op.execute("DROP TABLE IF EXISTS case_items")
    table_defs(sa.MetaData())["case_items"].create(op.get_bind())
    _fresh_projection()


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS case_items")
    _fresh_projection()

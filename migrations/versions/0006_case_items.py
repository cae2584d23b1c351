"""Bounded case documents: `case_items` (one row per case item) and a fresh projection.

The case document now keeps windows of its growing collections (insights, proposals,
context, customer messages, timeline) and each item is a row of `case_items`
(`projections.case_items`). Documents stored in the older shape cannot be patched
into the new one, so this revision empties the read models and the projector's
tracking position: the projector replays the log into the new shape when the service
starts (exactly once: the tables are empty). On a long log, `swarmdesk rebuild` does
the same faster. Revision 0002 creates the read models from `projections.tables`, so a
new database has the table already (created here only if missing).

Revision ID: 0006
Revises: 0005 (0005_identity_sessions: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from projections.tables import table_defs

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_READ_MODELS = ("case_views", "view_changes", "case_summaries", "case_members", "swarm_board")


def upgrade() -> None:
    bind = op.get_bind()
    table_defs(sa.MetaData())["case_items"].create(bind, checkfirst=True)
    for name in _READ_MODELS:
        op.execute(f"DELETE FROM {name}")
    op.execute("DELETE FROM tracking WHERE application_name = 'views'")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS case_items")
    for name in _READ_MODELS:
        op.execute(f"DELETE FROM {name}")
    op.execute("DELETE FROM tracking WHERE application_name = 'views'")

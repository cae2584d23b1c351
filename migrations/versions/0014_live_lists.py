"""The live lists (`projections.lists`): every case gets its `entry` document and the
lists' changes are stored in `view_changes`. No table changes; the read models are
emptied and the projection starts afresh (as in 0006 and 0007), so every case has its
entry and a list snapshot leaves none out (`swarmdesk rebuild` is faster on a long log).

Revision ID: 0014
Revises: 0013 (0013_kpi_rollups: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

_READ_MODELS = (
    "case_views",
    "view_changes",
    "case_summaries",
    "case_members",
    "swarm_board",
    "case_items",
)


def _fresh_projection() -> None:
    for name in _READ_MODELS:
        op.execute(f"DELETE FROM {name}")
    op.execute("DELETE FROM tracking WHERE application_name = 'views'")


def upgrade() -> None:
    _fresh_projection()


def downgrade() -> None:
    _fresh_projection()

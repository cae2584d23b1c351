"""The views gain what older events now mean: the case owner's inbox items for declined
and expired invitations (`projections.inbox_view`), and `articles_reused` in the
contribution documents (`projections.contribution`). Documents projected before this
revision lack both, so, as in 0006, 0007 and 0014, the read models of the projection are
emptied and it starts afresh from the log (a replay, equal to `swarmdesk rebuild`,
which is the faster way on a long log). No table changes shape.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision: str | None = "0016"
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

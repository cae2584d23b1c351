"""The live lists store a case's entry change once, inside the case's own change of the
event (`projections.change_text.with_listed`), and fan it out on read to every list that
keeps the case; a list stores a row of its own only when a case comes in, goes out or
changes its relation there (`projections.lists.list_changes`). Lists stored before this
revision hold a row per list per event: still readable, but not what a replay writes,
so (as in 0006, 0007, 0014 and 0017) the projection's read models are emptied and it
starts afresh from the log (`swarmdesk rebuild` is the faster way on a long log). No
table changes shape.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None

_EMPTIED = "case_views view_changes case_summaries case_members swarm_board case_items"


def upgrade() -> None:
    for table in _EMPTIED.split():
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM tracking WHERE application_name = 'views'")


def downgrade() -> None:
    upgrade()

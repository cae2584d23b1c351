"""`view_changes` in its compact form (`projections.change_text`): the rows written before
hold RFC 6902 objects with every item's text. Readers still take those, but `swarmdesk
verify` compares rows as stored and would report each of them as a difference until
retention pruned it, so the change log starts afresh: it is a cache of history (the
events keep it), and a client resuming from a position it no longer holds gets a fresh
snapshot. Downgrading empties it too: the code before this revision cannot read the
compact form.

Revision ID: 0015
Revises: 0014 (0014_live_lists: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("DELETE FROM view_changes")


def downgrade() -> None:
    op.execute("DELETE FROM view_changes")

"""An index of case_members by case: the projector replaces a touched case's rows.

Without it, each projector batch (and `DELETE ... WHERE case_id = ANY(...)`) read the
whole table: PostgreSQL's CPU per projected event grew with the number of cases.
Revision 0002 creates the tables from `projections.tables`, which now has the index,
so a new database has it already (IF NOT EXISTS).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_case_members_case ON case_members (case_id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_case_members_case")

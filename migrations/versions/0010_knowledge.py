"""Knowledge: the search tables (full text over resolved cases and published articles)
and the similar cases of open ones (`projections.search_schema`).

Revision ID: 0010
Revises: 0009 (0009_outcomes: the head when this was merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from projections.search_schema import statements

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    for statement in statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in statements(op.get_bind().dialect.name, up=False):
        op.execute(statement)

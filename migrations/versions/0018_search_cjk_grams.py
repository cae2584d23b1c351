"""Search finds CJK text: `search_docs` gains `title_grams` and `body_grams` (the
character bigrams of the CJK runs of the title and the body, `projections.cjk`), indexed
with their text's weights (PostgreSQL's `tsv` recomputed, SQLite's FTS5 table rebuilt
with the two columns). The indexer's position is reset, so it re-indexes every document
(filling the new columns) on its next step; until then search works as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from projections.search_schema import grams_statements

revision = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    for statement in grams_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in grams_statements(op.get_bind().dialect.name, up=False):
        op.execute(statement)

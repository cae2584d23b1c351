"""The read-model tables (one definition for Alembic revision 0002, the projector and
`swarmdesk rebuild`, which creates the same tables with a suffix).

- `case_views`: every view document, keyed by (view, key): "case" (case id), "inbox"
  (agent id), "agent" (agent id). `doc` is the JSON text; its "position" member equals
  the row's `position`.
- `view_changes`: the RFC 6902 ops of each change, for replay by the push hub.
- `case_summaries`, `case_members`, `swarm_board`: rows derived from case documents,
  for `GET /api/cases` (my cases) and `GET /api/swarms`.
- `case_items`: one row per case item (insight, context item, customer message,
  proposal, timeline entry), in or beyond its window of the case document
  (`projections.case_items`); the pages of `GET /api/cases/{id}/insights` and friends.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "TABLES",
    "case_items",
    "case_members",
    "case_summaries",
    "case_views",
    "swarm_board",
    "table_defs",
    "view_changes",
]

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def table_defs(metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
    """The read-model tables named `<name><suffix>` in `metadata`."""
    s = suffix
    views = sa.Table(
        f"case_views{s}",
        metadata,
        sa.Column("view", sa.Text(), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    changes = sa.Table(
        f"view_changes{s}",
        metadata,
        sa.Column("view", sa.Text(), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("position", POSITION, primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ops", sa.Text(), nullable=False),
        sa.Index(f"ix_view_changes{s}_position", "position"),
    )
    summaries = sa.Table(
        f"case_summaries{s}",
        metadata,
        sa.Column("case_id", sa.Text(), primary_key=True),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("customer", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("opened_position", POSITION, nullable=False),
        sa.Index(f"ix_case_summaries{s}_owner", "owner_id", "opened_position"),
        sa.Index(f"ix_case_summaries{s}_status", "status", "opened_position"),
        sa.Index(f"ix_case_summaries{s}_opened", "opened_position"),
    )
    members = sa.Table(
        f"case_members{s}",
        metadata,
        sa.Column("agent_id", sa.Text(), primary_key=True),
        sa.Column("case_id", sa.Text(), primary_key=True),
        # "owner", "participant" (joined, not left) or "invited" (pending invitation)
        sa.Column("relation", sa.Text(), nullable=False),
        sa.Column("opened_position", POSITION, nullable=False),
        sa.Index(f"ix_case_members{s}_agent", "agent_id", "opened_position"),
        # the projector replaces a touched case's rows (`DELETE ... WHERE case_id = ANY`):
        # without it, every batch read the whole table
        sa.Index(f"ix_case_members{s}_case", "case_id"),
    )
    board = sa.Table(
        f"swarm_board{s}",
        metadata,
        sa.Column("request_id", sa.Text(), primary_key=True),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        # the board's order: urgency raised by time pressure, then recency (rows.board_rank)
        sa.Column("rank", POSITION, nullable=False, server_default="0"),
        sa.Index(f"ix_swarm_board{s}_case", "case_id"),
        sa.Index(f"ix_swarm_board{s}_position", "position"),
        sa.Index(f"ix_swarm_board{s}_rank", "rank"),
    )
    items = sa.Table(
        f"case_items{s}",
        metadata,
        # keyed by creation (one item of a kind per event): the pages' and windows' order;
        # an item is found by id within its case and kind (rare: cites, decisions)
        sa.Column("case_id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),  # the case version that made it
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("position", POSITION, nullable=False),  # of its last change
        sa.Column("doc", sa.Text(), nullable=False),
    )
    return {
        "case_views": views,
        "view_changes": changes,
        "case_summaries": summaries,
        "case_members": members,
        "swarm_board": board,
        "case_items": items,
    }


metadata = sa.MetaData()
TABLES = table_defs(metadata)
case_views = TABLES["case_views"]
view_changes = TABLES["view_changes"]
case_summaries = TABLES["case_summaries"]
case_members = TABLES["case_members"]
swarm_board = TABLES["swarm_board"]
case_items = TABLES["case_items"]

# The event store's tracking table (revision 0001); the projector records its position
# under application name "views" inside its own transaction.
tracking = sa.Table(
    "tracking",
    metadata,
    sa.Column("application_name", sa.Text(), primary_key=True),
    sa.Column("position", sa.BigInteger(), nullable=False),
)
TRACKING_NAME = "views"

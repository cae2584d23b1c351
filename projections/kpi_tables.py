"""The KPI projection's tables (migration 0009 creates the same; `swarmdesk kpis
--rebuild` empties and refills them). See `projections.kpi_fold` for what each holds."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["kpi_activity", "kpi_cases", "kpi_sla", "metadata", "sla_clocks", "sla_policies"]

metadata = sa.MetaData()

kpi_cases = sa.Table(
    "kpi_cases",
    metadata,
    sa.Column("case_id", sa.Text(), primary_key=True),
    sa.Column("product_area", sa.Text(), nullable=False),
    sa.Column("priority", sa.Text(), nullable=False),
    sa.Column("owner_id", sa.Text(), nullable=False),
    sa.Column("opened_at", sa.Float(), nullable=False),
    sa.Column("opened_day", sa.Integer(), nullable=False),
    sa.Column("first_response_s", sa.Float()),
    sa.Column("resolved_day", sa.Integer()),
    sa.Column("resolution_s", sa.Float()),
    sa.Column("first_touch", sa.Boolean()),
    sa.Column("owner_retained", sa.Boolean()),
    sa.Column("handed_off", sa.Boolean(), nullable=False),
    sa.Column("swarmed", sa.Boolean(), nullable=False),
    sa.Column("first_expert_s", sa.Float()),
    sa.Column("swarm_size", sa.Integer(), nullable=False),
    sa.Column("invitations", sa.Integer(), nullable=False),
    sa.Column("declines", sa.Integer(), nullable=False),
    sa.Column("proposals_before_accept", sa.Integer()),
    sa.Column("insight_experts", sa.Integer(), nullable=False),
    sa.Column("acked_first", sa.Integer(), nullable=False),
    sa.Column("csat", sa.Integer()),
    sa.Column("csat_day", sa.Integer()),
    sa.Column("ended_at", sa.Float()),
    sa.Column("ended_day", sa.Integer()),
    sa.Column("state", sa.Text(), nullable=False),  # the fold's state (JSON)
)
kpi_activity = sa.Table(
    "kpi_activity",
    metadata,
    sa.Column("day", sa.Integer(), primary_key=True),
    sa.Column("agent_id", sa.Text(), primary_key=True),
    sa.Column("expert", sa.Boolean(), nullable=False),
)
kpi_sla = sa.Table(
    "kpi_sla",
    metadata,
    sa.Column("case_id", sa.Text(), primary_key=True),
    sa.Column("target", sa.Text(), primary_key=True),
    sa.Column("cycle", sa.Integer(), primary_key=True),
    sa.Column("met", sa.Boolean(), nullable=False),
    sa.Column("ended_at", sa.Float(), nullable=False),
    sa.Column("ended_day", sa.Integer(), nullable=False),
    sa.Column("product_area", sa.Text(), nullable=False),
    sa.Column("priority", sa.Text(), nullable=False),
    sa.Column("owner_id", sa.Text(), nullable=False),
)
sla_policies = sa.Table(
    "sla_policies",
    metadata,
    sa.Column("policy_id", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("document", sa.Text(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("updated_at", sa.Float(), nullable=False),
)
sla_clocks = sa.Table(
    "sla_clocks",
    metadata,
    sa.Column("case_id", sa.Text(), primary_key=True),
    sa.Column("target", sa.Text(), primary_key=True),
    sa.Column("cycle", sa.Integer(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),  # running | paused | breached
    sa.Column("due_at", sa.Float(), nullable=False),
    sa.Column("warned", sa.Boolean(), nullable=False),
    sa.Column("priority", sa.Text(), nullable=False),
    sa.Column("product_area", sa.Text(), nullable=False),
    sa.Column("owner_id", sa.Text(), nullable=False),
)
INDEXES = (
    sa.Index("ix_sla_clocks_due", sla_clocks.c.due_at),
    sa.Index("ix_kpi_cases_opened_day", kpi_cases.c.opened_day),
    sa.Index("ix_kpi_cases_resolved_day", kpi_cases.c.resolved_day),
    sa.Index("ix_kpi_cases_ended_day", kpi_cases.c.ended_day),
    sa.Index("ix_kpi_cases_csat_day", kpi_cases.c.csat_day),
    sa.Index("ix_kpi_sla_ended_day", kpi_sla.c.ended_day),
)

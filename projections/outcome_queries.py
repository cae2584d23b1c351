"""Queries of the outcome read models: SLA policies and the cases at risk of breach."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from projections.kpi_tables import sla_clocks, sla_policies
from projections.tables import case_summaries

__all__ = ["at_risk", "policies_text"]


async def policies_text(engine: AsyncEngine) -> str:
    """`{"items": [{policy_id, name, active, version, updated_at, document}]}`."""
    p = sla_policies.c
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(sla_policies).order_by(p.updated_at.desc()))).all()
    items = [
        {
            "policy_id": r.policy_id,
            "name": r.name,
            "active": r.active,
            "version": r.version,
            "updated_at": r.updated_at,
            "document": json.loads(r.document),
        }
        for r in rows
    ]
    return json.dumps({"items": items})


async def at_risk(engine: AsyncEngine, horizon: float, limit: int) -> list[dict[str, Any]]:
    """Clocks breached, warned or due before `horizon` (Unix seconds), soonest first,
    with their case's subject and customer (paused clocks are left out)."""
    c, s = sla_clocks.c, case_summaries.c
    query = (
        sa.select(sla_clocks, s.subject, s.customer)
        .join(case_summaries, s.case_id == c.case_id, isouter=True)
        .where(
            c.status != "paused",
            sa.or_(c.status == "breached", c.warned, c.due_at <= horizon),
        )
        .order_by(c.due_at, c.case_id, c.target)
        .limit(limit)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "case_id": r.case_id,
            "target": r.target,
            "cycle": r.cycle,
            "status": r.status,
            "due_at": r.due_at,
            "warned": r.warned,
            "priority": r.priority,
            "product_area": r.product_area,
            "owner_id": r.owner_id,
            "subject": r.subject or "",
            "customer": r.customer or "",
        }
        for r in rows
    ]

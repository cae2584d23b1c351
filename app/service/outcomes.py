"""What `Services.outcomes` holds: SLA policies, the SLA engine (led with the timers:
`app.service.timekeeper`), the KPI projection (`app.bootstrap.start_outcomes` builds it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from app.service.sla_engine import SlaEngine
from app.service.sla_policies import SlaPolicyService
from projections import tracked
from projections.kpi_projector import NAME as KPIS
from projections.kpi_projector import KpiProjector

__all__ = ["Outcomes"]


@dataclass(frozen=True, slots=True)
class Outcomes:
    policies: SlaPolicyService
    engine: AsyncEngine
    #: None in a process that runs no projector (`SWARMDESK_PROJECTOR_ENABLED=false`)
    #: or with `SWARMDESK_OUTCOMES_ENABLED=false`: another process leads them.
    sla: SlaEngine | None = None
    kpis: KpiProjector | None = None

    async def position(self) -> int:
        """The position the KPI tables have reached (whichever process projects; this
        process's projector knows it first: it stores a position that changed nothing
        only once idle)."""
        if self.kpis is not None and self.kpis.leading:
            return self.kpis.position
        async with self.engine.connect() as conn:
            return await tracked.read(conn, KPIS)

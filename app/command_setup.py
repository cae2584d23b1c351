"""Start-up step of the command side: one `CaseService` (with its process-local aggregate
cache) and one `AgentService` per process, kept in `container.extras`."""

from __future__ import annotations

from app.agents import AgentService
from app.aggregate_cache import AggregateCache
from app.cases import CaseService
from app.composition import Container

CASES, AGENTS = "case_service", "agent_service"


async def setup_commands(container: Container) -> None:
    container.extras[CASES] = CaseService(container.repository, AggregateCache())
    container.extras[AGENTS] = AgentService(container.repository)


def case_service(container: Container) -> CaseService:
    """The process's `CaseService` (a cache-less one if the feature did not run)."""
    found = container.extras.get(CASES)
    return found if isinstance(found, CaseService) else CaseService(container.repository)


def agent_service(container: Container) -> AgentService:
    found = container.extras.get(AGENTS)
    return found if isinstance(found, AgentService) else AgentService(container.repository)

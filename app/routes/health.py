"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app import problems
from app.deps import ContainerDep
from app.store import StoreError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "the store is not ready"}})
async def readyz(container: ContainerDep) -> JSONResponse:
    """Readiness: the event store's tables exist and the database answers."""
    try:
        await container.store.check()
        position = await container.store.max_position()
    except StoreError as exc:
        return problems.problem_response(problems.problem_of(exc), "/readyz")
    return JSONResponse({"status": "ready", "position": position})

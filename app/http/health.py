"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.http import problems
from app.http.deps import ServicesDep
from app.store import StoreError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "the store is not ready"}})
async def readyz(services: ServicesDep) -> JSONResponse:
    """Readiness: the event store's tables exist and the database answers."""
    try:
        await services.store.check()
        position = await services.store.max_position()
    except StoreError as exc:
        return problems.problem_response(problems.problem_of(exc), "/readyz")
    return JSONResponse({"status": "ready", "position": position})

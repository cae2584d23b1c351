"""Liveness and readiness."""

from __future__ import annotations

import time

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
    """Readiness: the event store's tables exist, the database answers, no append batch
    has been under way for longer than a statement may take (a stuck appender), and the
    projector running here is not stuck (`projector_lag`: events it is behind)."""
    since = services.store.writing_since
    limit = services.settings.store.statement_timeout_seconds + 1
    if since is not None and time.monotonic() - since > limit:
        stuck = problems.Problem(
            problems.UNAVAILABLE,
            f"the appender has been writing one batch for over {limit:g} s",
        )
        return problems.problem_response(stuck, "/readyz")
    watchdog = services.views.watchdog
    if watchdog is not None and watchdog.stuck:
        frozen = problems.Problem(
            problems.UNAVAILABLE,
            f"the projector is stuck {watchdog.lag} events behind the log (restarted)",
            projector_lag=watchdog.lag,
        )
        return problems.problem_response(frozen, "/readyz")
    try:
        await services.store.check()
        position = await services.store.max_position()
    except StoreError as exc:
        return problems.problem_response(problems.problem_of(exc), "/readyz")
    body: dict[str, object] = {"status": "ready", "position": position}
    if watchdog is not None:
        body["projector_lag"] = watchdog.lag
    return JSONResponse(body)

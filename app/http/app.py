"""`create_app(settings)`: the FastAPI application, wired in its lifespan.

The lifespan runs `bootstrap` (the one composition root) and keeps its `Services` in
`app.state.services`; routes reach them through `app.http.deps`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from app.bootstrap import bootstrap
from app.http import (
    auth_routes,
    board_queries,
    case_pages,
    case_queries,
    console,
    health,
    knowledge_routes,
    matching_queries,
    me_queries,
    metrics,
    openapi,
    outcome_routes,
    problems,
    webhook_routes,
)
from app.http.commands import command_router
from app.realtime.push import routes as push_routes
from app.realtime.stream import routes as stream_routes
from app.server import gc as gc_policy
from app.server.drain import watch_signals
from app.server.tweaks import Tweaks
from app.service.clock import Clock
from app.settings import Settings
from app.store import EventStore
from app.telemetry.tracing import Tracing


def routers() -> list[APIRouter]:
    """Every router of the API, in matching order (one line per resource module)."""
    return [
        health.router,
        metrics.router,
        case_queries.router,
        case_pages.router,
        board_queries.router,
        matching_queries.router,
        webhook_routes.router,
        knowledge_routes.router,
        outcome_routes.router,
        command_router(),
        stream_routes.router,
        push_routes.router,
        auth_routes.router,
        me_queries.router,
        console.router,
    ]


def create_app(
    settings: Settings | None = None,
    *,
    tweaks: Tweaks | None = None,
    store: EventStore | None = None,
    tracing: Tracing | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the app; nothing touches the database until the lifespan starts. `tweaks`
    (from `app.server.tweaks.probe`), `store` and `clock` (the timers' and notifier's,
    tests move it) go to `bootstrap`."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap(
            settings or Settings(), tweaks=tweaks, store=store, tracing=tracing, clock=clock
        ) as services:
            app.state.services = services
            if services.tweaks.gc_policy.active:
                gc_policy.settle()  # freeze what start-up built; collect less often
            with watch_signals(services.shutdown):  # SIGTERM ends streams and long polls
                yield

    app = FastAPI(
        title="Swarmdesk",
        version="0.1.0",
        summary="Event-sourced swarming support: one concierge, experts who swarm.",
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
    )
    problems.install(app)
    openapi.install(app)
    included = routers()
    for router in included:
        app.include_router(router)
    app.state.routes = [route for router in included for route in router.routes]
    return app


def app_routes(app: FastAPI) -> list[BaseRoute]:
    """The app's own routes in matching order, as its routers declared them (the routes
    FastAPI itself serves, /docs and /openapi.json, are GETs: no command shares them)."""
    routes: list[BaseRoute] = app.state.routes
    return routes

"""`create_app(settings)`: the FastAPI application, wired in its lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app import gc_policy, problems
from app.composition import bootstrap
from app.routes import routers
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the database until the lifespan starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap(settings or Settings()) as container:
            app.state.container = container
            gc_policy.settle()  # freeze what start-up built; collect less often
            yield

    app = FastAPI(
        title="Swarmdesk",
        version="0.1.0",
        summary="Event-sourced swarming support: one concierge, experts who swarm.",
        lifespan=lifespan,
    )
    problems.install(app)
    for router in routers():
        app.include_router(router)
    return app

"""`create_app(settings)`: the FastAPI application, wired in its lifespan."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app import problems
from app.composition import bootstrap
from app.routes import routers
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the database until the lifespan starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap(settings or Settings()) as container:
            app.state.container = container
            # What start-up built (modules, models, routes, pools) lives as long as the
            # process: take it out of the collector's generations, so that the full
            # collections a busy server runs do not walk it again and again.
            gc.collect()
            gc.freeze()
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

"""HTTP and WebSocket routers; `create_app` includes every router listed here."""

from __future__ import annotations

from fastapi import APIRouter

from app.push import routes as push_routes
from app.routes import (
    agent_commands,
    board_queries,
    case_commands,
    case_decisions,
    case_queries,
    health,
    metrics,
)
from app.stream import routes as stream_routes


def routers() -> list[APIRouter]:
    # One line per resource module (add yours here).
    return [
        health.router,
        metrics.router,
        case_queries.router,
        board_queries.router,
        case_commands.router,
        case_decisions.router,
        agent_commands.router,
        stream_routes.router,
        push_routes.router,
    ]

"""HTTP and WebSocket routers; `create_app` includes every router listed here."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes import board_queries, case_queries, health
from app.stream import routes as stream_routes


def routers() -> list[APIRouter]:
    # One line per resource module (add yours here).
    return [
        health.router,
        case_queries.router,
        board_queries.router,
        stream_routes.router,
    ]

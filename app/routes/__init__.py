"""HTTP and WebSocket routers; `create_app` includes every router listed here."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes import health
from app.stream import routes as stream_routes


def routers() -> list[APIRouter]:
    # One line per resource module (add yours here).
    return [
        health.router,
        stream_routes.router,
    ]

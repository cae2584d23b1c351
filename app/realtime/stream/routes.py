"""The stream's routes, included by `app.http.routers.routers()`."""

from __future__ import annotations

from fastapi import APIRouter

from app.realtime.stream import asyncapi, feed, socket

router = APIRouter()
router.include_router(feed.router)
router.include_router(socket.router)
router.include_router(asyncapi.router)

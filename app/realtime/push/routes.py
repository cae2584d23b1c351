"""The WebSocket endpoints ``/ws/cases/{case_id}``, ``/ws/inbox`` and the live lists
``/ws/mycases``, ``/ws/cases``, ``/ws/swarms`` (raw ASGI routes on
the API's own host and port; the protocol is in `app.realtime.push.protocol`)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter
from starlette.routing import WebSocketRoute

from app.http.deps import services_of
from app.realtime.push.session import Receive, Send


class PushEndpoint:
    """A raw ASGI app (no per-connection request objects) for one kind of view.

    Calling it returns the connection's coroutine (`Session.serve`) instead of awaiting
    it, so no frame of its own stays suspended for the connection's life.
    """

    __slots__ = ("view",)

    def __init__(self, view: str) -> None:
        self.view = view

    def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> Awaitable[None]:
        session = services_of(scope["app"]).push.session
        return session.serve(self.view, scope, receive, send)


router = APIRouter()
router.routes.append(WebSocketRoute("/ws/cases/{case_id}", PushEndpoint("case")))
router.routes.append(WebSocketRoute("/ws/inbox", PushEndpoint("inbox")))
#: The live lists (`projections.lists`): my cases, every case in progress, the board.
router.routes.append(WebSocketRoute("/ws/mycases", PushEndpoint("mycases")))
router.routes.append(WebSocketRoute("/ws/cases", PushEndpoint("cases")))
router.routes.append(WebSocketRoute("/ws/swarms", PushEndpoint("swarms")))

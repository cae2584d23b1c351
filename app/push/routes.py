"""The WebSocket endpoints ``/ws/cases/{case_id}`` and ``/ws/inbox`` (raw ASGI routes on
the API's own host and port; the protocol is in `app.push.protocol`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.routing import WebSocketRoute

from app.auth import AuthError
from app.problems import Problem
from app.push.service import PushService
from app.push.session import (
    Receive,
    Send,
    Target,
    authenticate,
    parse_after,
    parse_case_id,
    refused,
)


class PushEndpoint:
    """A raw ASGI app (no per-connection request objects) for one kind of view."""

    def __init__(self, view: str) -> None:
        self.view = view

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        push: PushService = scope["app"].state.container.extras["push"]
        try:
            principal = authenticate(scope, push.verify)
            after = parse_after(scope)
            key = parse_case_id(scope) if self.view == "case" else str(principal.actor.id)
        except (Problem, AuthError) as exc:
            reason = refused(exc)
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": reason.code, "reason": reason.reason})
            return
        await push.session.run(Target(self.view, key, principal, after), receive, send, scope)


router = APIRouter()
router.routes.append(WebSocketRoute("/ws/cases/{case_id}", PushEndpoint("case")))
router.routes.append(WebSocketRoute("/ws/inbox", PushEndpoint("inbox")))

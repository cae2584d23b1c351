"""Push sockets first: a WebSocket handshake for
``/ws/cases/{case_id}``, ``/ws/inbox`` or a live list (``/ws/mycases``, ``/ws/cases``,
``/ws/swarms``) goes straight to its `PushEndpoint` instead of
through the FastAPI/Starlette middleware stack and router. Each idle push connection
would otherwise keep, for its whole life, one suspended coroutine frame per middleware
layer, an exit stack, a `WebSocket` request object and a wrapped ``send`` closure (about
4 KiB; measured with tracemalloc, see `bench/push.py`). Behaviour is identical: the
routes stay registered on the router (used by any other entry point), the endpoint sees
the same scope keys it reads (``app``, ``path_params``, ``headers``, ``query_string``),
and every other request (HTTP, lifespan, other paths) goes to the app unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from app.realtime.push.routes import PushEndpoint
from app.realtime.push.session import Receive, Send

CASES_PREFIX = "/ws/cases/"
INBOX_PATH = "/ws/inbox"
#: The live lists' paths (`projections.lists`): path -> view.
LIST_PATHS = {"/ws/mycases": "mycases", "/ws/cases": "cases", "/ws/swarms": "swarms"}


class PushFirst:
    """Wraps `api`: push WebSocket scopes to their endpoints, all else to `api`."""

    __slots__ = ("api", "cases", "inbox", "lists", "rest")

    def __init__(self, api: FastAPI, rest: Callable[..., Awaitable[None]] | None = None) -> None:
        self.api = api
        self.rest: Callable[..., Awaitable[None]] = rest or api  # every other request
        self.cases = PushEndpoint("case")
        self.inbox = PushEndpoint("inbox")
        self.lists = {path: PushEndpoint(view) for path, view in LIST_PATHS.items()}

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        # no locals here but the arguments: this frame lives as long as the connection
        endpoint = self._push_endpoint(scope)
        if endpoint is not None:
            return await endpoint(scope, receive, send)
        await self.rest(scope, receive, send)

    def _push_endpoint(self, scope: dict[str, Any]) -> PushEndpoint | None:
        """The endpoint for a push handshake (scope completed as the router would)."""
        if scope["type"] != "websocket" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        if path.startswith(CASES_PREFIX) and "/" not in path[len(CASES_PREFIX) :]:
            scope["app"] = self.api
            scope["path_params"] = {"case_id": path[len(CASES_PREFIX) :]}
            return self.cases
        if path == INBOX_PATH:
            scope["app"] = self.api
            return self.inbox
        listed = self.lists.get(path)
        if listed is not None:
            scope["app"] = self.api
        return listed

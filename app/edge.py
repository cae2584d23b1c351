"""The edge: the outermost ASGI stack, around every path the service answers.

    Edge                    request id (accepted or made, returned), access log
    └── layers ...          CORS, security headers, limits (configured; outermost first)
        └── PushFirst       push sockets (`app.realtime.push.asgi`)
            └── Dispatcher  commands from the table (`app.http.dispatcher`)
                └── FastAPI every other route

Because the edge wraps the fast dispatcher and the push sockets too, a cross-cutting
concern added here applies to every request alike. A layer is a Starlette `Middleware`;
`CORS` is Starlette's `CORSMiddleware` for HTTP that also answers a WebSocket upgrade
from an allowed origin with `Access-Control-Allow-Origin`.

The access log (logger `swarmdesk.access`, INFO) writes one line per HTTP request and per
WebSocket connection: method, path (never the query string, where a credential could
be), status, duration and request id, also as fields (`method`, `path`, `status`,
`duration_ms`) for the structured log (`app.telemetry.logs`), whose request context the
edge opens: every record logged while a request is served carries its id.

An error no layer answered is logged (logger `swarmdesk.errors`, with the request id)
and, when no response has started, answered as a problem+json 500 (`internal`); the
process goes on serving.

The request id is the caller's `X-Request-ID` when well-formed, else the trace id of a
valid W3C `traceparent`, else a new one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from opentelemetry.trace import StatusCode
from starlette import types as starlette_types
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from app.http.problems import INTERNAL, PROBLEM_JSON, Problem, problem_body
from app.telemetry import logs
from app.telemetry.tracing import Tracing

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

REQUEST_ID_HEADER = b"x-request-id"
TRACEPARENT_HEADER = b"traceparent"
_TRACEPARENT = re.compile(rb"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
SCOPE_KEY = "swarmdesk.request_id"
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
#: The id of the request being served (for log records of the code it runs).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
access_log = logging.getLogger("swarmdesk.access")
error_log = logging.getLogger("swarmdesk.errors")


def _incoming_id(scope: Scope) -> bytes | None:
    traced = None
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value if _REQUEST_ID.fullmatch(value) else None
        if name == TRACEPARENT_HEADER:
            match = _TRACEPARENT.fullmatch(value.strip())
            if match and match[1] != b"0" * 32:
                traced = match[1]
    return traced


def request_id_header(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The `X-Request-ID` header for a WebSocket's accept (the socket's endpoint sends it:
    the edge does not wrap a socket's `send`, see `Edge`)."""
    rid = scope.get(SCOPE_KEY)
    return [(REQUEST_ID_HEADER, rid)] if isinstance(rid, bytes) else []


async def _internal_error(scope: Scope, send: Send, rid: bytes) -> None:
    detail = f"internal error; quote request id {rid.decode()}"
    body = problem_body(Problem(INTERNAL, detail), scope["path"])
    content = json.dumps(body).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", b"%d" % len(content))]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": content})


class CORS:
    """Starlette's `CORSMiddleware` for HTTP; a WebSocket upgrade from an allowed origin
    is accepted with `Access-Control-Allow-Origin` too (browsers do not preflight it)."""

    def __init__(self, app: starlette_types.ASGIApp, **options: Any) -> None:
        self.app = app
        self.http = CORSMiddleware(app, **options)

    async def __call__(
        self,
        scope: starlette_types.Scope,
        receive: starlette_types.Receive,
        send: starlette_types.Send,
    ) -> None:
        if scope["type"] != "websocket":
            return await self.http(scope, receive, send)
        origin = next((v for n, v in scope["headers"] if n == b"origin"), None)
        if origin is None or not self.http.is_allowed_origin(origin.decode("latin-1")):
            return await self.app(scope, receive, send)
        allowed = b"*" if self.http.allow_all_origins else origin

        async def with_origin(message: starlette_types.Message) -> None:
            if message["type"] == "websocket.accept":
                extra = (b"access-control-allow-origin", allowed)
                message["headers"] = [*message.get("headers", ()), extra]
            await send(message)

        await self.app(scope, receive, with_origin)


class Edge:
    """The outermost layer: a request id for every HTTP request and WebSocket (its
    `X-Request-ID` when well-formed, else a new one) and the access log, around
    `layers` (outermost first) around `app`.

    An HTTP response carries the id as `X-Request-ID`. A WebSocket keeps it in its scope
    (`request_id_header`) and its endpoint answers it, because the edge must not wrap a
    socket's `send`: the lean-socket tweak needs the server's own, and an idle push
    socket keeps only this frame of the edge's suspended for its life (`bench/push.py`).
    A socket's access line is logged when its upgrade is asked for."""

    __slots__ = ("app", "tracing")

    def __init__(
        self, app: ASGIApp, layers: Sequence[Middleware] = (), *, tracing: Tracing | None = None
    ) -> None:
        inner: Any = app
        for cls, args, kwargs in reversed(list(layers)):
            inner = cls(inner, *args, **kwargs)
        self.app: ASGIApp = inner
        self.tracing = tracing  # its tracer is set once the lifespan started it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            tracing = self.tracing
            if tracing is None or tracing.tracer is None:
                await self._http(scope, receive, send)
                return
            with tracing.server_span(scope["method"], scope["path"], scope["headers"]) as span:
                status = await self._http(scope, receive, send)
                if span is not None:
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
            return
        if kind == "websocket":
            rid = _incoming_id(scope) or os.urandom(16).hex().encode()
            scope[SCOPE_KEY] = rid
            request_id.set(rid.decode())  # the connection's own task: nothing to reset
            logs.start_request(rid.decode())
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "WS %s upgrade request_id=%s",
                    scope["path"],
                    rid.decode(),
                    extra={"method": "WS", "path": scope["path"]},
                )
        return await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> int:
        """Serve one request; its status."""
        rid = _incoming_id(scope) or os.urandom(16).hex().encode()
        scope[SCOPE_KEY] = rid
        text = rid.decode()
        token = request_id.set(text)
        fields = logs.start_request(text)
        started = time.perf_counter()
        status = 0

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, rid)]
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except Exception:
            error_log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if status == 0:
                await _internal_error(scope, tagged, rid)
        finally:
            request_id.reset(token)
            if access_log.isEnabledFor(logging.INFO):
                ms = round((time.perf_counter() - started) * 1000, 1)
                logs.access(scope["method"], scope["path"], status, ms, text)
            logs.end_request(fields)
        return status

"""The edge's protective layers (`app.edge` runs them around every path, the fast
dispatcher and the sockets included), built from `EdgeSettings` by `edge_layers`:

    CORS             configured origins only (`SWARMDESK_EDGE_CORS_ORIGINS`)
    SecurityHeaders  CSP (no inline script), nosniff, no framing, no referrer
    HeaderLimit      431 past `max_headers` header fields or `max_header_bytes` of them
    RateLimit        token buckets per credential and per address (429, `Retry-After`);
                     open WebSockets per credential and per address (close 4429);
                     /healthz and /readyz are exempt
    BodyLimit        413 past `max_body_bytes`: by `Content-Length` before the app runs,
                     else while the body is read (the app then sees a disconnect), so no
                     app code (authentication, parsing) ever holds a larger body

`Guards` runs the last four as one layer (a WebSocket gets their checks inline, in one
frame, since an idle socket keeps its layers' frames for its life).

A "credential" is the `Authorization` header or the session cookie as sent: the edge does
not verify it (that is the app's job, after these limits), so a flood of forged tokens
is bounded by the per-address bucket, and a caller's valid credential by its own.
Answers are problem+json like every other error (`app.http.problems`).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from starlette.middleware import Middleware

from app.edge import CORS
from app.http.problems import HEADERS_TOO_LARGE, PROBLEM_JSON, TOO_LARGE, TOO_MANY, Kind
from app.settings import EdgeSettings, Settings, comma_list

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Buckets kept per kind (least recently used dropped first).
MAX_BUCKETS = 100_000
TOO_MANY_SOCKETS = 4429
#: Probes a load balancer or orchestrator sends: never rate-limited.
UNLIMITED = frozenset({"/healthz", "/readyz"})
#: Swagger UI and ReDoc (FastAPI's /docs, /redoc) load from a CDN and start inline.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; worker-src 'self' blob:; "
    "frame-ancestors 'none'"
)


async def answer(send: Send, kind: Kind, detail: str, **headers: str) -> None:
    """A problem+json response, before the app has started one."""
    body = orjson.dumps(
        {
            "type": f"urn:swarmdesk:problem:{kind.slug}",
            "title": kind.title,
            "status": kind.status,
            "detail": detail,
        }
    )
    listed = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": kind.status, "headers": listed})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds the security headers to every HTTP response (`Strict-Transport-Security`
    only over https)."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        self.headers = [(b"content-security-policy", csp.encode()), *common]
        self.docs_headers = [(b"content-security-policy", DOCS_CSP.encode()), *common]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        docs = scope["path"] in ("/docs", "/redoc", "/docs/oauth2-redirect")
        extra = self.docs_headers if docs else self.headers
        if scope.get("scheme") == "https":
            extra = [*extra, (b"strict-transport-security", b"max-age=31536000")]

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, secured)


class HeaderLimit:
    """431 for a request (or WebSocket upgrade) with too many or too large headers."""

    def __init__(self, app: ASGIApp, max_headers: int, max_bytes: int) -> None:
        self.app = app
        self.max_headers = max_headers or math.inf
        self.max_bytes = max_bytes or math.inf

    def too_large(self, scope: Scope) -> bool:
        headers = scope["headers"]
        if len(headers) > self.max_headers:
            return True
        return sum(len(n) + len(v) + 4 for n, v in headers) > self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.too_large(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            detail = f"at most {self.max_headers} header fields, {self.max_bytes} bytes"
            return await answer(send, HEADERS_TOO_LARGE, detail)
        await self.app(scope, receive, send)


class BodyLimit:
    """413 past `max_bytes` of request body (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.max_bytes:
            return await self.app(scope, receive, send)
        limit = self.max_bytes
        detail = f"the request body may not exceed {limit} bytes"
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                return await answer(send, TOO_LARGE, detail)
        size = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal size, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    refused = True
                    if not started:
                        await answer(send, TOO_LARGE, detail)
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; the app's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not refused:
                raise  # a disconnect we caused may surface as an error: not one


class Buckets:
    """Token buckets by key: `rate` per second, up to `burst`; LRU-bounded."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.state: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def take(self, key: bytes, now: float) -> float:
        """0 when a request may go now, else the seconds until one may."""
        tokens, last = self.state.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self.state[key] = (tokens, now)
        if len(self.state) > MAX_BUCKETS:
            self.state.popitem(last=False)
        return wait


def credential(scope: Scope, cookie_name: bytes) -> bytes | None:
    """The caller's credential as sent (bearer header, else session cookie), unverified."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            return value
    for name, value in headers:
        if name == b"cookie" and cookie_name in value:
            for part in value.split(b";"):
                key, _, found = part.strip().partition(b"=")
                if key == cookie_name:
                    return b"cookie:" + found
    return None


class RateLimit:
    """Requests per credential and per address; open WebSockets per credential and per
    address (see the module docstring). 0 turns a limit off."""

    def __init__(self, app: ASGIApp, settings: EdgeSettings, cookie_name: str) -> None:
        self.app = app
        self.cookie = cookie_name.encode()
        self.principals = Buckets(settings.principal_rate, settings.principal_burst)
        self.addresses = Buckets(settings.address_rate, settings.address_burst)
        self.per_principal = settings.sockets_per_principal
        self.per_address = settings.sockets_per_address
        self.open_sockets: dict[int, int] = {}  # by hash of the key
        self.refused = 0  # requests and sockets answered 429 / 4429 (tests, metrics)

    def wait(self, scope: Scope, key: bytes | None, address: bytes) -> float:
        now = time.monotonic()
        waits = [0.0]
        if self.addresses.rate:
            waits.append(self.addresses.take(address, now))
        if key is not None and self.principals.rate:
            waits.append(self.principals.take(key, now))
        return max(waits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or scope["path"] in UNLIMITED:
            return await self.app(scope, receive, send)
        key = credential(scope, self.cookie)
        client = scope.get("client")
        address = b"addr:" + (client[0].encode() if client else b"")
        wait = self.wait(scope, key, address)
        if kind == "http":
            if wait:
                self.refused += 1
                retry = str(max(1, math.ceil(wait)))
                detail = f"too many requests; retry in {retry} s"
                return await answer(send, TOO_MANY, detail, retry_after=retry)
            return await self.app(scope, receive, send)
        keys = await self.admit_socket(key, address, wait, receive, send)
        if keys is None:
            return
        del key, address, client  # an idle socket keeps this frame: nothing else in it
        try:
            await self.app(scope, receive, send)
        finally:
            self.release(keys)

    async def admit_socket(
        self, key: bytes | None, address: bytes, wait: float, receive: Receive, send: Send
    ) -> tuple[int, ...] | None:
        """The counter keys of a socket let in (counted), else None (refused: 4429).
        Keys are hashes, so an open socket does not keep its credential's bytes alive."""
        limits = {hash(address): self.per_address}
        if key is not None:
            limits[hash(b"sock:" + key)] = self.per_principal
        over = any(lim and self.open_sockets.get(k, 0) >= lim for k, lim in limits.items())
        if wait or over:
            self.refused += 1
            await receive()  # the connect
            await send({"type": "websocket.accept"})
            reason = "too many open sockets" if over else "too many requests"
            await send({"type": "websocket.close", "code": TOO_MANY_SOCKETS, "reason": reason})
            return None
        keys = tuple(limits)
        for k in keys:
            self.open_sockets[k] = self.open_sockets.get(k, 0) + 1
        return keys

    def release(self, keys: tuple[int, ...]) -> None:
        for k in keys:
            left = self.open_sockets[k] - 1
            if left:
                self.open_sockets[k] = left
            else:
                del self.open_sockets[k]


class Guards:
    """The layers as one: HTTP goes through SecurityHeaders, HeaderLimit, RateLimit and
    BodyLimit in turn; a WebSocket gets the header and rate checks inline, so an idle
    socket keeps one small frame of the edge's layers, not four (`bench/push_trace.py`)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        edge = settings.edge
        self.app = app
        self.limits = RateLimit(
            BodyLimit(app, edge.max_body_bytes), edge, settings.sessions.cookie_name
        )
        self.heads = HeaderLimit(self.limits, edge.max_headers, edge.max_header_bytes)
        self.http = SecurityHeaders(self.heads, edge.content_security_policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return await self.http(scope, receive, send)
        if self.heads.too_large(scope):
            await send({"type": "websocket.close", "code": 1008})
            return
        limits = self.limits
        if scope["path"] in UNLIMITED:
            return await self.app(scope, receive, send)
        key = credential(scope, limits.cookie)
        client = scope.get("client")
        address = b"addr:" + (client[0].encode() if client else b"")
        wait = limits.wait(scope, key, address)
        keys = await limits.admit_socket(key, address, wait, receive, send)
        if keys is None:
            return
        del key, client, address  # an idle socket keeps this frame: nothing else in it
        try:
            await self.app(scope, receive, send)
        finally:
            limits.release(keys)


def edge_layers(settings: Settings) -> list[Middleware]:
    """The configured layers, outermost first (see the module docstring)."""
    edge = settings.edge
    origins = list(comma_list(edge.cors_origins))
    cors = Middleware(
        CORS,  # type: ignore[arg-type]  # starlette's factory protocol (as tests/integration)
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
        expose_headers=["Location", "Retry-After", "X-Request-ID", "Swarmdesk-Next-Position"],
        allow_credentials=True,
        max_age=600,
    )
    return [
        *([cors] if origins else []),  # none configured: no cross-origin access at all
        Middleware(Guards, settings=settings),
    ]

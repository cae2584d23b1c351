"""The server tweaks, in one place: what each relies on, its start-up probe, its status.

Each tweak leans on names a library does not promise to keep (uvicorn's protocol
classes, a `websockets` parser's generator frames, an asyncio future's blocking flag).
`probe(serve=...)` checks that every name each one relies on is there and answers a
`Tweaks` whose entries say which are active; the code using a tweak asks its entry and
falls back to stock behaviour when it is off. `swarmdesk serve` logs the result and
`/metrics` exports `swarmdesk_server_tweak_active{tweak="..."}`. The dependency ranges
in `pyproject.toml` are bounded tightly for the same reason.

- `corked_http` (`app.server.protocol`): a response in one socket write; off: uvicorn's
  own httptools protocol.
- `lean_sockets` (`app.server.lean`): idle push sockets shed handshake data; off: only
  the scope's headers are dropped.
- `inline_send` (`app.server.inline`): push sends driven inline; off: a task per send.
- `stalled_close` (`app.server.stalled`): a push socket that stopped reading is closed
  (4008) without waiting for it to drain; off: a stock close, which waits.
- `gc_policy` (`app.server.gc`): freeze start-up, collect less often; off: CPython's.

`corked_http` and `gc_policy` are for `swarmdesk serve` only (`serve=True`); an app
built for tests never changes the collector of the process that runs them.
"""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, fields

from app.server import inline, stalled

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TweakStatus:
    name: str
    active: bool
    detail: str  # why it is off, or "active"


@dataclass(frozen=True, slots=True)
class Tweaks:
    corked_http: TweakStatus
    lean_sockets: TweakStatus
    inline_send: TweakStatus
    gc_policy: TweakStatus
    stalled_close: TweakStatus

    def all(self) -> tuple[TweakStatus, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


def _has(module: str, cls: str, methods: tuple[str, ...], attrs: tuple[str, ...]) -> str | None:
    """None when `module.cls` exists with `methods` and its methods use every name of
    `attrs` (instance attributes set outside `__init__` count too)."""
    try:
        found = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as exc:
        return f"{module}.{cls} is missing ({exc})"
    for name in methods:
        if not callable(getattr(found, name, None)):
            return f"{module}.{cls}.{name} is missing"
    names: set[str] = set()
    for klass in found.__mro__:
        for member in vars(klass).values():
            code = getattr(member, "__code__", None)
            if code is not None:
                names.update(code.co_names)
    missing = [a for a in attrs if a not in names]
    return f"{module}.{cls} no longer uses {', '.join(missing)}" if missing else None


def probe_corked_http() -> str | None:
    return _has(
        "uvicorn.protocols.http.httptools_impl",
        "HttpToolsProtocol",
        ("connection_made", "on_response_complete", "handle_websocket_upgrade"),
        ("transport",),
    )


def probe_lean_sockets() -> str | None:
    why = _has(
        "uvicorn.protocols.websockets.websockets_sansio_impl",
        "WebSocketsSansIOProtocol",
        (),
        ("conn", "queue", "writable", "handshake_complete", "request", "response"),
    )
    if why is not None:
        return why
    from websockets.protocol import Protocol
    from websockets.server import ServerProtocol

    for cls in (Protocol, ServerProtocol):
        if not hasattr(getattr(cls, "parse", None), "__code__"):
            return f"websockets {cls.__name__}.parse is not a generator function"
    return None


def probe_stalled_close() -> str | None:
    return _has(
        "uvicorn.protocols.websockets.websockets_sansio_impl",
        "WebSocketsSansIOProtocol",
        ("send",),
        stalled.ATTRIBUTES,
    )


def probe_gc_policy() -> str | None:
    return None if callable(getattr(gc, "freeze", None)) else "gc.freeze is missing"


def _status(name: str, check: Callable[[], str | None], wanted: bool, off: str) -> TweakStatus:
    if not wanted:
        return TweakStatus(name, False, off)
    try:
        why = check()
    except Exception as exc:  # a probe must never stop the server: stock behaviour
        why = f"probe failed: {exc!r}"
    return TweakStatus(name, why is None, why or "active")


def probe(*, serve: bool) -> Tweaks:
    """Which tweaks can be active here (`serve`: for `swarmdesk serve`)."""
    only_serve = "only under swarmdesk serve"
    return Tweaks(
        corked_http=_status("corked_http", probe_corked_http, serve, only_serve),
        lean_sockets=_status("lean_sockets", probe_lean_sockets, True, ""),
        inline_send=_status("inline_send", inline.probe, True, ""),
        gc_policy=_status("gc_policy", probe_gc_policy, serve, only_serve),
        stalled_close=_status("stalled_close", probe_stalled_close, True, ""),
    )


def log_tweaks(tweaks: Tweaks) -> None:
    for tweak in tweaks.all():
        if tweak.active:
            log.info("server tweak %s: active", tweak.name)
        else:
            log.warning("server tweak %s: off (%s)", tweak.name, tweak.detail)

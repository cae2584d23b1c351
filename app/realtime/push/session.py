"""One push connection's life: authenticate, authorise, start, then live until it ends.

Order (the protocol's guarantees rest on it): nothing is sent before the caller is
authenticated (else close 4401) and allowed to read the document (else 4404, the same
answer HTTP gives a stranger); the connection registers on the hub *before* it reads
the document (when the case is not there or not readable, it first waits, bounded,
for the views to reach the end of the log, so a case opened just before connecting is
found), then sends either a snapshot or, for ``?after=P``, exactly the stored
changes after P; only then does it go live, dropping queued changes it already has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.callers import CrossSiteRefused
from app.auth.tokens import AuthError, Principal
from app.edge import request_id_header
from app.http.problems import problem_of
from app.realtime.push.client import Client
from app.realtime.push.hub import REVOKED_REASON, Hub
from app.realtime.push.presence import wants_presence
from app.realtime.push.protocol import close_reason, dumps, patch_frame, snapshot_frame
from app.schemas.base import parse_position
from app.server.lean import lighten
from app.service.errors import ApplicationError, CaseNotFound, InvalidParameter, NotPermitted
from projections.changes import ViewChange, can_read_case, load_view_text, read_changes
from projections.list_queries import load_list_text, read_list_changes
from projections.lists import ALL_CASES, LIST_VIEWS, MYCASES, list_key

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Target:
    """The document a connection follows, and who asked."""

    view: str
    key: str
    principal: Principal
    after: int | None
    presence: bool = False


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def refused(exc: Exception) -> Refused:
    problem = problem_of(exc)
    return Refused(problem.kind.close_code, close_reason(problem.detail))


class Authenticate(Protocol):
    """Who calls, from the handshake's headers: `Authorization: Bearer` or the session
    cookie from one of our origins (`app.auth.callers.Callers.principal`); never a
    token in the URL. Raises `AuthError` (or `CrossSiteRefused`)."""

    def __call__(
        self, headers: Iterable[tuple[bytes, bytes]], *, scheme: str, method: str
    ) -> Awaitable[Principal]: ...


async def authenticate(scope: dict[str, Any], callers: Authenticate) -> Principal:
    """The caller of a WebSocket scope (see `Authenticate`)."""
    return await callers(
        scope.get("headers") or [], scheme=scope.get("scheme", "ws"), method="WEBSOCKET"
    )


def parse_after(scope: dict[str, Any]) -> int | None:
    """``?after=P`` as a non-negative integer, None when absent; else `Problem`."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("after")
    if not values:
        return None
    after = parse_position(values[-1])
    if after is None:
        raise InvalidParameter(f"after must be a position, not {values[-1][:20]!r}")
    return after


def parse_case_id(scope: dict[str, Any]) -> str:
    raw = str(scope.get("path_params", {}).get("case_id", ""))
    try:
        return str(UUID(raw))
    except ValueError:
        raise InvalidParameter(f"not a case id: {raw[:40]!r}") from None


def _shed(scope: dict[str, Any]) -> None:
    """Stock behaviour: drop what the scope no longer needs, keep the server's objects."""
    scope["headers"] = []
    scope.pop("path_params", None)


class Session:
    """Serves push connections, one `serve` call each (see the module docstring)."""

    def __init__(
        self,
        hub: Hub,
        engine: AsyncEngine,
        replay_limit: int,
        authenticate: Authenticate,
        settle: Callable[[], Awaitable[None]] | None = None,
        *,
        lean: bool = True,
    ) -> None:
        self.lean = lean  # the `lean_sockets` server tweak
        self.hub = hub
        self.authenticate = authenticate
        self.engine = engine
        self.replay_limit = replay_limit
        self.settle = settle  # waits (bounded) until the views reach the log's end

    async def serve(self, view: str, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """The whole connection, as the ASGI app's one coroutine for its whole life.

        Everything that finishes (the handshake, the snapshot or replay) runs in callees;
        while idle, the connection keeps only this frame suspended, on a single future
        when `lighten` could swap uvicorn's receive queue (`app.server.lean`).
        """
        if (await receive())["type"] != "websocket.connect":
            return
        try:
            target = await self._target(view, scope)
        except (ApplicationError, AuthError, CrossSiteRefused) as exc:
            reason = refused(exc)
            await send({"type": "websocket.accept", "headers": request_id_header(scope)})
            await send({"type": "websocket.close", "code": reason.code, "reason": reason.reason})
            return
        await send({"type": "websocket.accept", "headers": request_id_header(scope)})
        ready = lighten(scope, send) if self.lean else None
        if not self.lean:
            _shed(scope)
        reader = target.principal.actor if target.view == "case" else None
        client = self.hub.register(target.view, target.key, send, reader)
        client.presence = target.presence
        try:
            await self._start(client, target)
            if client.recheck and not await self._readable(target):  # revoked meanwhile
                raise NotPermitted(REVOKED_REASON)
            del target  # its key, principal and token claims are not needed while idle
            client.go_live()
            if client.presence:
                self.hub.announce(client.channel)
            while True:  # clients send nothing; what they send is ignored
                if ready is not None:
                    await ready()  # idle here: one future, nothing deeper
                if (await receive())["type"] == "websocket.disconnect":
                    break
        except (ApplicationError, AuthError, CrossSiteRefused) as exc:
            reason = refused(exc)
            self.hub.unregister(client)
            await send({"type": "websocket.close", "code": reason.code, "reason": reason.reason})
        finally:
            self.hub.unregister(client)

    async def _target(self, view: str, scope: dict[str, Any]) -> Target:
        principal = await authenticate(scope, self.authenticate)
        after = parse_after(scope)
        if view == "case":
            key = parse_case_id(scope)
        elif view in LIST_VIEWS:
            if view == ALL_CASES and not principal.actor.is_supervisor:
                raise NotPermitted("every case is for supervisors and admins")
            key = list_key(view, principal.actor)
        else:
            key = str(principal.actor.id)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return Target(view, key, principal, after, view == "case" and wants_presence(query))

    async def _start(self, client: Client, target: Target) -> None:
        """Check read access, then send the snapshot or the replay (see module docstring)."""
        if target.view == "case" and not await self._readable(target):
            if self.settle is not None:  # read-your-writes: a case opened just now
                await self.settle()
            if not await self._readable(target):
                raise CaseNotFound(target.key, f"no case {target.key} readable by you")
        if target.view in LIST_VIEWS:
            found: tuple[int, str] | None = await load_list_text(
                self.engine, target.view, target.key
            )
        else:
            found = await load_view_text(self.engine, target.view, target.key)
        await self._send_start(client, target, found)

    async def _replay(self, view: str, key: str, after: int) -> list[ViewChange] | None:
        """The changes after `after` (None: too many to tell; `read_list_changes`)."""
        limit = self.replay_limit + 2
        if view in (MYCASES, ALL_CASES):  # their cases' shared changes fanned out
            async with self.engine.connect() as conn:
                return await read_list_changes(conn, view, key, after, limit)
        return await read_changes(self.engine, view, key, after, limit)

    async def _readable(self, target: Target) -> bool:
        return await can_read_case(self.engine, UUID(target.key), target.principal.actor)

    async def _send_start(
        self, client: Client, target: Target, found: tuple[int, str] | None
    ) -> None:
        position = found[0] if found else 0
        after = target.after
        if after is not None and 0 < after <= position:
            if after == position:
                client.last = after  # up to date: nothing to send before live patches
                return
            changes = await self._replay(target.view, target.key, after - 1)
            if changes and changes[0].position == after and len(changes) <= self.replay_limit + 1:
                client.last = after
                prev = after
                for change in changes[1:]:
                    frame = patch_frame(change.position, prev, change.version, dumps(change.ops))
                    await client.send_text(change.position, frame)
                    prev = change.position
                return
        # no resume asked, or P unknown, too old, or too far behind: a fresh snapshot
        await client.send_text(position, snapshot_frame(position, found[1] if found else None))

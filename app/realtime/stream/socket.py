"""`WS /ws/events?after=P&type=...&case=...`: the live tail as one CloudEvent per message.

Protocol: the server authenticates (bearer header or session cookie), checks the
parameters, then sends, in position order and each once, every wanted event after `P`
(catch-up, then live) as a text message holding one CloudEvent JSON object. Filtered
tails also get `{"kind": "progress", "position": N}` marks (see `tail`). The client sends
nothing. Close codes (reason in the close frame, nothing sent before it):
4401 no or bad token, 4403 a role other than service/admin, 4422 bad parameters,
4008 too slow ("resume after position N": reconnect with `?after=N`), 1011 an
unreadable stored event, 1013 the store is unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from app.auth.callers import CrossSiteRefused
from app.auth.tokens import AuthError
from app.http.deps import services_of, websocket_principal
from app.http.problems import INTERNAL, Problem, problem_of
from app.realtime.stream.filters import EventFilter, parse_filter
from app.realtime.stream.tail import Frame, Mark, Overflow, Tail
from app.schemas.base import parse_position
from app.service.errors import ApplicationError, InvalidParameter, NotPermitted
from domain.actors import Role

log = logging.getLogger(__name__)
router = APIRouter(tags=["events"])

#: Close code for a consumer that fell behind: the reason says where to resume.
SLOW_CONSUMER = 4008
_ROLES = (Role.SERVICE, Role.ADMIN)


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    await websocket.accept()
    await websocket.close(code, reason.encode()[:120].decode(errors="ignore"))


def _parameters(websocket: WebSocket) -> tuple[int, EventFilter]:
    params = websocket.query_params
    raw_after = params.get("after", "0")
    after = parse_position(raw_after)
    if after is None:
        raise InvalidParameter(f"after must be a position (integer >= 0), not {raw_after!r}")
    return after, parse_filter(params.getlist("type"), params.get("case"))


@router.websocket("/ws/events")
async def events_socket(websocket: WebSocket) -> None:
    """The global stream as a live tail (service and admin tokens only)."""
    services = services_of(websocket.app)
    try:
        principal = await websocket_principal(websocket)
        if principal.role not in _ROLES:
            raise NotPermitted("the event stream needs a service or admin token")
        after, flt = _parameters(websocket)
    except (AuthError, ApplicationError, CrossSiteRefused) as exc:
        problem = problem_of(exc)
        await _refuse(websocket, problem.kind.close_code, problem.detail)
        return
    await websocket.accept()
    state = services.stream
    async with Tail(services.store, state.encoder, after, flt, state.limits, state.stats) as tail:
        await _serve(websocket, tail)


async def _serve(websocket: WebSocket, tail: Tail) -> None:
    delivered = [tail.given]  # the last position whose send completed
    pump = asyncio.create_task(_pump(websocket, tail, delivered))
    listen = asyncio.create_task(_until_disconnect(websocket))
    assert tail.reader is not None
    waiting: set[asyncio.Future[object]] = {pump, listen, tail.reader}  # type: ignore[arg-type]
    try:
        while pump in waiting and listen in waiting:
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if tail.reader in done and isinstance(tail.reader.exception(), Overflow):
                # The pump may be stuck in a send to this slow client: stop it, then close.
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump
                await _close(websocket, SLOW_CONSUMER, f"resume after position {delivered[0]}")
                return
        if pump.done() and not pump.cancelled() and (exc := pump.exception()) is not None:
            await _close_for(websocket, exc, delivered[0])
    finally:
        for task in (pump, listen):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _pump(websocket: WebSocket, tail: Tail, delivered: list[int]) -> None:
    send = websocket.send
    while True:
        item = await tail.next_item()
        if isinstance(item, Frame):
            await send({"type": "websocket.send", "text": item.body.decode()})
        elif isinstance(item, Mark):
            body = orjson.dumps({"kind": "progress", "position": item.position})
            await send({"type": "websocket.send", "text": body.decode()})
        else:
            continue
        delivered[0] = item.position


async def _until_disconnect(websocket: WebSocket) -> None:
    """Read (and ignore) client messages until it goes away."""
    receive = websocket.receive
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return


async def _close_for(websocket: WebSocket, exc: BaseException, delivered: int) -> None:
    if isinstance(exc, WebSocketDisconnect | OSError):
        return
    if isinstance(exc, Overflow):
        await _close(websocket, SLOW_CONSUMER, f"resume after position {delivered}")
        return
    try:
        problem = problem_of(exc)
    except TypeError:
        log.exception("event stream failed after position %d", delivered, exc_info=exc)
        problem = Problem(INTERNAL, "internal error")
    await _close(websocket, problem.kind.close_code, problem.detail)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state is WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(Exception):
        await websocket.close(code, reason.encode()[:120].decode(errors="ignore"))

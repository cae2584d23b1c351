"""`GET /api/events` (batches, long-poll) and `GET /api/events/stream` (Server-Sent Events).

Both need a `service` or `admin` token (401 without a valid one, 403 for other roles) and
take the filters `type` (repeatable or comma-separated CloudEvents types or event names)
and `case` (an id). Positions always advance past filtered-out events: the feed's
`Swarmdesk-Next-Position` and the SSE ids let a consumer resume without rescanning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from app.bootstrap import Services
from app.http.deps import ServicePrincipal, ServicesDep
from app.realtime.stream.cloudevents import BATCH_MEDIA_TYPE
from app.realtime.stream.filters import EventFilter, parse_filter
from app.realtime.stream.tail import Frame, Mark, Tail
from app.schemas.base import MAX_POSITION, parse_position
from app.service.errors import InvalidParameter

log = logging.getLogger(__name__)
router = APIRouter(tags=["events"])

NEXT_HEADER = "Swarmdesk-Next-Position"
HEAD_HEADER = "Swarmdesk-Head-Position"
TypeQuery = Annotated[
    list[str] | None,
    Query(description="CloudEvents types or event names (repeat or comma-separate)"),
]
CaseQuery = Annotated[UUID | None, Query(description="only this case's (or agent's) events")]
AfterQuery = Annotated[
    int, Query(ge=0, le=MAX_POSITION, description="start after this global position")
]


@router.get(
    "/api/events",
    response_class=Response,
    responses={
        200: {
            "content": {BATCH_MEDIA_TYPE: {}},
            "description": "A JSON array of CloudEvents; the next `after` is in "
            f"the `{NEXT_HEADER}` header (it advances past filtered-out events).",
        }
    },
)
async def read_events(
    services: ServicesDep,
    _principal: ServicePrincipal,
    after: AfterQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[float, Query(ge=0, description="long-poll seconds at the head")] = 0,
    type: TypeQuery = None,
    case: CaseQuery = None,
) -> Response:
    """The events after `after`, at most `limit`, in position order (a CloudEvents batch)."""
    state = services.stream
    if wait > state.settings.max_wait_seconds:
        raise InvalidParameter(f"wait must be at most {state.settings.max_wait_seconds} s")
    flt = parse_filter(type, case)
    store = services.store
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        head = await store.max_position()
        rows = await store.read(
            after, limit, until=head, topics=tuple(flt.topics), originator_id=flt.originator_id
        )
        # Fewer rows than asked: everything up to `head` was scanned (filters included).
        next_position = rows[-1].position if len(rows) == limit else max(head, after)
        remaining = deadline - loop.time()
        if rows or remaining <= 0:
            break
        after = next_position
        await store.notifier.wait_beyond(after, min(remaining, store.poll_interval))
    return Response(
        state.encoder.encode_batch(rows),
        media_type=BATCH_MEDIA_TYPE,
        headers={NEXT_HEADER: str(next_position), HEAD_HEADER: str(head)},
    )


def _start_position(after: int, last_event_id: str | None) -> int:
    if last_event_id is None or not last_event_id.strip():
        return after
    value = parse_position(last_event_id)
    if value is None:
        raise InvalidParameter(f"Last-Event-ID must be a position, not {last_event_id!r}")
    return value


@router.get(
    "/api/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    services: ServicesDep,
    _principal: ServicePrincipal,
    after: AfterQuery = 0,
    type: TypeQuery = None,
    case: CaseQuery = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Server-Sent Events from `after` (or `Last-Event-ID`): catch-up, then live.

    Each event is `id: <position>` + `data: <CloudEvent>`; on filtered streams a bare
    `id: <position>` moves the client's Last-Event-ID past filtered-out events. A client
    too slow to keep up has its stream ended (its EventSource resumes from its last id).
    """
    start = _start_position(after, last_event_id)
    flt = parse_filter(type, case)
    return StreamingResponse(
        _sse(services, start, flt),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _sse(services: Services, after: int, flt: EventFilter) -> AsyncIterator[bytes]:
    state = services.stream
    keepalive = state.settings.keepalive_seconds
    idle = 0.0
    async with Tail(services.store, state.encoder, after, flt, state.limits) as tail:
        yield b"retry: 1000\n\n"
        while True:
            try:
                item = await tail.next_item()
            except Exception as exc:  # overflow or an unreadable event: end; the client resumes
                log.warning("SSE stream ended after position %d: %s", tail.given, exc)
                return
            if isinstance(item, Frame):
                idle = 0.0
                yield b"id: %d\ndata: %s\n\n" % (item.position, item.body)
            elif isinstance(item, Mark):
                idle = 0.0
                yield b"id: %d\n\n" % item.position
            else:
                idle += state.limits.idle
                if idle >= keepalive:
                    idle = 0.0
                    yield b": keepalive\n\n"

"""The AsyncAPI 3 document of every channel a client can follow (served, public like
`/openapi.json`, at `/asyncapi.json`):

- the event stream (`/ws/events`, `/api/events/stream`): CloudEvents whose schemas come
  from `models` (the pydantic models whose attributes the encoder fills);
- the push sockets (`/ws/cases/{caseId}`, `/ws/inbox`, the live lists `/ws/mycases`,
  `/ws/cases`, `/ws/swarms`): snapshot, patch and heartbeat
  frames (`app.realtime.push.contract`).

Every schema is a component (`#/components/schemas/...`, each `data` schema among them
under `{EventName}Data`, where a CloudEvent's `dataschema` points); messages refer to
them, so the document resolves as a whole. Close codes are in each socket channel's
description and, machine-readable, in its `x-close-codes`. The document passes the
official `@asyncapi/parser` with no error (an e2e test runs it on the served document).
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic.json_schema import models_json_schema

from app.realtime.push import contract as push
from app.realtime.stream.models import message_models
from app.realtime.stream.socket import SLOW_CONSUMER

router = APIRouter(tags=["events"])

REF = "#/components/schemas/{model}"

_TAIL_QUERY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "after": {"type": "integer", "minimum": 0, "description": "resume after this position"},
        "type": {
            "type": "array",
            "items": {"type": "string"},
            "description": "CloudEvents types or event names (repeat or comma-separate)",
        },
        "case": {"type": "string", "format": "uuid", "description": "one case's events"},
    },
}

STREAM_CLOSE_CODES: dict[str, str] = {
    "4401": "no or invalid token",
    "4403": "not a service or admin token",
    "4422": "bad parameters",
    str(SLOW_CONSUMER): "too slow: the reason reads 'resume after position N'; reconnect "
    "with ?after=N",
    "1011": "an unreadable stored event",
    "1012": "the server is restarting or shutting down: reconnect with ?after= the last "
    "position received",
    "1013": "store unavailable",
}


def _codes_text(codes: dict[str, str]) -> str:
    return "Close codes: " + "; ".join(f"{code} {text}" for code, text in codes.items()) + "."


@functools.lru_cache(maxsize=1)
def _schemas_and_messages() -> tuple[dict[str, Any], dict[str, Any]]:
    models = message_models()
    refs, top = models_json_schema(
        [(model, "serialization") for model in models.values()], ref_template=REF
    )
    schemas: dict[str, Any] = {**top.get("$defs", {}), **push.SCHEMAS}
    messages: dict[str, Any] = {}
    for name, model in models.items():
        messages[name] = {
            "name": name,
            "title": model.__name__,
            "summary": (model.__doc__ or name).strip().splitlines()[0],
            "contentType": "application/json"
            if name == "Progress"
            else "application/cloudevents+json",
            "payload": refs[(model, "serialization")],
        }
    for name, schema in push.SCHEMAS.items():
        messages[name] = {
            "name": name,
            "title": name,
            "summary": schema["description"].split(". ")[0],
            "contentType": "application/json",
            "payload": {"$ref": REF.format(model=name)},
        }
    return schemas, messages


def _channel(
    address: str,
    title: str,
    description: str,
    server: str,
    messages: list[str],
    *,
    query: dict[str, Any] | None = None,
    close_codes: dict[str, str] | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": address,
        "title": title,
        "description": description + (f" {_codes_text(close_codes)}" if close_codes else ""),
        "servers": [{"$ref": f"#/servers/{server}"}],
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
    }
    if parameters:
        channel["parameters"] = parameters
    if query is not None:
        channel["bindings"] = {"ws": {"query": query, "bindingVersion": "0.1.0"}}
    if close_codes:
        channel["x-close-codes"] = close_codes
    return channel


_LISTS = {
    "myCases": (
        "/ws/mycases",
        "Live list of the caller's cases: a snapshot, then a patch per change",
        '`{"cases": {caseId: entry}}`: the cases the caller owns, has joined or is invited '
        "to, that are not closed; each entry has status, priority, owner, swarm state "
        "(`swarm`: open requests, experts, pending invitations), the latest change "
        "(`latest`) and the caller's `relation` (owner, participant, invited). A case handed "
        "to the caller is added, a closed one removed.",
    ),
    "allCases": (
        "/ws/cases",
        "Live list of every open case (supervisors and admins; others 4403)",
        '`{"cases": {caseId: entry}}`: every open case, entries as on `/ws/mycases` '
        "without `relation` (resolved and closed cases: `GET /api/cases?status=`).",
    ),
    "swarmBoard": (
        "/ws/swarms",
        "Live swarm board: a snapshot, then a patch per change",
        '`{"requests": {requestId: entry}}`: the open swarm requests of open cases, the '
        "same entries as `GET /api/swarms`.",
    ),
}


def _list_channels(messages: list[str]) -> dict[str, Any]:
    """The live lists (`projections.lists`): the same protocol and resume contract as a
    case; `PushPresence` never comes on them."""
    tail = (
        " A snapshot (or, with `?after=P`, exactly the stored patches after P), then each "
        "later change once, in order; `prev` detects a gap as on a case."
    )
    return {
        channel_id: _channel(
            address,
            title,
            description + tail,
            "ws",
            [m for m in messages if m != "PushPresence"],
            query={"type": "object", "properties": {"after": push.QUERY["properties"]["after"]}},
            close_codes=push.CLOSE_CODES,
        )
        for channel_id, (address, title, description) in _LISTS.items()
    }


def document(host: str) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document for a server reachable at `host` (`name:port`)."""
    schemas, messages = _schemas_and_messages()
    stream_messages = [name for name in messages if name not in push.SCHEMAS]
    push_messages = list(push.SCHEMAS)
    tail = "Catch-up from `after`, then live; each event once, in order."
    channels = {
        "eventsWebSocket": _channel(
            "/ws/events",
            "Event stream over WebSocket: one message per event",
            tail,
            "ws",
            stream_messages,
            query=_TAIL_QUERY,
            close_codes=STREAM_CLOSE_CODES,
        ),
        "eventsServerSentEvents": _channel(
            "/api/events/stream",
            "Event stream over Server-Sent Events: `id:` is the position, `data:` one message",
            tail + " Honours `Last-Event-ID`; the stream ends when the server shuts down "
            "(reconnect with `Last-Event-ID`).",
            "http",
            stream_messages,
        ),
        "caseView": _channel(
            "/ws/cases/{caseId}",
            "Live case view: a snapshot, then a patch per change",
            "The case briefing as the caller may read it: a snapshot (or, with `?after=P`, "
            "exactly the stored patches after P), then each later change once, in order.",
            "ws",
            push_messages,
            query=push.QUERY,
            close_codes=push.CLOSE_CODES,
            parameters={"caseId": {"description": "the case's id (a UUID)"}},
        ),
        "inbox": _channel(
            "/ws/inbox",
            "Live inbox of the caller: a snapshot, then a patch per change",
            "The caller's inbox: a snapshot (or the patches after `?after=P`), then each "
            "later change once, in order.",
            "ws",
            push_messages,
            query=push.QUERY,
            close_codes=push.CLOSE_CODES,
        ),
        **_list_channels(push_messages),
    }
    stream_security = [{"$ref": "#/components/securitySchemes/bearer"}]
    push_security = [
        {"$ref": "#/components/securitySchemes/bearer"},
        {"$ref": "#/components/securitySchemes/session"},
    ]
    operations: dict[str, Any] = {}
    for channel_id, channel in channels.items():
        operations[f"receive_{channel_id}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": channel["title"],
            "security": stream_security if channel_id.startswith("events") else push_security,
            "messages": [
                {"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in channel["messages"]
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Swarmdesk channels",
            "version": "1.0.0",
            "description": "The event stream: every event of the Swarmdesk log as a "
            "CloudEvents 1.0 JSON object (extensions: position, a decimal string, and "
            "caseversion); service or admin tokens; deduplicate by `id`, checkpoint by "
            "`position`. The push sockets: live read models (a case, the caller's inbox) "
            "as a snapshot and RFC 6902 patches; any agent token.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "ws": {"host": host, "protocol": "ws", "description": "WebSocket channels"},
            "http": {"host": host, "protocol": "http", "description": "Server-Sent Events"},
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "session": {
                    "type": "httpApiKey",
                    "in": "cookie",
                    "name": "swarmdesk_session",
                    "description": "a browser's session cookie (`SWARMDESK_SESSIONS_COOKIE_NAME`;"
                    " no credential is ever taken from a URL)",
                },
            },
        },
    }


@router.get("/asyncapi.json", response_class=JSONResponse)
async def asyncapi(request: Request) -> JSONResponse:
    """The AsyncAPI 3 document of the event stream and the push sockets (public)."""
    return JSONResponse(document(request.headers.get("host", "localhost")))

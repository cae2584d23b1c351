"""The AsyncAPI 3 document of the stream, generated from `models` (served at /asyncapi.json).

Every message's payload is the draft-07 JSON schema of the pydantic model whose
attributes the encoder fills, so the document and the wire cannot drift apart silently
(the end-to-end tests validate received messages against the served document).
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.http.deps import ServicePrincipal
from app.realtime.stream.models import json_schema, message_models
from app.realtime.stream.socket import SLOW_CONSUMER

router = APIRouter(tags=["events"])

CHANNELS = {
    "eventsWebSocket": ("/ws/events", "ws", "WebSocket tail: one message per event"),
    "eventsServerSentEvents": (
        "/api/events/stream",
        "http",
        "Server-Sent Events tail: `id:` is the position, `data:` one message",
    ),
}

_TAIL_PARAMETERS: dict[str, Any] = {
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

_CLOSE_CODES = (
    "Close codes (WebSocket): 4401 no or invalid token; 4403 not a service or admin token; "
    f"4422 bad parameters; {SLOW_CONSUMER} too slow (reason 'resume after position N': "
    "reconnect with ?after=N); 1011 an unreadable stored event; 1013 store unavailable."
)


@functools.lru_cache(maxsize=1)
def _messages() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, model in message_models().items():
        schema = json_schema(model)
        out[name] = {
            "name": name,
            "title": schema.get("title", name),
            "summary": (model.__doc__ or name).strip().splitlines()[0],
            "contentType": "application/json"
            if name == "Progress"
            else "application/cloudevents+json",
            "payload": schema,
        }
    return out


def document(host: str) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document for a server reachable at `host` (`name:port`)."""
    messages = _messages()
    refs = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel_id, (address, protocol, description) in CHANNELS.items():
        channels[channel_id] = {
            "address": address,
            "title": description,
            "description": f"Catch-up from `after`, then live; each event once, in order. "
            f"{_CLOSE_CODES if protocol == 'ws' else ''}".strip(),
            "servers": [{"$ref": f"#/servers/{protocol}"}],
            "messages": refs,
            "bindings": {"ws": {"query": _TAIL_PARAMETERS}} if protocol == "ws" else {},
        }
        operations[f"receive_{channel_id}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "security": [{"$ref": "#/components/securitySchemes/bearer"}],
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in messages],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Swarmdesk event stream",
            "version": "1.0.0",
            "description": "Every event of the Swarmdesk log as a CloudEvents 1.0 JSON "
            "object (extensions: position, caseversion). Needs a service or admin token. "
            "Deduplicate by `id`; checkpoint by `position`.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "ws": {
                "host": host,
                "protocol": "ws",
                "security": [{"$ref": "#/components/securitySchemes/bearer"}],
            },
            "http": {
                "host": host,
                "protocol": "http",
                "security": [{"$ref": "#/components/securitySchemes/bearer"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


@router.get("/asyncapi.json", response_class=JSONResponse)
async def asyncapi(request: Request, _principal: ServicePrincipal) -> JSONResponse:
    """The AsyncAPI 3 document of the event stream (service and admin tokens)."""
    return JSONResponse(document(request.headers.get("host", "localhost")))

"""The push protocol (`protocol`) as JSON schemas and close codes, for the AsyncAPI
document (`/asyncapi.json`). The e2e tests validate the frames a real server sends
against the served schemas, so this description and `protocol`'s frames cannot drift
apart silently."""

from __future__ import annotations

from typing import Any

from app.realtime.push.protocol import RESUME_CODE

_POSITION = {"type": "integer", "minimum": 0, "description": "a global log position"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "PushSnapshot": {
        "type": "object",
        "title": "PushSnapshot",
        "description": "The whole document as of log position `position` (`view` is null "
        "for an inbox that never changed; `position` is then 0).",
        "required": ["type", "position", "view"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "snapshot"},
            "position": _POSITION,
            "view": {"type": ["object", "null"]},
        },
    },
    "PushPatch": {
        "type": "object",
        "title": "PushPatch",
        "description": "The RFC 6902 ops of the document's next change. `prev` is the "
        "position of the change (or snapshot) this applies to: a client whose last applied "
        "position differs has a gap and reconnects with `?after=` that position.",
        "required": ["type", "position", "prev", "version", "ops"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "patch"},
            "position": _POSITION,
            "prev": _POSITION,
            "version": {"type": "integer", "minimum": 0},
            "ops": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["op", "path"],
                    "properties": {
                        "op": {
                            "enum": ["add", "remove", "replace", "move", "copy", "test"],
                        },
                        "path": {"type": "string"},
                        "from": {"type": "string"},
                        "value": {},
                    },
                },
            },
        },
    },
    "PushHeartbeat": {
        "type": "object",
        "title": "PushHeartbeat",
        "description": "Sent every ~15 s; a client that hears nothing for 45 s reconnects.",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {"type": {"const": "heartbeat"}},
    },
    "PushPresence": {
        "type": "object",
        "title": "PushPresence",
        "description": "Case sockets opened with `?presence=1` only: who has such a socket "
        "open on this case (on this server process), sent when one goes live or leaves. "
        "Carries no position: not a change of the document.",
        "required": ["type", "here"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "presence"},
            "here": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                },
            },
        },
    },
}

#: Close codes of the push sockets (the reason text is in the close frame).
CLOSE_CODES: dict[str, str] = {
    "4401": "no, malformed or expired token",
    "4403": "not permitted: the caller may no longer read the case (its access was revoked), "
    "or `/ws/cases` was asked by someone who is not a supervisor or admin",
    "4404": "no such case, or not readable by the caller (the same answer HTTP gives)",
    "4422": "invalid parameters (for instance a malformed case id or `after`)",
    str(RESUME_CODE): "the client fell too far behind; the reason reads `resume after=N`: "
    "reconnect with `?after=N` to continue with no gap",
    "1011": "an unexpected server error",
    "1012": "the server is restarting or shutting down: reconnect (to another instance) "
    "with `?after=` the last applied position",
    "1013": "the store or the views are unavailable: try again later",
}

QUERY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "after": {
            "type": "integer",
            "minimum": 0,
            "description": "the last position the client applied: replay the changes "
            "after it (or a fresh snapshot when it is unknown or too far back)",
        },
        "presence": {
            "enum": ["1", "true"],
            "description": "case sockets: count the caller as in the room and send "
            "`PushPresence` frames (the console's case room)",
        },
    },
}

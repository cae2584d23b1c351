"""The push protocol's messages and close codes (server to client only).

A connection carries one view document (a case view or the caller's inbox):

- ``{"type":"snapshot","position":P,"view":{...}}``: the whole document as of log
  position P (``view`` is null for an inbox that has never changed; P is then 0).
- ``{"type":"patch","position":p,"prev":q,"version":v,"ops":[...]}``: the RFC 6902 ops
  of the next change of that document. ``prev`` is the position of the change (or
  snapshot) this patch applies to: a client that last applied position X and receives
  ``prev != X`` has a gap and must reconnect with ``?after=X``. Positions only grow.
- ``{"type":"heartbeat"}``: sent to every connection every ~15 s (the server also sends
  WebSocket pings); a client that hears nothing for 45 s should reconnect.

Clients send nothing (anything they send is ignored). Closes: 4401 unauthenticated,
4404 unknown case or not readable by the caller, 4422 invalid parameters (all from
``app.http.problems``), ``RESUME_CODE`` (4008) when the client fell too far behind: the reason
reads ``resume after=N`` and reconnecting with ``?after=N`` continues with no gap, 1012
when the server shuts down (resume as for 4008 from the last applied position).
"""

from __future__ import annotations

import json
from typing import Any

RESUME_CODE = 4008
HEARTBEAT = '{"type":"heartbeat"}'
MAX_REASON_BYTES = 123


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def snapshot_frame(position: int, view_json: str | None) -> str:
    """The snapshot message; ``view_json`` is the stored document text (not re-encoded)."""
    return f'{{"type":"snapshot","position":{position},"view":{view_json or "null"}}}'


PREV_UNKNOWN = '"prev":null'


def patch_frame(position: int, prev: int | None, version: int, ops_json: str) -> str:
    """A patch message; with ``prev=None`` it holds `PREV_UNKNOWN` for the sender to fill."""
    prev_text = "null" if prev is None else str(prev)
    return (
        f'{{"type":"patch","position":{position},"prev":{prev_text},'
        f'"version":{version},"ops":{ops_json}}}'
    )


def resume_reason(position: int) -> str:
    return f"resume after={position}"


def close_reason(text: str) -> str:
    """``text`` cut to the 123 bytes a close frame allows (on a character boundary)."""
    data = text.encode()
    if len(data) <= MAX_REASON_BYTES:
        return text
    return data[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."

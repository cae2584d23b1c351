"""One stored row -> one CloudEvents 1.0 JSON object, serialised once.

The object (attributes in this order, the same as `models.CloudEvent`):
`specversion` "1.0", `id` the event's unique id, `source` `/swarmdesk/cases/{id}` (or
`/swarmdesk/agents/{id}`), `type` (see `catalog`), `subject` the case's (or agent's) id,
`time` the domain event's timestamp (RFC 3339), `datacontenttype` `application/json`,
`dataschema` the URI of `data`'s schema in the AsyncAPI document, the extensions
`position` (global position, a decimal string: CloudEvents integers are 32-bit and
positions are not) and `caseversion` (the aggregate's version after the event), and
`data` = `app.store.codec.event_data(event)` without the library's own bookkeeping
(`originator_topic`) and without `timestamp` (that is `time`); with traces on, the
`traceparent` extension (distributed tracing) of the append, when this process made it.

Fast path: when the event's class is at version 1 (nothing to upcast) and the mapper
neither encrypts nor compresses, `data` is built straight from the stored JSON, turning
the transcoder's `{"_type_": ..., "_data_": ...}` values into what `event_data` gives
(tested equal on every event type). Anything else goes through the mapper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper

from app.realtime.stream.catalog import topic_info
from app.store.codec import decode, event_data
from app.store.errors import EventDecodeError
from app.store.types import RecordedEvent

SPECVERSION = "1.0"
DATA_CONTENT_TYPE = "application/json"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"
EVENT_MEDIA_TYPE = "application/cloudevents+json"


class _NotPlain(Exception):
    """The stored state holds a value the fast path does not know: use the mapper."""


def _dashed(hex32: Any) -> str:
    """`UUIDAsHex`'s 32 hex digits as the canonical UUID string (what `str(UUID)` gives)."""
    if type(hex32) is not str or len(hex32) != 32:
        raise _NotPlain("uuid_hex")
    h = hex32.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        tag = value.get("_type_")
        if tag is not None and len(value) == 2 and "_data_" in value:
            if tag == "uuid_hex":
                return _dashed(value["_data_"])
            if tag == "datetime_iso":
                return value["_data_"]
            raise _NotPlain(tag)
        return {k: _plain(v) for k, v in value.items()}
    if kind is list:
        return [_plain(v) for v in value]
    return value


_CONTAINERS = (dict, list)
#: `data` members that are not the event's own: the library's, or `time` again.
NOT_DATA = ("originator_topic", "timestamp")
ASYNCAPI_PATH = "/asyncapi.json"


def data_schema_uri(base_url: str, name: str) -> str:
    """Where the schema of `name`'s `data` is: its component in the AsyncAPI document."""
    return f"{base_url.rstrip('/')}{ASYNCAPI_PATH}#/components/schemas/{name}Data"


class CloudEventEncoder:
    """Builds and serialises CloudEvents from stored rows (no pydantic on this path)."""

    def __init__(
        self,
        mapper: Mapper[UUID],
        base_url: str = "http://127.0.0.1:8000",
        *,
        traceparent: Callable[[int], str | None] | None = None,
    ) -> None:
        self.mapper = mapper
        self.base_url = base_url  # the service's public address (for `dataschema`)
        self.traceparent = traceparent  # the W3C trace context of a position's append
        self._fast = mapper.cipher is None and mapper.compressor is None

    def data_and_time(self, row: RecordedEvent) -> tuple[dict[str, Any], str]:
        """`(data, time)` of a row; raises `EventDecodeError` for an unreadable one."""
        info = topic_info(row.topic)
        if self._fast and info.version == 1 and info.event_class is not None:
            try:
                state = orjson.loads(row.state)
                data = {k: _plain(v) if type(v) in _CONTAINERS else v for k, v in state.items()}
                time = data["timestamp"]
                if isinstance(time, str):
                    return data, time
            except (_NotPlain, orjson.JSONDecodeError, KeyError, ValueError, TypeError):
                pass  # the mapper decides (and names the row if it cannot read it either)
        event = decode(self.mapper, row)
        timestamp = getattr(event, "timestamp", None)
        if timestamp is None:
            raise EventDecodeError(
                row.originator_id, row.originator_version, row.topic, "no timestamp", row.position
            )
        return event_data(event), timestamp.isoformat()

    def envelope(self, row: RecordedEvent) -> dict[str, Any]:
        """The CloudEvent of `row` as a JSON-ready dict."""
        info = topic_info(row.topic)
        data, time = self.data_and_time(row)
        for name in NOT_DATA:
            data.pop(name, None)
        subject = str(row.originator_id)
        envelope = {
            "specversion": SPECVERSION,
            "id": str(row.event_id),
            "source": info.source_prefix + subject,
            "type": info.type,
            "subject": subject,
            "time": time,
            "datacontenttype": DATA_CONTENT_TYPE,
            "dataschema": data_schema_uri(self.base_url, info.name),
            "position": str(row.position),
            "caseversion": row.originator_version,
            "data": data,
        }
        if self.traceparent is not None:
            parent = self.traceparent(row.position)
            if parent is not None:
                envelope["traceparent"] = parent
        return envelope

    def encode(self, row: RecordedEvent) -> bytes:
        """The CloudEvent of `row` as compact UTF-8 JSON."""
        return orjson.dumps(self.envelope(row))

    def encode_batch(self, rows: list[RecordedEvent]) -> bytes:
        """A JSON array of CloudEvents (`application/cloudevents-batch+json`)."""
        if not rows:
            return b"[]"
        return b"[" + b",".join(self.encode(r) for r in rows) + b"]"

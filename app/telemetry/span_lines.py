"""The console exporter's output: one compact JSON object per span and line.

`OTEL_TRACES_EXPORTER=console` writes each finished span to stdout. The SDK's default
formatter (`ReadableSpan.to_json()`) indents it over ~30 lines, so it goes through the
standard library's pure-Python encoder (the C one serves only unindented output), and it
encodes the span's resource to JSON and decodes it again for every span. Measured per
span (`bench/telemetry.py`): ~60 us, and each call left about 64 objects in reference
cycles (the encoder's nested closures refer to one another through their cells), so at
1% sampling every kept request left ~190 objects only the cyclic collector frees: more
young collections, each walking whatever else is young at the time.

`SpanLines` writes the same fields (`ReadableSpan.to_json`'s names and value formats:
hexadecimal ids with `0x`, ISO 8601 times, `SpanKind.SERVER`) on one line with orjson,
the resource encoded once per resource: a line per span suits a log collector, which
reads the service's JSON log lines from the same stream.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util import ns_to_iso_str
from opentelemetry.trace import SpanContext, format_span_id, format_trace_id
from opentelemetry.util.types import Attributes


class SpanLines:
    """A `ConsoleSpanExporter` formatter: `span` as one JSON line (see the module)."""

    __slots__ = ("_encoded", "_resource")

    def __init__(self) -> None:
        self._resource: Resource | None = None
        self._encoded = orjson.Fragment(b"null")

    def __call__(self, span: ReadableSpan) -> str:
        status = span.status
        shown_status = {"status_code": status.status_code.name}
        if status.description:
            shown_status["description"] = status.description
        parent = span.parent
        line = {
            "name": span.name,
            "context": _context(span.context) if span.context else None,
            "kind": str(span.kind),
            "parent_id": f"0x{format_span_id(parent.span_id)}" if parent else None,
            "start_time": ns_to_iso_str(span.start_time) if span.start_time else None,
            "end_time": ns_to_iso_str(span.end_time) if span.end_time else None,
            "status": shown_status,
            "attributes": _attributes(span.attributes),
            "events": [
                {
                    "name": event.name,
                    "timestamp": ns_to_iso_str(event.timestamp),
                    "attributes": _attributes(event.attributes),
                }
                for event in span.events
            ],
            "links": [
                {"context": _context(link.context), "attributes": _attributes(link.attributes)}
                for link in span.links
            ],
            "resource": self._resource_of(span.resource),
        }
        return orjson.dumps(line, default=str).decode() + os.linesep

    def _resource_of(self, resource: Resource) -> orjson.Fragment:
        """`resource` encoded (once: a provider's spans share one resource)."""
        if resource is not self._resource:
            shown = {"attributes": dict(resource.attributes), "schema_url": resource.schema_url}
            self._encoded = orjson.Fragment(orjson.dumps(shown, default=str))
            self._resource = resource
        return self._encoded


def _context(context: SpanContext) -> dict[str, str]:
    return {
        "trace_id": f"0x{format_trace_id(context.trace_id)}",
        "span_id": f"0x{format_span_id(context.span_id)}",
        "trace_state": repr(context.trace_state),
    }


def _attributes(attributes: Attributes) -> Mapping[str, Any] | None:
    if attributes is None or isinstance(attributes, dict):
        return attributes
    return dict(attributes)

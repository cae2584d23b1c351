"""The console exporter's span lines: the SDK's own fields and values, one compact line
per span, and no garbage left for the cyclic collector."""

from __future__ import annotations

import gc
import json

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from app.telemetry.span_lines import SpanLines
from app.telemetry.tracing import Tracing


def _spans() -> list[ReadableSpan]:
    """A server span and its child with a link, an event and an error status."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "swarmdesk"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    attributes: dict[str, AttributeValue] = {
        "url.path": "/api/cases",
        "n": 3,
        "ok": True,
        "tags": ("a", "b"),
    }
    server = tracer.start_as_current_span("HTTP POST", kind=SpanKind.SERVER, attributes=attributes)
    with server, tracer.start_as_current_span("append") as child:
        child.add_event("retried", {"attempt": 2})
        child.add_link(child.get_span_context(), {"swarmdesk.position": 7})
        child.set_status(Status(StatusCode.ERROR, "conflict"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def test_a_line_holds_what_the_sdk_writes_for_the_span() -> None:
    lines = SpanLines()
    for span in _spans():
        line = lines(span)
        assert line.endswith("\n")
        assert "\n" not in line[:-1]
        assert json.loads(line) == json.loads(span.to_json())


def test_the_resource_is_encoded_for_each_resource() -> None:
    lines = SpanLines()
    span = _spans()[0]
    other = ReadableSpan(name="job", context=span.context, resource=Resource({"k": "v"}))
    assert json.loads(lines(span))["resource"]["attributes"]["service.name"] == "swarmdesk"
    assert json.loads(lines(other))["resource"] == {"attributes": {"k": "v"}, "schema_url": ""}
    assert json.loads(lines(span))["resource"]["attributes"]["service.name"] == "swarmdesk"


def test_formatting_leaves_no_reference_cycles() -> None:
    spans = _spans()
    lines = SpanLines()
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            for span in spans:
                lines(span)
        assert gc.collect() == 0
        for span in spans:  # the SDK's own formatter, for contrast: its encoder's closures
            span.to_json()
        assert gc.collect() > 0
    finally:
        gc.enable()


def test_the_console_exporter_writes_a_line_per_span(capsys: pytest.CaptureFixture[str]) -> None:
    tracing = Tracing("console", sampler=ALWAYS_ON)
    tracing.start()
    assert tracing.tracer is not None
    with tracing.server_span("POST", "/api/cases", []), tracing.span("command open_case"):
        pass
    tracing.close()  # flushes the batch
    written = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [json.loads(line)["name"] for line in written] == ["command open_case", "HTTP POST"]

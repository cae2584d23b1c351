"""The tracing hooks' cheap paths: the head sampler's ratio decided without the SDK's
`SamplingResult` for a new root, the dropped request's flag, the ring of hops."""

from __future__ import annotations

import random

from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from app.telemetry.tracing import Hops, Tracing

HEADERS = [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer x")]


def _tracing(sampler: Sampler) -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing = Tracing(processor=SimpleSpanProcessor(exporter), sampler=sampler)
    tracing.start()
    return tracing, exporter


def _requests(tracing: Tracing, n: int, headers: list[tuple[bytes, bytes]]) -> list[bool]:
    """Whether each of `n` requests was recorded below the edge (as the command asks)."""
    seen = []
    for _ in range(n):
        with tracing.server_span("POST", "/api/cases", headers):
            seen.append(tracing.recording())
            tracing.appended([1])
    return seen


def test_a_ratio_samples_its_share_of_new_roots() -> None:
    random.seed(18)
    tracing, exporter = _tracing(ParentBased(TraceIdRatioBased(0.25)))
    seen = _requests(tracing, 4000, HEADERS)
    assert 800 < sum(seen) < 1200
    assert len(exporter.get_finished_spans()) == sum(seen)  # a dropped one made no span
    assert not tracing.recording()  # the flag ends with its request
    tracing.close()


def test_a_ratio_of_zero_or_one() -> None:
    zero, exporter = _tracing(ParentBased(TraceIdRatioBased(0.0)))
    assert not any(_requests(zero, 200, HEADERS))
    assert exporter.get_finished_spans() == ()
    one, exporter = _tracing(TraceIdRatioBased(1.0))
    assert all(_requests(one, 200, HEADERS))
    assert len(exporter.get_finished_spans()) == 200


def test_a_sampled_caller_is_followed_whatever_the_ratio() -> None:
    tracing, exporter = _tracing(ParentBased(TraceIdRatioBased(0.0)))
    parent = [*HEADERS, (b"traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01")]
    assert all(_requests(tracing, 3, parent))
    assert {s.context.trace_id for s in exporter.get_finished_spans()} == {int("a" * 32, 16)}
    unsampled = [*HEADERS, (b"traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-00")]
    assert not any(_requests(tracing, 3, unsampled))


def test_another_sampler_is_asked_as_it_is() -> None:
    tracing, exporter = _tracing(ALWAYS_OFF)
    assert not any(_requests(tracing, 50, HEADERS))
    assert exporter.get_finished_spans() == ()


def test_an_append_under_a_recorded_span_is_its_hop() -> None:
    tracing, _ = _tracing(TraceIdRatioBased(1.0))
    with tracing.server_span("POST", "/api/cases", HEADERS) as span:
        assert span is not None
        tracing.appended([7, 8])
    assert tracing.traceparent(7) == tracing.traceparent(8)
    assert tracing.traceparent(7) is not None
    assert trace.get_current_span().get_span_context().is_valid is False
    tracing.appended([9])  # outside any request: remembered, with no span
    hop = tracing.hops.get(9)
    assert hop is not None
    assert hop[1] is None
    assert tracing.traceparent(9) is None


def test_hops_keep_the_last_positions_only() -> None:
    hops = Hops(size=4)
    hops.acknowledged(range(10), None)
    assert [p for p in range(10) if hops.get(p) is not None] == [6, 7, 8, 9]
    assert hops.get(13) is None  # its slot holds 9, not 13
    hops.acknowledged([13], None)
    assert hops.get(9) is None
    assert hops.get(13) is not None

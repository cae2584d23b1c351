"""Traces (OpenTelemetry), off unless the standard `OTEL_*` variables turn them on.

`OTEL_TRACES_EXPORTER` names the exporter: `otlp` (OTLP over HTTP, configured by
`OTEL_EXPORTER_OTLP_*`), `console` (stdout, one compact JSON line per span:
`app.telemetry.span_lines`), or `none`, the default here (the OpenTelemetry
default is `otlp`: a service should not start sending telemetry nobody asked for).
`OTEL_SDK_DISABLED=true` turns it off whatever else is set; `OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES` and `OTEL_TRACES_SAMPLER`/`_ARG` (for instance
`parentbased_traceidratio` and `0.01`) are read by the SDK itself.

The spans of one command:

    HTTP POST               (the edge; continues the caller's `traceparent`)
    └── command open_case   (the decision, its retries included)
        └── append          (queued for the group commit until acknowledged)
    projector batch         (its own trace, linked to the append of every event in it)
    push                    (one per change sent to sockets, linked to its append)

The projector and the push run on their own tasks, batching many commands, so they are
linked to the appends rather than children of them. The link goes through `Hops`: this
process remembers, for its recent positions, when their append was acknowledged and by
which span; a position appended by another process has no link. The same span context
is the `traceparent` of the event's CloudEvent, when this process appended it.

Sampling is decided once, at the edge, by the sampler the `OTEL_TRACES_SAMPLER`
variables name (the head sampler): a request it drops makes no span at all (only a
context flag says so), so at 1% the other 99% pay almost nothing: for a new root under
a ratio sampler the decision is the ratio's own test on a random number (`_ratio_bound`),
and the flag is set by a small class. Measured in process (process CPU, the edge's hooks
of one request with `recording` twice and `appended`): 12 us with a non-recording span
per request, 5 us with the flag and the SDK's `should_sample`, 1.5-2 us now. Everything
below a sampled request is recorded (the provider's own sampler is `ALWAYS_ON`), and so
are the projector batch and push spans linked to it;
those two are made only when something they serve was traced (a batch or a change whose
events were appended, in this process, under a recorded span). Outside any request (a
job's span), the head sampler decides for the new root.

Off, every hook is an attribute test: `tracer` is None.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanContext, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from app.telemetry.span_lines import SpanLines

PROPAGATOR = TraceContextTextMapPropagator()
OFF = ("", "none")
_TRACE_HEADERS = (b"traceparent", b"tracestate")
#: True while serving a request the head sampler dropped (its code makes no span).
_DROPPED: contextvars.ContextVar[bool] = contextvars.ContextVar("swarmdesk_dropped", default=False)


class Hops:
    """For this process's recent positions: when their append was acknowledged
    (`time.perf_counter()`) and the span that appended them (the last `size` positions).

    A ring indexed by position modulo `size`: positions only grow, so a slot holds the
    latest position that maps to it, and one an older position left is not answered
    for a newer one (the slot keeps its position). No eviction loop, no ordered dict:
    an append pays two list stores (0.7 -> 0.3 us, `bench/telemetry.py`)."""

    __slots__ = ("_slots", "size")

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._slots: list[tuple[int, float, SpanContext | None] | None] = [None] * size

    def acknowledged(self, positions: Iterable[int], span: SpanContext | None) -> None:
        now = time.perf_counter()
        slots, size = self._slots, self.size
        for position in positions:
            slots[position % size] = (position, now, span)

    def get(self, position: int) -> tuple[float, SpanContext | None] | None:
        hop = self._slots[position % self.size]
        if hop is None or hop[0] != position:
            return None
        return hop[1], hop[2]


def traceparent_of(span: SpanContext) -> str:
    return f"00-{span.trace_id:032x}-{span.span_id:016x}-{int(span.trace_flags):02x}"


class Tracing:
    """The process's tracer (or none); `start` builds the exporter, `close` flushes it."""

    def __init__(
        self,
        exporter: str = "none",
        *,
        processor: SpanProcessor | None = None,
        resource: Mapping[str, str] | None = None,
        sampler: Sampler | None = None,
    ) -> None:
        self.exporter = exporter.strip().lower()
        self._processor = processor  # tests: an in-memory exporter's processor
        self._resource = dict(resource or {})
        self._head = sampler  # None: the OTEL_TRACES_SAMPLER one, read at `start`
        self._root_bound: int | None = None  # see `_ratio_bound`
        self.provider: TracerProvider | None = None
        self.tracer: Tracer | None = None
        self.hops = Hops()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Tracing:
        """What the `OTEL_*` variables ask for (nothing is built until `start`)."""
        env = os.environ if environ is None else environ
        if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
            return cls("none")
        return cls(env.get("OTEL_TRACES_EXPORTER", "none").split(",")[0])

    @property
    def enabled(self) -> bool:
        return self._processor is not None or self.exporter not in OFF

    def start(self) -> None:
        """Build the provider and exporter when enabled (idempotent)."""
        if self.provider is not None or not self.enabled:
            return
        resource = Resource.create({"service.name": "swarmdesk", **self._resource})
        if self._head is None:  # the SDK's reading of OTEL_TRACES_SAMPLER (and _ARG)
            self._head = TracerProvider(shutdown_on_exit=False).sampler
        self._root_bound = _ratio_bound(self._head)
        provider = TracerProvider(resource=resource, sampler=ALWAYS_ON)  # decided: the head
        provider.add_span_processor(self._processor or BatchSpanProcessor(self._export()))
        self.provider = provider
        self.tracer = provider.get_tracer("swarmdesk")

    def _export(self) -> Any:
        if self.exporter == "console":  # a compact JSON line per span (`span_lines`)
            return ConsoleSpanExporter(out=sys.stdout, formatter=SpanLines())
        if self.exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            return OTLPSpanExporter()
        raise ValueError(f"OTEL_TRACES_EXPORTER={self.exporter!r}: use otlp, console or none")

    def close(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()
            self.provider = None
            self.tracer = None

    # -- hooks (each a no-op when off) -------------------------------------------------
    def server_span(
        self, method: str, path: str, headers: Iterable[tuple[bytes, bytes]]
    ) -> contextlib.AbstractContextManager[trace.Span | None]:
        """The edge's span of one HTTP request, continuing its `traceparent`."""
        if self.tracer is None:
            return contextlib.nullcontext()
        carrier: dict[str, str] | None = None
        for key, value in headers:
            if key in _TRACE_HEADERS:
                if carrier is None:
                    carrier = {}
                carrier[key.decode("latin-1")] = value.decode("latin-1")
        if carrier is None:
            bound = self._root_bound
            if bound is not None:  # a new root under a ratio: the ratio's own test
                if random.getrandbits(64) >= bound:
                    return _Dropped()
            elif not self._sampled(f"HTTP {method}", None):
                return _Dropped()
            parent: Context | None = None
        else:
            parent = PROPAGATOR.extract(carrier)
            if not self._sampled(f"HTTP {method}", parent):
                return _Dropped()
        return self.tracer.start_as_current_span(
            f"HTTP {method}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        )

    def recording(self) -> bool:
        """Whether a child of the current span would be recorded: not when tracing is off
        or the request's span was not sampled (its children follow its decision)."""
        if self.tracer is None or _DROPPED.get():
            return False
        current = trace.get_current_span()
        if current.get_span_context().is_valid:
            return current.is_recording()
        return self._sampled("job", None)  # a new root outside any request

    def _sampled(self, name: str, parent: Context | None) -> bool:
        """The head sampler's decision for a span named `name` under `parent`."""
        head = self._head
        if head is None:
            return True
        context = trace.get_current_span(parent).get_span_context() if parent else None
        trace_id = context.trace_id if context and context.is_valid else random.getrandbits(128)
        decision = head.should_sample(parent, trace_id, name).decision
        return decision is not Decision.DROP

    @contextlib.contextmanager
    def span(self, name: str, **attributes: str | int) -> Iterator[trace.Span | None]:
        """A child of the current span (the decision, the append); callers skip it when
        not `recording` (an unsampled request costs one span, the edge's)."""
        if self.tracer is None:
            yield None
            return
        with self.tracer.start_as_current_span(name, attributes=attributes) as span:
            yield span

    def appended(self, positions: Iterable[int]) -> None:
        """Remember the current span as the append of `positions` (and when)."""
        span = None
        if self.tracer is not None and not _DROPPED.get():
            current = trace.get_current_span()
            if current.is_recording():
                span = current.get_span_context()
        self.hops.acknowledged(positions, span)

    def projected(self, positions: Iterable[int], seconds: float) -> None:
        """A span for a committed projector batch, linked to the appends of its events."""
        if self.tracer is None:
            return
        links = self._links(positions)
        if not links:  # nothing in the batch was traced
            return
        end = time.time_ns()
        span = self.tracer.start_span(
            "projector batch",
            context=Context(),  # a root: the batch serves many commands
            links=links,
            start_time=end - int(seconds * 1e9),
            attributes={"swarmdesk.events": len(links)},
        )
        span.end(end_time=end)

    def pushed(self, position: int, clients: int) -> None:
        """A span for one change handed to `clients` push sockets."""
        if self.tracer is None:
            return
        links = self._links([position])
        if not links:  # the change's append was not traced (here)
            return
        span = self.tracer.start_span(
            "push",
            context=Context(),
            links=links,
            attributes={"swarmdesk.position": position, "swarmdesk.clients": clients},
        )
        span.end()

    def traceparent(self, position: int) -> str | None:
        """The W3C trace context of the append of `position`, when this process made it."""
        hop = self.hops.get(position)
        if hop is None or hop[1] is None:
            return None
        return traceparent_of(hop[1])

    def _links(self, positions: Iterable[int]) -> list[Link]:
        """Links to the recorded appends of `positions` (those this process made)."""
        links: list[Link] = []
        seen: set[int] = set()
        for position in positions:
            hop = self.hops.get(position)
            if hop is not None and hop[1] is not None and hop[1].span_id not in seen:
                seen.add(hop[1].span_id)
                links.append(Link(hop[1], {"swarmdesk.position": position}))
        return links


def _ratio_bound(head: Sampler | None) -> int | None:
    """For a head sampler that decides a new root by its trace id's ratio alone
    (`traceidratio`, `parentbased_traceidratio`, the `OTEL_TRACES_SAMPLER` values that
    sample a share): the bound a random 64-bit number must stay under, which is that
    sampler's own test (`trace_id & (2**64 - 1) < bound`) on a random trace id without
    its `SamplingResult` (about 1 us of the 5 a dropped request cost). None for any
    other sampler (asked as it is)."""
    # ParentBased asks its root sampler for a span without a parent; the SDK keeps it in
    # `_root` (no public accessor): when that changes, the general path answers.
    root = getattr(head, "_root", None) if isinstance(head, ParentBased) else head
    return root.bound if isinstance(root, TraceIdRatioBased) else None


class _Dropped:
    """Serve a request the head sampler dropped: no span; its code asks `recording`.
    (A class rather than a generator context manager: half the cost.)"""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _DROPPED.set(True)

    def __exit__(self, *_: object) -> None:
        _DROPPED.reset(self._token)

"""`GET /metrics`: the process's metrics in the Prometheus text format (`prometheus_client`).

Contract: counters only grow while the process lives; gauges say what is now. Nothing
here names a case, an agent or a token (aggregates only), so, like `/healthz`, it needs
no token: scrapers reach it on the service's own address.

- `ServiceCollector` reads the counters the parts already keep (store, projector, push
  hub, stream tails, fast dispatcher, server tweaks) at scrape time: the hot paths pay
  nothing for them. The projector lag is the log's head as this process knows it minus
  the projected position.
- The histograms are `app.telemetry.metrics.Metrics` (observed as things happen).
- `process_*`: CPU, memory, open files of this process.

With several workers (`PROMETHEUS_MULTIPROC_DIR` set, see `app.telemetry.metrics`) the
histograms are summed over every worker; the collector's figures are the answering
worker's, labelled `worker="<pid>"`, and the `process_*` family is left out (it would
describe one worker at random).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.bootstrap import Services
from app.http.deps import services_of
from app.telemetry.metrics import Metrics, multiprocess_dir

router = APIRouter(tags=["health"])


class ServiceCollector(Collector):
    """The parts' own counters and gauges, read when scraped."""

    def __init__(self, services: Services, api: Any, worker: str | None = None) -> None:
        self.services = services
        self.api = api  # the FastAPI app: its `state.dispatcher` is set after start-up
        self.labels = {"worker": worker} if worker else {}

    def rows(self) -> list[tuple[str, str, str, float]]:
        """`(kind, name, help, value)` of every plain counter and gauge, now."""
        s = self.services
        store, hub, tails = s.store, s.push.hub, s.stream.stats
        out: list[tuple[str, str, str, float]] = [
            ("counter", "swarmdesk_append_batches", "committed append batches", store.batches),
            ("counter", "swarmdesk_append_requests", "append requests in committed batches",
             store.batched_requests),
            ("gauge", "swarmdesk_push_clients", "open push sockets", hub.client_count),
            ("counter", "swarmdesk_push_changes", "changes pushed", hub.stats.changes),
            ("counter", "swarmdesk_push_deliveries", "frames queued to push clients",
             hub.stats.deliveries),
            ("counter", "swarmdesk_push_fell_behind", "push sockets closed for lagging (4008)",
             hub.stats.fell_behind),
            ("gauge", "swarmdesk_stream_tails", "open event-stream tails (WebSocket, SSE)",
             tails.open),
            ("counter", "swarmdesk_stream_slow_closes",
             "event-stream tails closed for a slow consumer (4008)", tails.slow_closes),
        ]  # fmt: skip
        projector = s.views.projector
        if projector is not None:
            head = max(store.notifier.latest, projector.position)
            out += [
                ("gauge", "swarmdesk_projector_leading", "1 while this process projects",
                 float(projector.leading)),
                ("gauge", "swarmdesk_projector_position", "last log position projected",
                 projector.position),
                ("gauge", "swarmdesk_projector_lag", "log head minus the projected position",
                 head - projector.position),
                ("counter", "swarmdesk_projector_batches", "committed projector batches",
                 projector.batches),
                ("counter", "swarmdesk_projector_events", "events projected", projector.events),
            ]  # fmt: skip
        dispatcher = getattr(self.api.state, "dispatcher", None)
        if dispatcher is not None:
            out += [
                ("counter", "swarmdesk_commands_short_path",
                 "command requests served by the fast dispatcher", dispatcher.served),
                ("counter", "swarmdesk_commands_full_path",
                 "command requests handed to the full FastAPI stack", dispatcher.passed_on),
            ]  # fmt: skip
        return out

    def collect(self) -> Iterator[Metric]:
        names, values = list(self.labels), list(self.labels.values())
        for kind, name, text, value in self.rows():
            cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            family = cls(name, text, labels=names)
            family.add_metric(values, value)
            yield family
        s = self.services
        tweaks = GaugeMetricFamily(
            "swarmdesk_server_tweak_active",
            "1 while a server tweak is active in this process",
            labels=["tweak", *self.labels],
        )
        for tweak in s.tweaks.all():
            tweaks.add_metric([tweak.name, *self.labels.values()], int(tweak.active))
        yield tweaks


def registry_for(services: Services, api: Any) -> CollectorRegistry:
    """What `/metrics` answers for this process (see the module's docstring)."""
    registry = CollectorRegistry(auto_describe=True)
    if multiprocess_dir() is not None:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(ServiceCollector(services, api, worker=str(os.getpid())))
        return registry
    registry.register(ServiceCollector(services, api))
    registry.register(_Forward(services.metrics))
    ProcessCollector(registry=registry)
    return registry


class _Forward(Collector):
    """The histograms' registry, as part of this one (held observations folded first)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        self.metrics.fold()
        yield from self.metrics.registry.collect()


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """The process's metrics, Prometheus text format."""
    state = request.app.state
    registry: CollectorRegistry | None = getattr(state, "metrics_registry", None)
    if registry is None:
        registry = state.metrics_registry = registry_for(services_of(request.app), request.app)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

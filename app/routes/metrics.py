"""`GET /metrics`: the process's counters in the Prometheus text format (version 0.0.4).

Contract: counters only grow while the process lives; gauges say what is now. Nothing
here names a case, an agent or a token (aggregates only), so, like `/healthz`, it needs
no token: scrapers reach it on the service's own address. Each process reports its own
(the projector's figures come from the process that leads it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from app.composition import Container

router = APIRouter(tags=["health"])

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def samples(container: Container, short_path: Any) -> list[tuple[str, str, str, float]]:
    """`(name, type, help, value)` for every metric this process has."""
    store = container.store
    out: list[tuple[str, str, str, float]] = [
        ("swarmdesk_append_batches_total", "counter", "committed append batches",
         store.batches),
        ("swarmdesk_append_requests_total", "counter", "append requests in committed batches",
         store.batched_requests),
    ]  # fmt: skip
    projector = getattr(container.extras.get("views"), "projector", None)
    if projector is not None:
        out += [
            ("swarmdesk_projector_leading", "gauge", "1 while this process projects",
             float(projector.leading)),
            ("swarmdesk_projector_position", "gauge", "last log position projected",
             projector.position),
            ("swarmdesk_projector_batches_total", "counter", "committed projector batches",
             projector.batches),
            ("swarmdesk_projector_events_total", "counter", "events projected",
             projector.events),
        ]  # fmt: skip
    push = container.extras.get("push")
    if push is not None:
        stats = push.hub.stats
        out += [
            ("swarmdesk_push_clients", "gauge", "open push connections", push.hub.client_count),
            ("swarmdesk_push_changes_total", "counter", "changes pushed", stats.changes),
            ("swarmdesk_push_deliveries_total", "counter", "frames queued to clients",
             stats.deliveries),
            ("swarmdesk_push_fell_behind_total", "counter", "clients closed for lagging",
             stats.fell_behind),
        ]  # fmt: skip
    if short_path is not None:
        out += [
            ("swarmdesk_commands_short_path_total", "counter",
             "command requests served on the short path", short_path.served),
            ("swarmdesk_commands_full_path_total", "counter",
             "command requests handed to the full FastAPI stack", short_path.passed_on),
        ]  # fmt: skip
    return out


def exposition(metrics: list[tuple[str, str, str, float]]) -> str:
    lines: list[str] = []
    for name, kind, text, value in metrics:
        number = int(value) if float(value).is_integer() else value  # exact, never 1e+06
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {number}"]
    return "\n".join(lines) + "\n"


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """The process's counters, Prometheus text format."""
    container: Container = request.app.state.container
    short_path = getattr(request.app.state, "short_path", None)
    return PlainTextResponse(exposition(samples(container, short_path)), media_type=CONTENT_TYPE)

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

from app.bootstrap import Services
from app.http.deps import services_of

router = APIRouter(tags=["health"])

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def samples(services: Services, dispatcher: Any) -> list[tuple[str, str, str, float]]:
    """`(name, type, help, value)` for every metric this process has."""
    store = services.store
    out: list[tuple[str, str, str, float]] = [
        ("swarmdesk_append_batches_total", "counter", "committed append batches",
         store.batches),
        ("swarmdesk_append_requests_total", "counter", "append requests in committed batches",
         store.batched_requests),
    ]  # fmt: skip
    projector = services.views.projector
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
    push = services.push
    stats = push.hub.stats
    out += [
        ("swarmdesk_push_clients", "gauge", "open push connections", push.hub.client_count),
        ("swarmdesk_push_changes_total", "counter", "changes pushed", stats.changes),
        ("swarmdesk_push_deliveries_total", "counter", "frames queued to clients",
         stats.deliveries),
        ("swarmdesk_push_fell_behind_total", "counter", "clients closed for lagging",
         stats.fell_behind),
    ]  # fmt: skip
    if dispatcher is not None:
        out += [
            ("swarmdesk_commands_short_path_total", "counter",
             "command requests served by the fast dispatcher", dispatcher.served),
            ("swarmdesk_commands_full_path_total", "counter",
             "command requests handed to the full FastAPI stack", dispatcher.passed_on),
        ]  # fmt: skip
    return out


def tweak_lines(services: Services) -> str:
    """`swarmdesk_server_tweak_active{tweak="..."}`: 1 when the tweak is on here."""
    lines = [
        "# HELP swarmdesk_server_tweak_active 1 while a server tweak is active in this process",
        "# TYPE swarmdesk_server_tweak_active gauge",
    ]
    for tweak in services.tweaks.all():
        lines.append(f'swarmdesk_server_tweak_active{{tweak="{tweak.name}"}} {int(tweak.active)}')
    return "\n".join(lines) + "\n"


def exposition(metrics: list[tuple[str, str, str, float]]) -> str:
    lines: list[str] = []
    for name, kind, text, value in metrics:
        number = int(value) if float(value).is_integer() else value  # exact, never 1e+06
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {number}"]
    return "\n".join(lines) + "\n"


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """The process's counters, Prometheus text format."""
    services = services_of(request.app)
    dispatcher = getattr(request.app.state, "dispatcher", None)
    body = exposition(samples(services, dispatcher)) + tweak_lines(services)
    return PlainTextResponse(body, media_type=CONTENT_TYPE)

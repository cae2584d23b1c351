"""The service as one ASGI application: the edge around push, commands and the API.

`app.asgi:app` is the stock application (settings from the environment); `swarmdesk
serve` runs `app.server.entry:app`, the same application with the server tweaks that
probe active (`app.server.tweaks`).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware import Middleware

from app.edge import Edge
from app.edge_layers import edge_layers
from app.http.app import create_app
from app.http.dispatcher import Dispatcher
from app.realtime.push.asgi import PushFirst
from app.server.tweaks import Tweaks
from app.service.clock import Clock
from app.settings import Settings
from app.store import EventStore
from app.telemetry.tracing import Tracing


def build_asgi(
    settings: Settings | None = None,
    *,
    tweaks: Tweaks | None = None,
    store: EventStore | None = None,
    layers: Sequence[Middleware] | None = None,
    tracing: Tracing | None = None,
    clock: Clock | None = None,
) -> Edge:
    """The whole service (see `app.edge` for the stack); `layers` go inside the edge
    (default: CORS, security headers and limits from the settings, `app.edge_layers`).
    `tracing` (by default what the `OTEL_*` variables say) starts with the lifespan;
    `clock` (by default the system's) drives the timers and the notifier."""
    settings = settings or Settings()
    tracing = tracing or Tracing.from_env()
    api = create_app(settings, tweaks=tweaks, store=store, tracing=tracing, clock=clock)
    if layers is None:
        layers = edge_layers(settings)
    return Edge(PushFirst(api, rest=Dispatcher(api)), layers, tracing=tracing)


app = build_asgi()

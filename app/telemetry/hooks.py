"""The observers the composition root hands to the parts: each hook feeds both the
metrics and the traces, so a part calls one function and knows neither."""

from __future__ import annotations

import time
from collections.abc import Sequence

from app.telemetry.metrics import Metrics
from app.telemetry.tracing import Tracing
from projections.envelope import Recorded


class Hooks:
    """`projected` for the projector's `on_batch`, `pushed` for the hub's `on_publish`
    (`metrics` None: no histogram observed, `SWARMDESK_METRICS=false`)."""

    __slots__ = ("metrics", "tracing")

    def __init__(self, metrics: Metrics | None, tracing: Tracing) -> None:
        self.metrics = metrics
        self.tracing = tracing

    def projected(self, rows: Sequence[Recorded], seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.observe_projection(len(rows), seconds)
        if self.tracing.tracer is not None:
            self.tracing.projected([row.position for row in rows], seconds)

    def pushed(self, position: int, clients: int) -> None:
        if self.metrics is not None:
            hop = self.tracing.hops.get(position)
            if hop is not None:
                self.metrics.observe_push_ack(time.perf_counter() - hop[0])
        self.tracing.pushed(position, clients)

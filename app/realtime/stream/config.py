"""The stream's per-process state: the CloudEvents encoder and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.realtime.stream.cloudevents import CloudEventEncoder
from app.realtime.stream.tail import TailLimits, TailStats
from app.settings import StreamSettings


@dataclass(frozen=True, slots=True)
class StreamService:
    encoder: CloudEventEncoder
    settings: StreamSettings
    stats: TailStats = field(default_factory=TailStats)

    @property
    def limits(self) -> TailLimits:
        s = self.settings
        return TailLimits(queue=s.queue, stall=s.stall_seconds, idle=s.idle_seconds)

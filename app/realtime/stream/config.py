"""The stream's per-process state: the CloudEvents encoder and its limits."""

from __future__ import annotations

from dataclasses import dataclass

from app.realtime.stream.cloudevents import CloudEventEncoder
from app.realtime.stream.tail import TailLimits
from app.settings import StreamSettings


@dataclass(frozen=True, slots=True)
class StreamService:
    encoder: CloudEventEncoder
    settings: StreamSettings

    @property
    def limits(self) -> TailLimits:
        s = self.settings
        return TailLimits(queue=s.queue, stall=s.stall_seconds, idle=s.idle_seconds)

"""The stream's tunables (environment prefix `SWARMDESK_STREAM_`) and its per-app state."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.composition import Container
from app.stream.cloudevents import CloudEventEncoder
from app.stream.tail import TailLimits


class StreamSettings(BaseSettings):
    """Per-consumer limits of the live tails and of the HTTP feed."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_STREAM_", extra="ignore")

    queue: int = Field(default=1000, ge=1, description="frames buffered per tail consumer")
    stall_seconds: float = Field(
        default=10.0, gt=0, description="a full queue this long closes a tail (resume code)"
    )
    idle_seconds: float = Field(default=1.0, gt=0, description="progress mark delay")
    keepalive_seconds: float = Field(default=15.0, gt=0, description="SSE keep-alive")
    max_wait_seconds: float = Field(default=30.0, ge=0, description="cap of ?wait= on the feed")


@dataclass(frozen=True, slots=True)
class StreamState:
    encoder: CloudEventEncoder
    settings: StreamSettings

    @property
    def limits(self) -> TailLimits:
        s = self.settings
        return TailLimits(queue=s.queue, stall=s.stall_seconds, idle=s.idle_seconds)


def stream_state(container: Container) -> StreamState:
    """The stream's state for this app, built on first use (never at import time)."""
    state = container.extras.get("stream")
    if not isinstance(state, StreamState):
        state = StreamState(CloudEventEncoder(container.mapper), StreamSettings())
        container.extras["stream"] = state
    return state

"""The service's one settings class (environment prefix `SWARMDESK_`), with a nested
section per part: `store`, `commands`, `projector`, `push`, `stream`.

Each section reads its own prefix (`SWARMDESK_PUSH_QUEUE_LIMIT`, ...), so a part's
tunables sit together and a test replaces one section without touching the rest.
Nothing here does I/O: the embedded secret is created by a start-up step
(`app.auth.secret.signing_key`), and no instance exists at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "changethis", ""}


class StoreSettings(BaseSettings):
    """The event store's appender and subscriptions (`SWARMDESK_STORE_`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_STORE_", extra="ignore")

    max_batch: int = Field(default=1000, ge=1, description="requests per group commit")
    pool_size: int = Field(default=10, ge=2, description="PostgreSQL connections per process")
    statement_timeout_seconds: float = Field(
        default=10.0, gt=0, description="any statement or round trip gives up after it"
    )
    acquire_timeout_seconds: float = Field(
        default=5.0, gt=0, description="connecting or taking a pooled connection"
    )


class CommandSettings(BaseSettings):
    """The command side (`SWARMDESK_COMMANDS_`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_COMMANDS_", extra="ignore")

    deadline_seconds: float = Field(
        default=10.0, gt=0, le=300, description="a command not done by then answers 503"
    )
    conflict_deadline_seconds: float = Field(
        default=5.0, ge=0, le=60, description="how long a command is decided again on conflicts"
    )
    cache_size: int = Field(default=10_000, ge=0, description="aggregates kept per process")
    snapshot_every: int = Field(
        default=1000, ge=0, description="keep a case's snapshot every N events (0: never)"
    )


class ProjectorSettings(BaseSettings):
    """The projector (`SWARMDESK_PROJECTOR_`; `SWARMDESK_PROJECTOR=false` turns it off)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_PROJECTOR_", extra="ignore")

    enabled: bool = Field(default=True, description="run the projector in this process")
    batch_size: int = Field(default=500, ge=1)
    linger_seconds: float = Field(default=0.01, ge=0, description="wait for more under load")
    linger_backlog: int = Field(default=8, ge=1, description="queued events that make it wait")
    uuid_cache: int = Field(default=4_096, ge=0, description="the live decoder's UUID cache")
    stall_seconds: float = Field(
        default=30.0, gt=0, description="lagging this long without progress: stuck, restarted"
    )


class RetentionSettings(BaseSettings):
    """What is kept only for a while (`SWARMDESK_RETENTION_`; see `app.service.retention`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_RETENTION_", extra="ignore")

    idempotency_hours: float = Field(default=24.0, gt=0, description="keys kept this long")
    keep_changes: int = Field(default=100_000, ge=1_000, description="push changes kept")
    every_seconds: float = Field(default=300.0, gt=0, description="how often to prune")


class PushSettings(BaseSettings):
    """Live push over WebSockets (`SWARMDESK_PUSH_`); the defaults suit production."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_PUSH_", extra="ignore")

    queue_limit: int = Field(default=256, ge=1)  # frames a client may lag before 4008
    heartbeat_seconds: float = Field(default=15.0, ge=0)  # 0: no heartbeats
    replay_limit: int = Field(default=1000, ge=0)  # more changes than this: a snapshot
    poll_seconds: float = Field(default=1.0, gt=0)  # feed poll when no wake-up comes


class StreamSettings(BaseSettings):
    """Per-consumer limits of the event stream's tails and feed (`SWARMDESK_STREAM_`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_STREAM_", extra="ignore")

    queue: int = Field(default=1000, ge=1, description="frames buffered per tail consumer")
    stall_seconds: float = Field(
        default=10.0, gt=0, description="a full queue this long closes a tail (resume code)"
    )
    idle_seconds: float = Field(default=1.0, gt=0, description="progress mark delay")
    keepalive_seconds: float = Field(default=15.0, gt=0, description="SSE keep-alive")
    max_wait_seconds: float = Field(default=30.0, ge=0, description="cap of ?wait= on the feed")


class Settings(BaseSettings):
    """Typed settings; the embedded default needs none of them set."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_", extra="ignore")

    data_dir: Path = Path(".swarmdesk")
    database_url: str = ""
    database_schema: str | None = None
    secret_key: SecretStr = SecretStr("")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    token_ttl_seconds: int = Field(default=8 * 3600, gt=0)
    log_level: str = "info"
    min_position_wait_seconds: float = Field(default=5.0, ge=0, le=60)

    store: StoreSettings = Field(default_factory=StoreSettings)
    commands: CommandSettings = Field(default_factory=CommandSettings)
    projector: ProjectorSettings = Field(default_factory=ProjectorSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    stream: StreamSettings = Field(default_factory=StreamSettings)

    @field_validator("projector", mode="before")
    @classmethod
    def _projector_switch(cls, value: Any) -> Any:
        """`SWARMDESK_PROJECTOR=false` (and `projector=False`) is the on/off switch."""
        if isinstance(value, bool | int | str):
            enabled = str(value).strip().lower() not in ("0", "false", "no", "off", "")
            return ProjectorSettings(enabled=enabled)
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        value = value.strip()
        for plain in ("postgresql://", "postgres://"):
            if value.startswith(plain):
                return "postgresql+asyncpg://" + value[len(plain) :]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Self:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'swarmdesk.db'}"
        if not self.embedded:
            secret = self.secret_key.get_secret_value()
            if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 16:
                raise ValueError(
                    "SWARMDESK_SECRET_KEY must be set (at least 16 characters, not a "
                    "placeholder) when SWARMDESK_DATABASE_URL is not the embedded SQLite default"
                )
        return self

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

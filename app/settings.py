"""The service's one settings class (environment prefix `SWARMDESK_`), with a nested
section per part: `store`, `commands`, `projector`, `push`, `stream`, and for identity
and the edge `oidc`, `sessions`, `edge`.

Each section reads its own prefix (`SWARMDESK_PUSH_QUEUE_LIMIT`, ...), so a part's
tunables sit together and a test replaces one section without touching the rest.
Nothing here does I/O: the embedded secret is created by a start-up step
(`app.auth.secret.signing_key`), and no instance exists at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.matching_settings import MatchingSettings, NotifySettings, TimerSettings

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


class OutcomeSettings(BaseSettings):
    """SLA engine and KPI projection (`SWARMDESK_OUTCOMES_`); they run where the projector
    runs, one leader each per database (the SLA engine's deadlines fire on the timers'
    runner, `SWARMDESK_TIMERS_`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_OUTCOMES_", extra="ignore")

    enabled: bool = Field(default=True, description="run the SLA engine and KPI projection")
    skew_seconds: float = Field(
        default=0.0,
        description="the timers' clock (SLA deadlines too) runs this far ahead, added to "
        "SWARMDESK_TIMERS_SKEW_SECONDS (tests, never production)",
    )


class PushSettings(BaseSettings):
    """Live push over WebSockets (`SWARMDESK_PUSH_`); the defaults suit production."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_PUSH_", extra="ignore")

    queue_limit: int = Field(default=256, ge=1)  # frames a client may lag before 4008
    queue_bytes: int = Field(default=1 << 20, ge=1024)  # bytes a client may lag before 4008
    stall_seconds: float = Field(default=10.0, gt=0)  # a send suspended this long: 4008
    close_grace_seconds: float = Field(default=5.0, gt=0)  # then aborted if unanswered
    max_client_frame: int = Field(default=4096, ge=125)  # bytes a client message may have
    heartbeat_seconds: float = Field(default=15.0, ge=0)  # 0: no heartbeats
    replay_limit: int = Field(default=1000, ge=0)  # more changes than this: a snapshot
    poll_seconds: float = Field(default=1.0, gt=0)  # feed poll when no wake-up comes
    #: PostgreSQL: each process re-announces who is in its case rooms this often; a
    #: process not heard for three times this long drops out (`presence_relay`).
    presence_seconds: float = Field(default=10.0, ge=0.1, le=3600)


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
    public_url: str = Field(
        default="",
        description="the service's public URL (CloudEvents `dataschema`); default http://HOST:PORT",
    )


def comma_list(text: str) -> tuple[str, ...]:
    """`"a, b,,c"` -> `("a", "b", "c")` (list settings are comma-separated)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


class OIDCSettings(BaseSettings):
    """An OpenID provider's tokens and browser sign-in (`SWARMDESK_OIDC_`); off while
    `issuer` is empty (the embedded default: locally signed tokens only)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_OIDC_", extra="ignore")

    issuer: str = Field(default="", description="the provider's issuer URL")
    audience: str = Field(default="", description="the `aud` our access tokens carry")
    roles_claim: str = Field(default="roles", description="claim with the roles (dotted path)")
    role_map: str = Field(
        default="", description="`theirs=ours,...` (e.g. `swarm-admins=admin`); none: as named"
    )
    name_claim: str = Field(default="name", description="claim with the display name")
    algorithms: str = Field(default="RS256,ES256", description="accepted JWS algorithms")
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwks_refetch_seconds: float = Field(
        default=30.0, ge=0, description="least time between JWKS fetches for an unknown kid"
    )
    http_timeout_seconds: float = Field(default=5.0, gt=0)
    client_id: str = Field(default="", description="browser sign-in: our client id")
    client_secret: SecretStr = Field(default=SecretStr(""), description="and its secret")
    scopes: str = Field(default="openid profile", description="asked for at sign-in")

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.issuer and not self.audience:
            raise ValueError("SWARMDESK_OIDC_AUDIENCE must be set with SWARMDESK_OIDC_ISSUER")
        for pair in comma_list(self.role_map):
            if "=" not in pair:
                raise ValueError(f"SWARMDESK_OIDC_ROLE_MAP: {pair!r} is not `theirs=ours`")
        return self

    def roles(self) -> dict[str, str]:
        """The role map: the provider's role name -> ours."""
        pairs = (pair.split("=", 1) for pair in comma_list(self.role_map))
        return {theirs.strip(): ours.strip() for theirs, ours in pairs}


class SessionSettings(BaseSettings):
    """Browser sessions and login links (`SWARMDESK_SESSIONS_`)."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_SESSIONS_", extra="ignore")

    idle_seconds: int = Field(default=8 * 3600, gt=0, description="ends unless used within")
    max_seconds: int = Field(default=7 * 24 * 3600, gt=0, description="ends anyway after")
    cookie_name: str = "swarmdesk_session"
    secure_cookie: bool | None = Field(
        default=None, description="`Secure` cookies (default: when PUBLIC_URL is https)"
    )
    login_link_seconds: int = Field(default=300, gt=0, le=3600, description="a link's life")
    public_url: str = Field(
        default="", description="where browsers reach us (default http://HOST:PORT)"
    )


class EdgeSettings(BaseSettings):
    """The edge's protections, for every path (`SWARMDESK_EDGE_`); 0 turns a limit off."""

    model_config = SettingsConfigDict(env_prefix="SWARMDESK_EDGE_", extra="ignore")

    cors_origins: str = Field(default="", description="origins allowed cross-origin (comma)")
    max_body_bytes: int = Field(default=1024 * 1024, ge=0, description="413 past this")
    principal_rate: float = Field(default=100.0, ge=0, description="requests/s per credential")
    principal_burst: int = Field(default=200, ge=1)
    address_rate: float = Field(default=1000.0, ge=0, description="requests/s per address")
    address_burst: int = Field(default=2000, ge=1)
    sockets_per_principal: int = Field(default=50, ge=0, description="open WebSockets")
    sockets_per_address: int = Field(default=2000, ge=0)
    max_header_bytes: int = Field(default=16 * 1024, ge=0, description="431 past this")
    max_headers: int = Field(default=100, ge=0, description="431 past this many")
    header_timeout_seconds: float = Field(default=10.0, ge=0, description="to send the head")
    content_security_policy: str = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )


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
    log_format: Literal["json", "text"] = Field(
        default="json", description="`swarmdesk serve`'s log lines (`app.telemetry.logs`)"
    )
    metrics: bool = Field(
        default=True,
        description="observe the latency and batch histograms (`app.telemetry.metrics`); "
        "false leaves them empty, `/metrics` still answers (for side-by-side benchmarks)",
    )
    min_position_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    shutdown_grace_seconds: float = Field(
        default=10.0, ge=0, description="on SIGTERM: time for responses and sockets to end"
    )

    store: StoreSettings = Field(default_factory=StoreSettings)
    commands: CommandSettings = Field(default_factory=CommandSettings)
    projector: ProjectorSettings = Field(default_factory=ProjectorSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    outcomes: OutcomeSettings = Field(default_factory=OutcomeSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    stream: StreamSettings = Field(default_factory=StreamSettings)
    oidc: OIDCSettings = Field(default_factory=OIDCSettings)
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    edge: EdgeSettings = Field(default_factory=EdgeSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    timers: TimerSettings = Field(default_factory=TimerSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)

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
    def public_url(self) -> str:
        """Where browsers reach the service (login links, OIDC redirect), no slash."""
        configured = self.sessions.public_url.rstrip("/")
        return configured or f"http://{self.host}:{self.port}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

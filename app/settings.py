"""The service's one settings class (environment prefix `SWARMDESK_`)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "changethis", ""}


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
    projector: bool = True

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

    def signing_key(self) -> str:
        """The token secret: the configured one, or (embedded) one kept in the data dir."""
        secret = self.secret_key.get_secret_value()
        if secret:
            return secret
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        new = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(new)
        return new

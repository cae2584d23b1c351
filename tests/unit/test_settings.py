"""Settings: the embedded default needs nothing; any other database needs a real secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from app.auth.secret import signing_key
from app.settings import ProjectorSettings, Settings


def test_embedded_default_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'swarmdesk.db'}"
    first = signing_key(settings)
    assert len(first) > 32
    assert signing_key(Settings(data_dir=tmp_path)) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("secret", ["", "changeme", "short"])
def test_postgres_refuses_to_start_without_a_real_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(database_url="postgresql://postgres@127.0.0.1/test", secret_key=SecretStr(secret))


def test_plain_urls_are_normalised() -> None:
    settings = Settings(database_url="postgresql://u@h/db", secret_key=SecretStr("x" * 20))
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


def test_settings_do_no_io(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


def test_sections_read_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMDESK_PUSH_QUEUE_LIMIT", "7")
    monkeypatch.setenv("SWARMDESK_STREAM_QUEUE", "9")
    monkeypatch.setenv("SWARMDESK_PROJECTOR_LINGER_BACKLOG", "3")
    settings = Settings()
    assert settings.push.queue_limit == 7
    assert settings.stream.queue == 9
    assert settings.projector.linger_backlog == 3
    assert settings.projector.enabled


@pytest.mark.parametrize(("value", "enabled"), [("false", False), ("0", False), ("true", True)])
def test_projector_switch(monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool) -> None:
    monkeypatch.setenv("SWARMDESK_PROJECTOR", value)
    monkeypatch.setenv("SWARMDESK_PROJECTOR_BATCH_SIZE", "42")
    settings = Settings()
    assert settings.projector.enabled is enabled
    assert settings.projector.batch_size == 42  # the switch keeps the section's own values
    assert Settings(projector=ProjectorSettings(enabled=False)).projector.enabled is False

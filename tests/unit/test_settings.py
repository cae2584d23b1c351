"""Settings: the embedded default needs nothing; any other database needs a real secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from app.settings import Settings


def test_embedded_default_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'swarmdesk.db'}"
    first = settings.signing_key()
    assert len(first) > 32
    assert Settings(data_dir=tmp_path).signing_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("secret", ["", "changeme", "short"])
def test_postgres_refuses_to_start_without_a_real_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(database_url="postgresql://postgres@127.0.0.1/test", secret_key=SecretStr(secret))


def test_plain_urls_are_normalised() -> None:
    settings = Settings(database_url="postgresql://u@h/db", secret_key=SecretStr("x" * 20))
    assert settings.database_url == "postgresql+asyncpg://u@h/db"

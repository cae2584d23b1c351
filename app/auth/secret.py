"""The token signing secret, as a start-up step (settings themselves do no I/O)."""

from __future__ import annotations

import secrets

from app.settings import Settings

SECRET_FILE = "secret_key"


def signing_key(settings: Settings) -> str:
    """The configured secret; in the embedded default, the one kept in the data directory
    (created once, mode 0600, on first use)."""
    secret = settings.secret_key.get_secret_value()
    if secret:
        return secret
    path = settings.data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    new = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(new)
    return new

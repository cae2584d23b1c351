"""What `swarmdesk serve` runs (`app.server.entry:app`): the service with every server
tweak whose probe passes (`app.server.tweaks`), logging as the settings say (in each
worker process too: `--workers N` starts them afresh)."""

from __future__ import annotations

from app.asgi import build_asgi
from app.server.logs import redact_queries
from app.server.tweaks import probe
from app.settings import Settings
from app.telemetry import logs

_settings = Settings()
logs.configure(_settings.log_level, _settings.log_format)
redact_queries()  # uvicorn logs each WebSocket's URL: never its query string
app = build_asgi(tweaks=probe(serve=True))

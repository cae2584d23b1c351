"""What `swarmdesk serve` runs (`app.server.entry:app`): the service with every server
tweak whose probe passes (`app.server.tweaks`)."""

from __future__ import annotations

from app.asgi import build_asgi
from app.server.logs import redact_queries
from app.server.tweaks import probe

redact_queries()  # uvicorn logs each WebSocket's URL: never its query string
app = build_asgi(tweaks=probe(serve=True))

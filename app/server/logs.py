"""No query strings in uvicorn's own log lines.

uvicorn logs every WebSocket handshake on `uvicorn.error` at INFO with the full URL
(`"WebSocket /ws/inbox?after=3" [accepted]`), whatever `access_log` says, and a query
string may hold a credential someone put there (tokens in URLs are refused, but a
refused one would still be printed). `redact_queries` installs a filter that cuts the
query string off every URL-like argument of uvicorn's records. Plain logging API: no
private names, nothing to probe.
"""

from __future__ import annotations

import logging

LOGGERS = ("uvicorn.error", "uvicorn.access", "uvicorn")


def _cut(value: object) -> object:
    if isinstance(value, str) and value.startswith("/") and "?" in value:
        return value.partition("?")[0] + "?..."
    return value


class NoQueryStrings(logging.Filter):
    """Drops the query string of URL-like (`/...?...`) record arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_cut(arg) for arg in record.args)
        return True


def redact_queries() -> None:
    """Install the filter on uvicorn's loggers (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoQueryStrings) for f in logger.filters):
            logger.addFilter(NoQueryStrings())

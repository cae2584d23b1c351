"""Live push over WebSockets: one change feed per process, a hub of per-key channels,
and the `/ws/cases/{id}` and `/ws/inbox` endpoints (protocol in `app.realtime.push.protocol`)."""

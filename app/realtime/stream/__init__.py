"""The event stream for other services: CloudEvents over an HTTP feed, SSE and WebSocket.

- `cloudevents`: one stored row -> one CloudEvents 1.0 JSON object (the wire format);
- `catalog`: the event types the stream can carry (for filters and the AsyncAPI document);
- `models`: the pydantic models of every message (the AsyncAPI schemas come from them);
- `filters`: `?type=` and `?case=`;
- `tail`: catch-up-then-live with filters, progress marks and a bounded send queue;
- `feed`: the routes (`GET /api/events`, `GET /api/events/stream`, `WS /ws/events`);
- `asyncapi`: the AsyncAPI 3 document served at `/asyncapi.json`.
"""

"""The PostgreSQL recorder's SQL: the statements `app.store.postgres` runs and the
row conversion, kept apart from the connection and batching logic."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from app.store.errors import TrackingConflict
from app.store.types import RecordedEvent

COLUMNS = "position, event_id, originator_id, originator_version, topic, state"


#: A stream's snapshot (position NULL) and the events after it, in one round trip.
LATEST = f"""
WITH s AS (SELECT version, state FROM snapshots WHERE originator_id = $1)
SELECT NULL::bigint, NULL::uuid, $1::uuid, version, '', state FROM s
UNION ALL
SELECT {COLUMNS} FROM events
WHERE originator_id = $1 AND originator_version > COALESCE((SELECT version FROM s), 0)
ORDER BY 4
"""


def row(r: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(r[0], r[1], r[2], r[3], r[4], bytes(r[5]))


#: What a batch is planned against, in one round trip: the log's end, the current
#: version of each case the batch appends to, and the keys among its idempotency keys
#: that were used before (with their request hash and result).
STATE_SQL = (
    "SELECT NULL::uuid, COALESCE(MAX(position), 0), NULL::text, NULL::text, NULL::text"
    " FROM events"
    " UNION ALL SELECT originator_id, MAX(originator_version), NULL, NULL, NULL FROM events"
    " WHERE originator_id = ANY($1::uuid[]) GROUP BY originator_id"
    " UNION ALL SELECT NULL, NULL, key, request_hash, result FROM idempotency_keys"
    " WHERE key = ANY($2::text[])"
)


#: Events of several streams, each after its own version (a batch deciding again).
MISSING_SQL = f"""
SELECT {COLUMNS} FROM events e
JOIN unnest($1::uuid[], $2::int[]) AS w(id, v)
  ON e.originator_id = w.id AND e.originator_version > w.v
ORDER BY e.originator_id, e.originator_version
"""


async def read_missing(
    conn: asyncpg.Connection, after: dict[UUID, int]
) -> dict[UUID, list[RecordedEvent]]:
    """Each stream's events after the given version (a batch deciding again reads them
    under its lock)."""
    found: dict[UUID, list[RecordedEvent]] = {}
    for r in await conn.fetch(MISSING_SQL, list(after), list(after.values())):
        found.setdefault(r[2], []).append(row(r))
    return found


async def record_tracking(conn: asyncpg.Connection, application_name: str, position: int) -> None:
    """Advance a tracking position inside the caller's transaction (exactly-once)."""
    current = await conn.fetchval(
        "SELECT position FROM tracking WHERE application_name = $1 FOR UPDATE", application_name
    )
    if current is not None and current >= position:
        raise TrackingConflict(application_name, position, current)
    if current is None:
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO tracking (application_name, position) VALUES ($1, $2)",
                    application_name,
                    position,
                )
        except asyncpg.exceptions.UniqueViolationError as exc:
            raise TrackingConflict(application_name, position, None) from exc
    else:
        await conn.execute(
            "UPDATE tracking SET position = $2 WHERE application_name = $1",
            application_name,
            position,
        )

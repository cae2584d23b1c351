"""Follow the Swarmdesk event stream from another service, effectively once.

    from swarmdesk_consumer import SQLiteCheckpoint, StreamConsumer

    def apply(conn: sqlite3.Connection, event: dict[str, Any]) -> None:
        conn.execute("INSERT INTO my_table ...", ...)   # your side effects

    consumer = StreamConsumer(url, token, SQLiteCheckpoint("me.sqlite"), apply)
    await consumer.run()

Guarantees: events reach `apply` in position order; `apply`'s writes, the event's id
(for deduplication) and the checkpoint commit in one SQLite transaction, so a crash at
any point leaves either all of them or none, and a restart resumes after the checkpoint
(at-least-once delivery + dedup by id = effectively once). Dropped connections are
retried with exponential backoff and jitter; refusals (401/403/422) are not.
"""

from swarmdesk_consumer.checkpoint import SQLiteCheckpoint
from swarmdesk_consumer.consumer import Handler, StreamConsumer, StreamRefused

__all__ = ["Handler", "SQLiteCheckpoint", "StreamConsumer", "StreamRefused"]

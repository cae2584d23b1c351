"""A durable checkpoint in the consumer's own SQLite file, committed with its effects."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Apply = Callable[[sqlite3.Connection, dict[str, Any]], None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS swarmdesk_checkpoint (
    consumer TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS swarmdesk_seen (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
"""


class SQLiteCheckpoint:
    """Where consumer `name` stands, kept in the SQLite file `path`.

    `apply_batch` runs the handler for each new event and records the event ids and the
    new position in the same transaction; a crash before the commit leaves nothing of
    the batch, so nothing is applied twice and nothing is skipped. Thread-safe (one
    batch at a time), so it can run in a worker thread.
    """

    def __init__(self, path: str | Path, name: str = "default") -> None:
        self.path = Path(path)
        self.name = name
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA busy_timeout = 10000")
        self._conn.executescript(_SCHEMA)

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection the handler writes through (create your tables with it)."""
        return self._conn

    def position(self) -> int:
        """The last position whose effects are committed (0 before the first)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT position FROM swarmdesk_checkpoint WHERE consumer = ?", (self.name,)
            ).fetchone()
        return int(row[0]) if row else 0

    def apply_batch(
        self, events: Sequence[dict[str, Any]], apply: Apply, up_to: int | None = None
    ) -> int:
        """Apply the events not seen yet, in order, then move the checkpoint to the last
        event's position (or `up_to`, if later: progress past filtered-out events), all in
        one transaction. Returns how many events were applied (duplicates are skipped)."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT position FROM swarmdesk_checkpoint WHERE consumer = ?", (self.name,)
                ).fetchone()
                position = int(row[0]) if row else 0
                applied = 0
                for event in events:
                    if int(event["position"]) <= position:
                        continue  # already applied (a redelivery after a resume)
                    seen = conn.execute(
                        "INSERT OR IGNORE INTO swarmdesk_seen (consumer, event_id, position)"
                        " VALUES (?, ?, ?)",
                        (self.name, str(event["id"]), int(event["position"])),
                    )
                    if seen.rowcount:
                        apply(conn, event)
                        applied += 1
                    position = max(position, int(event["position"]))
                if up_to is not None:
                    position = max(position, up_to)
                conn.execute(
                    "INSERT INTO swarmdesk_checkpoint (consumer, position) VALUES (?, ?)"
                    " ON CONFLICT (consumer) DO UPDATE SET position = excluded.position",
                    (self.name, position),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return applied

    def close(self) -> None:
        with self._lock:
            self._conn.close()

"""Mirror the Swarmdesk stream into a table of a SQLite file (an example consumer).

    python -m swarmdesk_consumer.mirror --url http://127.0.0.1:8000 --token T --db mirror.sqlite

The table `mirrored_events` gets one row per event (position, id, type, source, time,
data); kill the process at any moment and restart it: the table ends up holding each
event exactly once, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sqlite3
from typing import Any

from swarmdesk_consumer import SQLiteCheckpoint, StreamConsumer, StreamRefused

TABLE = """
CREATE TABLE IF NOT EXISTS mirrored_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    position INTEGER NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    time TEXT NOT NULL,
    data TEXT NOT NULL
)
"""


def mirror(conn: sqlite3.Connection, event: dict[str, Any]) -> None:
    """The side effect: one row per event (no uniqueness constraint, so a double
    application would show as a duplicate row)."""
    conn.execute(
        "INSERT INTO mirrored_events (position, id, type, source, time, data)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            int(event["position"]),
            event["id"],
            event["type"],
            event["source"],
            event["time"],
            json.dumps(event["data"], sort_keys=True),
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the service's base URL")
    parser.add_argument("--token", required=True, help="a service (or admin) token")
    parser.add_argument("--db", required=True, help="the SQLite file to mirror into")
    parser.add_argument("--transport", choices=("ws", "http"), default="ws")
    parser.add_argument("--type", action="append", default=[], help="event type filter")
    parser.add_argument("--case", help="only this case's events")
    parser.add_argument("--name", default="mirror", help="checkpoint name")
    parser.add_argument("--batch", type=int, default=500, help="events per transaction (max)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    checkpoint = SQLiteCheckpoint(args.db, args.name)
    checkpoint.connection.execute(TABLE)
    consumer = StreamConsumer(
        args.url,
        args.token,
        checkpoint,
        mirror,
        transport=args.transport,
        types=args.type,
        case=args.case,
        batch=args.batch,
    )
    try:
        asyncio.run(consumer.run())
    except StreamRefused as exc:
        logging.error("refused: %s", exc)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        checkpoint.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

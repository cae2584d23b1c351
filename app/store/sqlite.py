"""SQLite backend through aiosqlite: the embedded default (WAL, synchronous=FULL)."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import aiosqlite

from app.store.base import EventStore
from app.store.batch import BatchPlan, idempotency_keys, originators
from app.store.errors import (
    SchemaMissing,
    StoreError,
    StoreUnavailable,
    TrackingConflict,
)
from app.store.types import AppendRequest, AppendResult, RecordedEvent

_COLUMNS = "position, event_id, originator_id, originator_version, topic, state"


#: A stream's snapshot (position NULL) and the events after it, in one round trip.
_LATEST = f"""
SELECT NULL, NULL, ?, version, '', state FROM snapshots WHERE originator_id = ?
UNION ALL
SELECT {_COLUMNS} FROM events WHERE originator_id = ? AND originator_version >
  COALESCE((SELECT version FROM snapshots WHERE originator_id = ?), 0)
ORDER BY 4
"""


def _row(r: Sequence[Any]) -> RecordedEvent:
    return RecordedEvent(r[0], UUID(r[1]), UUID(r[2]), r[3], r[4], bytes(r[5]))


def _marks(n: int) -> str:
    return ",".join("?" * n)


class SQLiteEventStore(EventStore):
    """One writer connection owned by the appender, a few reader connections.

    `BEGIN IMMEDIATE` takes SQLite's write lock, so several processes on one file
    stay correct; readers in other processes learn of new events by polling.
    """

    def __init__(self, path: str | Path, *, readers: int = 2, **kwargs: Any) -> None:
        kwargs.setdefault("poll_interval", 0.5)
        super().__init__(**kwargs)
        self.path = str(path)
        self.readers = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader = itertools.cycle([0])
        # The writer connection serves the appender and tracking; a transaction spans
        # several aiosqlite calls, so one lock keeps them from interleaving.
        self._write_lock = asyncio.Lock()

    async def _connection(self) -> aiosqlite.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(self.path, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        await conn.execute("PRAGMA busy_timeout = 10000")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = FULL")
        return conn

    async def _open(self) -> None:
        self._writer = await self._connection()
        self._readers = [await self._connection() for _ in range(self.readers)]
        self._next_reader = itertools.cycle(range(len(self._readers)))

    async def _close(self) -> None:
        for conn in [self._writer, *self._readers]:
            if conn is not None:
                await conn.close()
        self._writer = None
        self._readers = []

    def _reader(self) -> aiosqlite.Connection:
        if not self._readers:
            raise StoreUnavailable("the event store is not open")
        return self._readers[next(self._next_reader)]

    # -- writing ----------------------------------------------------------------
    async def _write_batch(self, requests: list[AppendRequest]) -> BatchPlan:
        conn = self._writer
        if conn is None:
            raise StoreUnavailable("the event store is not open")
        ids = [str(i) for i in originators(requests)]
        keys = idempotency_keys(requests)
        async with self._write_lock:
            return await self._write_locked(conn, requests, ids, keys)

    async def _write_locked(
        self,
        conn: aiosqlite.Connection,
        requests: list[AppendRequest],
        ids: list[str],
        keys: list[str],
    ) -> BatchPlan:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            async with conn.execute("SELECT COALESCE(MAX(position), 0) FROM events") as cur:
                max_position = int((await cur.fetchone() or (0,))[0])
            versions: dict[UUID, int] = {}
            for chunk in _chunks(ids, 500):
                async with conn.execute(
                    "SELECT originator_id, MAX(originator_version) FROM events"
                    f" WHERE originator_id IN ({_marks(len(chunk))}) GROUP BY originator_id",
                    chunk,
                ) as cur:
                    for r in await cur.fetchall():
                        versions[UUID(r[0])] = int(r[1])
            stored: dict[str, tuple[str, str]] = {}
            for chunk in _chunks(keys, 500):
                async with conn.execute(
                    "SELECT key, request_hash, result FROM idempotency_keys"
                    f" WHERE key IN ({_marks(len(chunk))})",
                    chunk,
                ) as cur:
                    for r in await cur.fetchall():
                        stored[r[0]] = (r[1], r[2])
            plan = self._plan(requests, max_position, versions, stored)
            if plan.rows:
                await conn.executemany(
                    f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            r.position,
                            str(r.event_id),
                            str(r.originator_id),
                            r.originator_version,
                            r.topic,
                            r.state,
                        )
                        for r in plan.rows
                    ],
                )
            if plan.keys:
                await conn.executemany(
                    "INSERT INTO idempotency_keys (key, request_hash, result) VALUES (?, ?, ?)",
                    [(k.key, k.request_hash, k.result) for k in plan.keys],
                )
            if self.before_commit is not None:
                await self.before_commit(requests)
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await asyncio.shield(conn.execute("ROLLBACK"))
            raise
        return plan

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc):
            return SchemaMissing(str(exc))
        return StoreUnavailable(f"SQLite error: {type(exc).__name__}: {exc}")

    async def _fetch(self, query: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            async with self._reader().execute(query, args) as cur:
                return list(await cur.fetchall())
        except (sqlite3.Error, ValueError) as exc:
            raise self._translate(exc) from exc

    # -- reading ----------------------------------------------------------------
    async def read(
        self,
        after: int,
        limit: int,
        *,
        until: int | None = None,
        topics: Sequence[str] = (),
        originator_id: UUID | None = None,
    ) -> list[RecordedEvent]:
        clauses = ["position > ?"]
        args: list[Any] = [after]
        if until is not None:
            clauses.append("position <= ?")
            args.append(until)
        if topics:
            clauses.append(f"topic IN ({_marks(len(topics))})")
            args.extend(topics)
        if originator_id is not None:
            clauses.append("originator_id = ?")
            args.append(str(originator_id))
        args.append(limit)
        query = (
            f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(clauses)} ORDER BY position LIMIT ?"
        )
        return [_row(r) for r in await self._fetch(query, args)]

    async def read_stream(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        clauses = ["originator_id = ?"]
        args: list[Any] = [str(originator_id)]
        if gt is not None:
            clauses.append("originator_version > ?")
            args.append(gt)
        if lte is not None:
            clauses.append("originator_version <= ?")
            args.append(lte)
        query = (
            f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(clauses)}"
            f" ORDER BY originator_version {'DESC' if desc else 'ASC'}"
        )
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        return [_row(r) for r in await self._fetch(query, args)]

    async def expire_keys(self, before: datetime) -> int:
        conn = self._writer
        if conn is None:
            raise StoreUnavailable("the event store is not open")
        stamp = before.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")  # CURRENT_TIMESTAMP's
        async with self._write_lock:
            try:
                await conn.execute("BEGIN IMMEDIATE")
                cursor = await conn.execute(
                    "DELETE FROM idempotency_keys WHERE created_at < ?", [stamp]
                )
                await conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._translate(exc) from exc
                raise
        return max(cursor.rowcount, 0)

    async def read_latest(
        self, originator_id: UUID
    ) -> tuple[tuple[int, bytes] | None, list[RecordedEvent]]:
        key = str(originator_id)
        rows = await self._fetch(_LATEST, [key, key, key, key])
        if rows and rows[0][0] is None:  # the snapshot's row comes first
            return (int(rows[0][3]), bytes(rows[0][5])), [_row(r) for r in rows[1:]]
        return None, [_row(r) for r in rows]

    async def read_snapshot(self, originator_id: UUID) -> tuple[int, bytes] | None:
        rows = await self._fetch(
            "SELECT version, state FROM snapshots WHERE originator_id = ?", [str(originator_id)]
        )
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    async def write_snapshot(self, originator_id: UUID, version: int, state: bytes) -> None:
        conn = self._writer
        if conn is None:
            raise StoreUnavailable("the event store is not open")
        async with self._write_lock:
            try:
                await conn.execute("BEGIN IMMEDIATE")
                await conn.execute(
                    "INSERT INTO snapshots (originator_id, version, state) VALUES (?, ?, ?)"
                    " ON CONFLICT (originator_id) DO UPDATE"
                    " SET version = excluded.version, state = excluded.state"
                    " WHERE snapshots.version < excluded.version",
                    [str(originator_id), version, state],
                )
                await conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._translate(exc) from exc
                raise

    async def max_position(self) -> int:
        rows = await self._fetch("SELECT COALESCE(MAX(position), 0) FROM events")
        return int(rows[0][0])

    async def stored_result(self, key: str) -> tuple[str, AppendResult] | None:
        rows = await self._fetch(
            "SELECT request_hash, result FROM idempotency_keys WHERE key = ?", [key]
        )
        if not rows:
            return None
        return str(rows[0][0]), AppendResult.from_json(rows[0][1])

    async def insert_tracking(self, application_name: str, position: int) -> None:
        conn = self._writer
        if conn is None:
            raise StoreUnavailable("the event store is not open")
        async with self._write_lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                async with conn.execute(
                    "SELECT position FROM tracking WHERE application_name = ?",
                    [application_name],
                ) as cur:
                    found = await cur.fetchone()
                current = None if found is None else int(found[0])
                if current is not None and current >= position:
                    raise TrackingConflict(application_name, position, current)
                await conn.execute(
                    "INSERT INTO tracking (application_name, position) VALUES (?, ?)"
                    " ON CONFLICT (application_name) DO UPDATE SET position = excluded.position",
                    [application_name, position],
                )
                await conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise

    async def max_tracking(self, application_name: str) -> int | None:
        rows = await self._fetch(
            "SELECT position FROM tracking WHERE application_name = ?", [application_name]
        )
        return int(rows[0][0]) if rows else None

    async def check(self) -> None:
        for table in ("events", "idempotency_keys", "tracking"):
            await self._fetch(f"SELECT 1 FROM {table} LIMIT 1")


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]

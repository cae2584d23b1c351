"""PostgreSQL backend through asyncpg: table lock, one transaction per batch, NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from app.store.base import EventStore
from app.store.batch import BatchPlan, idempotency_keys, needs_missing, originators
from app.store.errors import (
    SchemaMissing,
    StoreError,
    StoreUnavailable,
    TrackingConflict,
)
from app.store.listen import events_channel, listen_forever
from app.store.pg_sql import COLUMNS, LATEST, STATE_SQL, read_missing, record_tracking, row
from app.store.types import AppendRequest, AppendResult, RecordedEvent

log = logging.getLogger(__name__)

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.QueryCanceledError,
    ConnectionError,
    TimeoutError,
)


class PoolConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped
    """The pool's connections: released without asyncpg's reset query (``RESET ALL;
    UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()``), one round trip saved per use.

    Safe because nothing leaves session state on them: LISTEN runs on dedicated
    connections (`app.store.listen`), advisory locks on the read-model engine's, settings
    are the pool's `server_settings` or ``SET LOCAL``, and cursors end with their
    transaction. An open transaction is still rolled back on release (asyncpg's own
    `_reset` does that whatever this query is)."""

    def get_reset_query(self) -> str:
        return ""


class PostgresEventStore(EventStore):
    """The production store. Several processes may share one database safely.

    Writers serialise on `LOCK TABLE events IN EXCLUSIVE MODE` (readers are not
    blocked), so positions are assigned and committed in one order. One NOTIFY per
    committed batch wakes readers in other processes; in this process the appender
    wakes them directly.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        min_size: int = 2,
        max_size: int = 10,
        listen: bool = True,
        statement_timeout: float = 10.0,
        acquire_timeout: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dsn = dsn
        #: Every statement (server side) and every round trip (client side, so a frozen
        #: connection cannot hold a caller either) gives up after this many seconds;
        #: connecting and taking a pooled connection after `acquire_timeout`.
        self.statement_timeout = statement_timeout
        self.acquire_timeout = acquire_timeout
        self.schema = schema
        self.channel = events_channel(schema)
        self.min_size = min_size
        self.max_size = max_size
        self.listen = listen
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncio.Task[None] | None = None
        #: Last positions of this store's latest batches: their NOTIFY is no news.
        self._own: dict[int, None] = {}
        self._writer_conn: asyncpg.Connection | None = None
        self.listener_connected = asyncio.Event()

    # -- life cycle -------------------------------------------------------------
    def _server_settings(self) -> dict[str, str]:
        settings = {
            "application_name": "swarmdesk",
            "statement_timeout": str(int(self.statement_timeout * 1000)),
        }
        if self.schema:
            settings["search_path"] = self.schema
        return settings

    async def _connect(self, **settings: str) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(
                self.dsn,
                server_settings={**self._server_settings(), **settings},
                timeout=self.acquire_timeout,
                command_timeout=self.statement_timeout,
            )
        except _CONNECTION_ERRORS as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc

    async def connect_derived(self) -> asyncpg.Connection:
        """A new connection to the store's database and schema for writing *derived*
        data only (the read models): its commits do not wait for the WAL flush
        (``synchronous_commit = off``). Never for events: they must be durable."""
        return await self._connect(synchronous_commit="off", application_name="swarmdesk-projector")

    async def _open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.min_size,
                max_size=self.max_size,
                server_settings=self._server_settings(),
                connection_class=PoolConnection,
                timeout=self.acquire_timeout,
                command_timeout=self.statement_timeout,
            )
        except _CONNECTION_ERRORS as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
        if self.listen:
            self._listener = asyncio.create_task(self._listen_forever(), name="swarmdesk-listen")

    async def _close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._writer_conn is not None and not self._writer_conn.is_closed():
            await self._writer_conn.close()
        self._writer_conn = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("the event store is not open")
        return self._pool

    async def _listen_forever(self) -> None:
        """Keep one LISTEN connection; reconnect with backoff when it drops."""

        def on_payload(payload: str) -> None:
            with contextlib.suppress(ValueError):
                position = int(payload)
                if position not in self._own:  # ours: the appender tells, with its rows
                    self.notifier.notify(position)

        await listen_forever(
            self._connect,
            self.channel,
            on_payload,
            on_connect=self.notifier.poke,  # anything committed while we were away
            connected=self.listener_connected,
            running=lambda: not self._closed,
        )

    # -- writing ----------------------------------------------------------------
    async def _writer(self) -> asyncpg.Connection:
        """The appender's own connection: no pool round trips, reconnected when lost."""
        conn = self._writer_conn
        if conn is None or conn.is_closed():
            conn = self._writer_conn = await self._connect(application_name="swarmdesk-appender")
        return conn

    async def _write_batch(self, requests: list[AppendRequest]) -> BatchPlan:
        """Four round trips: BEGIN + LOCK; position, versions, keys; insert + NOTIFY; COMMIT."""
        ids = originators(requests)
        keys = idempotency_keys(requests)
        conn = await self._writer()
        try:
            await conn.execute("BEGIN; LOCK TABLE events IN EXCLUSIVE MODE")
            max_position = 0
            versions: dict[UUID, int] = {}
            stored: dict[str, tuple[str, str]] = {}
            for r in await conn.fetch(STATE_SQL, ids, keys):
                if r[2] is not None:  # an idempotency key already used
                    stored[r[2]] = (r[3], r[4])
                elif r[0] is None:
                    max_position = r[1]
                else:
                    versions[r[0]] = r[1]
            wanted = needs_missing(requests, versions)  # decided again: what they missed
            missing = await read_missing(conn, wanted) if wanted else None
            plan = self._plan(requests, max_position, versions, stored, missing)
            await self._insert(conn, plan)
            if self.before_commit is not None:
                await self.before_commit(requests)
            if plan.rows:  # its NOTIFY may come back before COMMIT returns here
                self._own[plan.last_position] = None
                while len(self._own) > 256:
                    del self._own[next(iter(self._own))]
            await conn.execute("COMMIT")
        except BaseException:
            await self._abandon(conn)
            raise
        return plan

    async def _insert(self, conn: asyncpg.Connection, plan: BatchPlan) -> None:
        """Events, idempotency keys and the batch's one NOTIFY in a single statement."""
        if not plan.rows and not plan.keys:
            return
        rows, keys = plan.rows, plan.keys
        ctes: list[str] = []
        args: list[Any] = []
        if rows:
            ctes.append(
                f"e AS (INSERT INTO events ({COLUMNS}) SELECT * FROM unnest("
                "$1::bigint[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::bytea[]))"
            )
            args += [
                [r.position for r in rows],
                [r.event_id for r in rows],
                [r.originator_id for r in rows],
                [r.originator_version for r in rows],
                [r.topic for r in rows],
                [r.state for r in rows],
            ]
        if keys:
            n = len(args)
            ctes.append(
                "k AS (INSERT INTO idempotency_keys (key, request_hash, result)"
                f" SELECT * FROM unnest(${n + 1}::text[], ${n + 2}::text[], ${n + 3}::text[]))"
            )
            args += [
                [k.key for k in keys],
                [k.request_hash for k in keys],
                [k.result for k in keys],
            ]
        if rows:
            args += [self.channel, str(plan.last_position)]
            tail = f"SELECT pg_notify(${len(args) - 1}, ${len(args)})"
        else:
            tail = "SELECT 1"
        await conn.execute(f"WITH {', '.join(ctes)} {tail}", *args)

    async def _abandon(self, conn: asyncpg.Connection) -> None:
        """Roll back after a failure; a connection that cannot is dropped and replaced."""
        try:
            if not conn.is_closed():
                await asyncio.shield(asyncio.wait_for(conn.execute("ROLLBACK"), 5))
                return
        except Exception:
            conn.terminate()
        self._writer_conn = None

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, asyncpg.exceptions.UndefinedTableError):
            return SchemaMissing(str(exc))
        if isinstance(exc, _CONNECTION_ERRORS):
            return StoreUnavailable(f"PostgreSQL unavailable: {exc}")
        return StoreUnavailable(f"PostgreSQL error: {type(exc).__name__}: {exc}")

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        try:
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                return list(await conn.fetch(query, *args))
        except Exception as exc:
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
        clauses = ["position > $1"]
        args: list[Any] = [after]
        if until is not None:
            args.append(until)
            clauses.append(f"position <= ${len(args)}")
        if topics:
            args.append(list(topics))
            clauses.append(f"topic = ANY(${len(args)}::text[])")
        if originator_id is not None:
            args.append(originator_id)
            clauses.append(f"originator_id = ${len(args)}")
        args.append(limit)
        query = (
            f"SELECT {COLUMNS} FROM events WHERE {' AND '.join(clauses)}"
            f" ORDER BY position LIMIT ${len(args)}"
        )
        return [row(r) for r in await self._fetch(query, *args)]

    async def read_stream(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        clauses = ["originator_id = $1"]
        args: list[Any] = [originator_id]
        if gt is not None:
            args.append(gt)
            clauses.append(f"originator_version > ${len(args)}")
        if lte is not None:
            args.append(lte)
            clauses.append(f"originator_version <= ${len(args)}")
        query = (
            f"SELECT {COLUMNS} FROM events WHERE {' AND '.join(clauses)}"
            f" ORDER BY originator_version {'DESC' if desc else 'ASC'}"
        )
        if limit is not None:
            args.append(limit)
            query += f" LIMIT ${len(args)}"
        return [row(r) for r in await self._fetch(query, *args)]

    async def expire_keys(self, before: datetime) -> int:
        rows = await self._fetch(
            "WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < $1 RETURNING 1)"
            " SELECT count(*) FROM gone",
            before,
        )
        return int(rows[0][0])

    async def read_latest(
        self, originator_id: UUID
    ) -> tuple[tuple[int, bytes] | None, list[RecordedEvent]]:
        rows = await self._fetch(LATEST, originator_id)
        if rows and rows[0][0] is None:  # the snapshot's row comes first
            return (int(rows[0][3]), bytes(rows[0][5])), [row(r) for r in rows[1:]]
        return None, [row(r) for r in rows]

    async def read_snapshot(self, originator_id: UUID) -> tuple[int, bytes] | None:
        rows = await self._fetch(
            "SELECT version, state FROM snapshots WHERE originator_id = $1", originator_id
        )
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    async def write_snapshot(self, originator_id: UUID, version: int, state: bytes) -> None:
        await self._fetch(
            "INSERT INTO snapshots (originator_id, version, state) VALUES ($1, $2, $3)"
            " ON CONFLICT (originator_id) DO UPDATE"
            " SET version = excluded.version, state = excluded.state"
            " WHERE snapshots.version < excluded.version",
            originator_id,
            version,
            state,
        )

    async def max_position(self) -> int:
        rows = await self._fetch("SELECT COALESCE(MAX(position), 0) FROM events")
        return int(rows[0][0])

    async def stored_result(self, key: str) -> tuple[str, AppendResult] | None:
        rows = await self._fetch(
            "SELECT request_hash, result FROM idempotency_keys WHERE key = $1", key
        )
        if not rows:
            return None
        return rows[0][0], AppendResult.from_json(rows[0][1])

    async def insert_tracking(self, application_name: str, position: int) -> None:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await record_tracking(conn, application_name, position)
        except TrackingConflict:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc

    async def max_tracking(self, application_name: str) -> int | None:
        rows = await self._fetch(
            "SELECT position FROM tracking WHERE application_name = $1", application_name
        )
        return int(rows[0][0]) if rows else None

    async def check(self) -> None:
        await self._fetch("SELECT 1 FROM events LIMIT 1")
        await self._fetch("SELECT 1 FROM idempotency_keys LIMIT 1")
        await self._fetch("SELECT 1 FROM tracking LIMIT 1")

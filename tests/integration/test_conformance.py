"""eventsourcing's own recorder conformance suite, run against our async recorders."""

from __future__ import annotations

import tempfile
from pathlib import Path

import psycopg
import pytest
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    TrackingRecorderTestCase,
)

from app.store import create_store
from app.store.migrate import upgrade
from app.store.sync import SyncRecorder
from tests.support import PG_URL, drop_schema_sql, fresh_schema, require_postgres


class _SQLiteRecorders:
    recorders: list[SyncRecorder]

    def setUp(self) -> None:
        self.recorders = []
        self._dir = tempfile.TemporaryDirectory()

    def tearDown(self) -> None:
        for r in self.recorders:
            r.close()
        self._dir.cleanup()

    def create_recorder(self) -> SyncRecorder:
        url = f"sqlite+aiosqlite:///{Path(self._dir.name) / f'db{len(self.recorders)}.sqlite'}"
        upgrade(url)
        recorder = SyncRecorder(lambda: create_store(url))
        self.recorders.append(recorder)
        return recorder


class _PostgresRecorders:
    recorders: list[SyncRecorder]

    def setUp(self) -> None:
        require_postgres()
        self.recorders = []
        self.schemas: list[str] = []

    def tearDown(self) -> None:
        for r in self.recorders:
            r.close()
        dsn = PG_URL.replace("+asyncpg", "")
        with psycopg.connect(dsn, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(drop_schema_sql(schema).encode())

    def create_recorder(self) -> SyncRecorder:
        schema = fresh_schema()
        self.schemas.append(schema)
        upgrade(PG_URL, schema=schema)
        recorder = SyncRecorder(lambda: create_store(PG_URL, schema=schema))
        self.recorders.append(recorder)
        return recorder


class TestSQLiteApplicationRecorder(_SQLiteRecorders, ApplicationRecorderTestCase[SyncRecorder]):
    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestSQLiteTrackingRecorder(_SQLiteRecorders, TrackingRecorderTestCase):
    pass


@pytest.mark.postgres
class TestPostgresApplicationRecorder(
    _PostgresRecorders, ApplicationRecorderTestCase[SyncRecorder]
):
    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


@pytest.mark.postgres
class TestPostgresTrackingRecorder(_PostgresRecorders, TrackingRecorderTestCase):
    pass


def test_store_errors_are_the_library_errors_its_callers_expect() -> None:
    """Code written against eventsourcing's recorder interface catches these types."""
    from eventsourcing.persistence import DataError, IntegrityError, OperationalError

    from app.store import EventDecodeError, StoreUnavailable, VersionConflict

    assert issubclass(VersionConflict, IntegrityError)
    assert issubclass(StoreUnavailable, OperationalError)
    assert issubclass(EventDecodeError, DataError)

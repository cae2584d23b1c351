"""The consumer's checkpoint on a real SQLite file: effects and checkpoint commit
together, redeliveries are skipped by id, a failing handler leaves nothing behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from swarmdesk_consumer import SQLiteCheckpoint


def event(position: int) -> dict[str, Any]:
    return {"id": str(uuid4()), "position": position}


def record(conn: sqlite3.Connection, e: dict[str, Any]) -> None:
    conn.execute("INSERT INTO effects (id) VALUES (?)", (e["id"],))


def effects(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM effects ORDER BY rowid")]


def test_redelivered_events_apply_once_and_progress_moves_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    cp = SQLiteCheckpoint(path, "t")
    cp.connection.execute("CREATE TABLE effects (id TEXT)")
    first = [event(1), event(2)]
    assert cp.apply_batch(first, record) == 2
    assert cp.apply_batch([*first, event(3)], record) == 1  # 1 and 2 again: skipped
    assert cp.position() == 3
    assert cp.apply_batch([], record, up_to=9) == 0  # a progress mark
    assert cp.position() == 9
    cp.close()
    reopened = SQLiteCheckpoint(path, "t")
    assert reopened.position() == 9
    assert len(effects(path)) == 3
    assert len(set(effects(path))) == 3
    reopened.close()


def test_a_failing_handler_commits_neither_effects_nor_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    cp = SQLiteCheckpoint(path, "t")
    cp.connection.execute("CREATE TABLE effects (id TEXT)")
    cp.apply_batch([event(1)], record)

    def fail_on_third(conn: sqlite3.Connection, e: dict[str, Any]) -> None:
        record(conn, e)
        if e["position"] == 3:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cp.apply_batch([event(2), event(3)], fail_on_third)
    assert cp.position() == 1
    assert len(effects(path)) == 1
    again = [event(2), event(3)]
    assert cp.apply_batch(again, record) == 2
    assert effects(path)[1:] == [e["id"] for e in again]
    cp.close()

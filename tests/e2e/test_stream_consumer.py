"""The consumer helper survives SIGKILL: a mirror process is killed mid-stream, several
times, while events keep arriving; restarted, its table ends up holding exactly the
server's stream (same ids, same order, nothing twice)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import ROOT, Server, running_server
from tests.stream_scenario import append_to_database


def feed_ids(server: Server) -> list[str]:
    headers = server.headers("checker", "service")
    ids: list[str] = []
    after = 0
    while True:
        response = httpx.get(
            f"{server.base_url}/api/events?after={after}&limit=1000", headers=headers
        )
        batch = response.json()
        if not batch:
            return ids
        ids += [e["id"] for e in batch]
        after = int(response.headers["Swarmdesk-Next-Position"])


def mirrored(db: Path) -> list[tuple[int, str]]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        try:
            rows = conn.execute("SELECT position, id FROM mirrored_events ORDER BY seq").fetchall()
        except sqlite3.OperationalError:  # the table is not created yet
            return []
    return [(int(p), str(i)) for p, i in rows]


@contextlib.contextmanager
def writer(server: Server) -> Iterator[threading.Event]:
    """Keep appending cases (commands) from another store until the event is set."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            append_to_database(server.database_url, server.schema, 2, full=True)
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(30)


def start_mirror(server: Server, db: Path, transport: str, log: Path) -> subprocess.Popen[bytes]:
    token = server.token("mirror", "service")
    args = ["--url", server.base_url, "--token", token, "--db", str(db)]
    args += ["--transport", transport, "--batch", "40"]
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "swarmdesk_consumer.mirror", *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "transport"),
    [
        pytest.param("postgres", "ws", marks=pytest.mark.postgres),
        pytest.param("postgres", "http", marks=pytest.mark.postgres),
        ("sqlite", "ws"),
    ],
)
def test_mirror_killed_mid_stream_ends_with_exactly_the_stream(
    backend: str, transport: str, tmp_path: Path
) -> None:
    db, log = tmp_path / "mirror.sqlite", tmp_path / "mirror.log"
    with running_server(backend, tmp_path) as server:
        append_to_database(server.database_url, server.schema, 30)  # history: 631 events
        mirror = start_mirror(server, db, transport, log)
        kills = 0
        try:
            with writer(server):
                for _ in range(4):
                    before = len(mirrored(db))
                    deadline = time.monotonic() + 30
                    while len(mirrored(db)) < before + 50 and time.monotonic() < deadline:
                        time.sleep(0.02)  # let it get going, then kill it mid-stream
                    assert mirror.poll() is None, log.read_text()
                    os.kill(mirror.pid, signal.SIGKILL)
                    assert mirror.wait(10) == -signal.SIGKILL
                    kills += 1
                    assert len(mirrored(db)) > before, log.read_text()
                    mirror = start_mirror(server, db, transport, log)
                    time.sleep(0.3)
            expected = feed_ids(server)
            deadline = time.monotonic() + 60
            while len(mirrored(db)) < len(expected) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # anything extra (a duplicate) would land now
        finally:
            mirror.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                mirror.wait(10)
            if mirror.poll() is None:
                mirror.kill()
        rows = mirrored(db)
        assert kills == 4
        assert len(expected) > 631 + 100  # the writer kept going while we killed
        assert [i for _, i in rows] == expected  # same ids, same order, nothing twice
        assert [p for p, _ in rows] == list(range(1, len(expected) + 1))

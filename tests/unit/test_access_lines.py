"""The JSON handler's access lines: gathered per turn of the event loop, written in order."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from app.telemetry import logs


class CountingStream(io.StringIO):
    """A stream that counts its writes (one per system call, on a real file)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def stream() -> Iterator[CountingStream]:
    out = CountingStream()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("info", "json", out)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_one_turn_of_the_loop_writes_its_access_lines_once(stream: CountingStream) -> None:
    for n in range(5):
        logs.access("POST", f"/api/cases/{n}", 201, 1.0, f"req-{n}")
    assert stream.getvalue() == ""  # not yet: at the end of this turn
    await asyncio.sleep(0)
    assert [line["path"] for line in _lines(stream)] == [f"/api/cases/{n}" for n in range(5)]
    assert stream.writes == 1


async def test_another_record_keeps_the_order_of_lines(stream: CountingStream) -> None:
    logs.access("GET", "/first", 200, 1.0, "req-1")
    logging.getLogger("app.test").warning("second")
    logs.access("GET", "/third", 200, 1.0, "req-3")
    await asyncio.sleep(0)
    messages = [str(line["message"]) for line in _lines(stream)]
    assert messages[1] == "second"
    assert messages[0].startswith("GET /first")
    assert messages[2].startswith("GET /third")


def test_outside_a_loop_a_line_is_written_at_once(stream: CountingStream) -> None:
    logs.access("GET", "/now", 200, 1.0, "req-now")
    assert _lines(stream)[0]["path"] == "/now"


async def test_flush_writes_what_was_gathered(stream: CountingStream) -> None:
    logs.access("GET", "/pending", 200, 1.0, "req-p")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert _lines(stream)[0]["path"] == "/pending"

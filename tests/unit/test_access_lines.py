"""The JSON handler's access lines: gathered for `ACCESS_DELAY`, written in order, once."""

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


async def test_lines_gathered_within_the_delay_are_written_once(stream: CountingStream) -> None:
    for n in range(5):
        logs.access("POST", f"/api/cases/{n}", 201, 1.0, f"req-{n}")
        await asyncio.sleep(0)  # other turns of the loop: still gathered
    assert stream.getvalue() == ""
    await asyncio.sleep(logs.ACCESS_DELAY * 3)
    lines = _lines(stream)
    assert [line["path"] for line in lines] == [f"/api/cases/{n}" for n in range(5)]
    assert [line["request_id"] for line in lines] == [f"req-{n}" for n in range(5)]
    assert stream.writes == 1
    logs.access("POST", "/api/cases/5", 201, 1.0, "req-5")  # the next line: a new delay
    await asyncio.sleep(logs.ACCESS_DELAY * 3)
    assert _lines(stream)[-1]["path"] == "/api/cases/5"
    assert stream.writes == 2


async def test_a_full_batch_is_written_without_waiting(stream: CountingStream) -> None:
    for n in range(logs.ACCESS_BATCH):
        logs.access("GET", f"/n/{n}", 200, 1.0, f"req-{n}")
    assert len(_lines(stream)) == logs.ACCESS_BATCH
    assert stream.writes == 1


async def test_a_line_carries_the_fields_its_request_had_when_it_ended(
    stream: CountingStream,
) -> None:
    token = logs.start_request("req-fields")
    logs.bind(principal_id="ana", case_id="case-1")
    logs.access("POST", "/api/cases/case-1/context", 200, 2.25, "req-fields")
    logs.bind(case_id="case-2")  # after the line: not in it
    logs.end_request(token)
    for handler in logging.getLogger().handlers:
        handler.flush()
    (line,) = _lines(stream)
    assert line["principal_id"] == "ana"
    assert line["case_id"] == "case-1"
    assert line["duration_ms"] == 2.25
    assert line["message"] == "POST /api/cases/case-1/context 200 2.2ms request_id=req-fields"
    assert {"time", "level", "logger"} <= set(line)
    assert line["logger"] == "swarmdesk.access"


async def test_another_record_keeps_the_order_of_lines(stream: CountingStream) -> None:
    logs.access("GET", "/first", 200, 1.0, "req-1")
    logging.getLogger("app.test").warning("second")
    logs.access("GET", "/third", 200, 1.0, "req-3")
    await asyncio.sleep(logs.ACCESS_DELAY * 3)
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


def test_lines_left_by_a_closed_loop_are_written_by_the_next_one(stream: CountingStream) -> None:
    async def request(n: int, wait: float) -> None:
        logs.access("GET", f"/loop/{n}", 200, 1.0, f"req-{n}")
        await asyncio.sleep(wait)

    asyncio.run(request(1, 0))  # the loop closes before its flush was due
    assert stream.getvalue() == ""
    asyncio.run(request(2, logs.ACCESS_DELAY * 3))
    assert [line["path"] for line in _lines(stream)] == ["/loop/1", "/loop/2"]

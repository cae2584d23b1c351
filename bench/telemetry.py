"""What the telemetry hooks cost one command, in process (issue #18), in microseconds.

Printed side by side, each the median of several rounds:
- the access line through the standard `logging` path (what the edge did before) and
  through `app.telemetry.logs.access` on an event loop (the JSON handler's direct path:
  the line's fields gathered, formatted and written with others), into a file: the
  request's share (`access` alone) and the whole line (64 lines, then a flush);
- the edge's hooks with traces on and sampled at 1% (`parentbased_traceidratio`): a span
  for every request, sampled or not (before), and now (a dropped request makes none),
  with `recording` and `appended`; and the push and projector hooks per change;
- the console exporter's formatting of a kept request's three spans (the edge's, the
  decision's, the append's), shared by the 100 requests of which it is one at 1%: the
  SDK's indented `to_json` (before) and `app.telemetry.span_lines` (now), with the
  objects each left in reference cycles (the cyclic collector's work, not counted in
  the microseconds);
- both against the server CPU of one command (`--command-us`, default 400 us: what
  `bench/http_commands.py` printed on these machines) as a share.

These in-process figures are what this machine can resolve: whole-server runs side by
side (`bench/http_commands.py --telemetry`) swing more than the 5% being measured while
other work runs. Usage: python bench/telemetry.py [--rounds 5] [--command-us 400]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import logging
import os
import statistics
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `app` and `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind

from app.telemetry import logs
from app.telemetry.span_lines import SpanLines
from app.telemetry.tracing import Tracing

PATH = "/api/cases/0b9f6f5e-2a55-4d39-9d5e-2f2d9c8c7f11/insights"
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"content-type", b"application/json"),
    (b"authorization", b"Bearer x"),
    (b"idempotency-key", b"k"),
]


def per_call_us(fn: Callable[[], object], rounds: int, number: int = 20_000) -> float:
    return statistics.median(timeit.repeat(fn, number=number, repeat=rounds)) / number * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="three rounds")
    parser.add_argument("--command-us", type=float, default=400.0)
    args = parser.parse_args()
    if args.quick:
        args.rounds = 3
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as work, open(Path(work) / "log", "w") as sink:
        handler = logs.configure("info", "json", sink)
        token = logs.start_request("0123456789abcdef0123456789abcdef")
        logs.bind(principal_id="ana", case_id="0b9f6f5e-2a55-4d39-9d5e-2f2d9c8c7f11")
        access = logging.getLogger("swarmdesk.access")
        extra = {"method": "POST", "path": PATH, "status": 200, "duration_ms": 1.2}

        def through_logging() -> None:
            access.info("%s %s %d %.1fms request_id=%s", "POST", PATH, 200, 1.2, "r", extra=extra)

        figures["access line through logging (before)"] = per_call_us(through_logging, args.rounds)

        def gathered() -> None:  # as on a server: a flush writes what was gathered
            for _ in range(64):
                logs.access("POST", PATH, 200, 1.2, "r")
            handler.flush()

        async def on_a_loop() -> tuple[float, float]:
            on_path = per_call_us(lambda: logs.access("POST", PATH, 200, 1.2, "r"), 1, 256)
            handler.flush()
            return on_path, per_call_us(gathered, args.rounds, 300) / 64

        on_path, whole = asyncio.run(on_a_loop())
        figures["access line, on the request's path (logs.access)"] = on_path
        figures["access line, gathered: formatted and written (whole)"] = whole
        logs.end_request(token)
        logging.getLogger().removeHandler(handler)

    tracing = Tracing(
        processor=SimpleSpanProcessor(InMemorySpanExporter()),
        sampler=ParentBased(TraceIdRatioBased(0.01)),
    )
    tracing.start()

    def request() -> None:
        with tracing.server_span("POST", PATH, HEADERS):
            if tracing.recording():
                with tracing.span("command post_insight"):
                    pass
            tracing.appended([1])

    old_style = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.01))).get_tracer("x")

    def request_before() -> None:  # a span per request, sampled or not (the code before)
        with old_style.start_as_current_span("HTTP POST", kind=SpanKind.SERVER):
            tracing.appended([1])

    def change() -> None:
        tracing.pushed(1, 3)
        tracing.projected([1], 0.001)

    figures["traces at 1%: a span per request (before)"] = per_call_us(request_before, args.rounds)
    figures["traces at 1%: the edge's hooks per request"] = per_call_us(request, args.rounds)
    figures["traces at 1%: push + projector hooks per change"] = per_call_us(change, args.rounds)
    tracing.close()
    kept = _kept_request()
    lines = SpanLines()
    for name, formatter in (("the SDK's to_json (before)", _sdk_line), ("span lines", lines)):
        us = per_call_us(functools.partial(_format_all, formatter, kept), args.rounds, 2_000)
        figures[f"traces at 1%: console, {name}"] = us / 100
        print(f"console, {name}: {us:.1f} us per kept request, "
              f"{_cycles(formatter, kept)} objects left in cycles")  # fmt: skip
    width = max(map(len, figures))
    print(f"per command, in process (median of {args.rounds} rounds; pid {os.getpid()}):")
    for name, us in figures.items():
        print(f"  {name:<{width}}  {us:6.2f} us  ({us / args.command_us:6.2%} of a "
              f"{args.command_us:.0f} us command)")  # fmt: skip
    logs_now = figures["access line, gathered: formatted and written (whole)"]
    traced = logs_now + sum(
        v for k, v in figures.items() if k.startswith("traces") and "before" not in k
    )
    print(f"INFO logs: {logs_now / args.command_us:.2%} of a command (target <= 5%); "
          f"INFO logs + traces at 1%: {traced / args.command_us:.2%} (target <= 10%)")  # fmt: skip
    return 0


def _kept_request() -> list[ReadableSpan]:
    """The three spans of one kept command, as the service makes them."""
    exporter = InMemorySpanExporter()
    tracing = Tracing(processor=SimpleSpanProcessor(exporter), sampler=ALWAYS_ON)
    tracing.start()
    with tracing.server_span("POST", PATH, HEADERS) as span:
        with tracing.span("command add_context", command="add_context"), tracing.span("append"):
            tracing.appended([1])
        assert span is not None
        span.set_attribute("http.response.status_code", 200)
    tracing.close()
    return list(exporter.get_finished_spans())


def _format_all(formatter: Callable[[ReadableSpan], str], spans: list[ReadableSpan]) -> None:
    for span in spans:
        formatter(span)


def _sdk_line(span: ReadableSpan) -> str:
    line: str = span.to_json()  # `ConsoleSpanExporter`'s default formatter
    return line + os.linesep


def _cycles(formatter: Callable[[ReadableSpan], str], spans: list[ReadableSpan]) -> int:
    """How many objects formatting `spans` once leaves for the cyclic collector."""
    gc.collect()
    gc.disable()
    try:
        for span in spans:
            formatter(span)
        return gc.collect()
    finally:
        gc.enable()


if __name__ == "__main__":
    raise SystemExit(main())

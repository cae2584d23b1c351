"""Structured logs: one JSON object per line (or a plain text line), with the context of
the request that caused them.

Contract: every record written through `configure`'s handler carries `time` (RFC 3339,
UTC, milliseconds), `level`, `logger` and `message`; `request_id`, `principal_id` and
`case_id` when the code that logged runs for a request that has them (the edge binds the
request id, the routes and the command runner the rest, see `bind`); and any `extra=`
fields the caller passed (the access log's `method`, `path`, `status`, `duration_ms`).
No credential is ever written: bearer tokens, `access_token=` and `token=` query values
in a message (uvicorn's socket lines carry the query string) are replaced by `[redacted]`.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import logging
import re
import sys
import time
from collections import deque
from typing import Any, Literal, TextIO

import orjson

LogFormat = Literal["json", "text"]

#: The fields of the request being served: the edge sets a fresh dict per request, and
#: code below it adds to that same dict (`bind`), so even a copied context (a worker
#: thread, a task) writes where the edge's access line reads.
_FIELDS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "swarmdesk_log_fields", default=None
)
_CREDENTIAL = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|((?:access_)?token=)[^&\s\"']+")
_HANDLER_NAME = "swarmdesk"
# Attributes every `LogRecord` has: anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def start_request(request_id: str) -> contextvars.Token[dict[str, str] | None]:
    """Open a request's fields (the edge calls it; `end_request` with the token)."""
    return _FIELDS.set({"request_id": request_id})


def end_request(token: contextvars.Token[dict[str, str] | None]) -> None:
    _FIELDS.reset(token)


def bind(**fields: str) -> None:
    """Add fields to the current request's log context (nothing outside a request)."""
    current = _FIELDS.get()
    if current is not None:
        current.update(fields)


def current() -> dict[str, str]:
    """The current request's fields (a copy; empty outside a request)."""
    fields = _FIELDS.get()
    return dict(fields) if fields else {}


def redact(text: str) -> str:
    """`text` with bearer tokens and token query values replaced by `[redacted]`."""
    if "oken" not in text and "earer" not in text:
        return text
    return _CREDENTIAL.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", text)


_second: list[Any] = [-1, ""]  # the last whole second formatted, and its text


def _time(record: logging.LogRecord) -> str:
    return _time_of(record.created)


def _time_of(created: float) -> str:
    whole = int(created)
    if whole != _second[0]:  # formatted once a second; the milliseconds appended
        moment = datetime.datetime.fromtimestamp(whole, tz=datetime.UTC)
        _second[:] = [whole, moment.strftime("%Y-%m-%dT%H:%M:%S")]
    second: str = _second[1]
    return second + _MILLIS[int((created - whole) * 1000)]


# ".000Z" ... ".999Z", and ".999Z" again for a product that rounds up to 1000
_MILLIS = (*(f".{n:03d}Z" for n in range(1000)), ".999Z")


def _extras(record: logging.LogRecord) -> list[str]:
    """The names of the `extra=` fields of `record`."""
    return [k for k in record.__dict__.keys() - _STANDARD if not k.startswith("_")]


class JsonFormatter(logging.Formatter):
    """One compact JSON object per record (see the module's contract)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        fields = _FIELDS.get()
        if fields:
            out.update(fields)
        for key in _extras(record):
            value = record.__dict__[key]
            out[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value ...` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_time(record), record.levelname, f"{record.name}:", record.getMessage()]
        fields = dict(_FIELDS.get() or {})
        fields.update((k, record.__dict__[k]) for k in _extras(record))
        parts += [f"{k}={v}" for k, v in fields.items()]
        line = redact(" ".join(str(p) for p in parts))
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


#: One access line not yet written: when (epoch seconds), method, path, status,
#: milliseconds, request id and the request's fields as they were when it ended.
AccessEntry = tuple[float, str, str, int, float, str, dict[str, str] | None]

#: How long access lines may wait to be written together (seconds).
ACCESS_DELAY = 0.05
#: Gathered lines written at once beyond this many, whatever the delay.
ACCESS_BATCH = 512


class JsonLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The JSON handler, with a direct path for the access log (`access`).

    An access line is kept as its fields (a tuple appended to a deque, no lock) and
    formatted with the other lines gathered within `delay` seconds (`ACCESS_DELAY`, or
    `ACCESS_BATCH` lines) in one loop and one `write`: formatting each line as its
    request ended cost ~5% of a command's server CPU with three servers sharing two cores
    (`bench/http_commands.py --telemetry`), formatting a batch in one tight loop about a
    third of that. Any other record, `flush()` and `close()` write the gathered lines
    first, so the order of lines is kept; what a SIGKILL can lose is the last `delay`
    seconds of access lines. Outside a running loop a line is written at once."""

    def __init__(self, stream: TextIO | None = None, delay: float = ACCESS_DELAY) -> None:
        super().__init__(stream)
        # appended (the request's path, `access`) and popped (`_drain`, under the
        # handler's lock) atomically from any thread: the request's path takes no lock
        self._pending: deque[AccessEntry] = deque()
        self._delay = delay
        # the loop a flush is scheduled on (None: none is): a line gathered on another
        # loop (a test's next loop, after one closed with its timer) schedules its own
        self._armed: asyncio.AbstractEventLoop | None = None

    def gathered(self, entry: AccessEntry) -> None:
        """Gather one access line (written by `flush`, scheduled by the first line)."""
        pending = self._pending
        pending.append(entry)
        if len(pending) >= ACCESS_BATCH:
            self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._armed is not loop:
            self._armed = loop
            loop.call_later(self._delay, self.flush)

    def _drain(self) -> None:
        """Format and write the gathered lines (the caller holds the lock)."""
        pending = self._pending
        if pending:
            pop = pending.popleft
            lines = [_access_line(pop()) for _ in range(len(pending))]
            lines.append("")
            self.stream.write(self.terminator.join(lines))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._armed = None
            if self.stream:
                self._drain()
                if hasattr(self.stream, "flush"):
                    self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        if self._pending:
            with self.lock:  # type: ignore[union-attr]
                self._drain()
        super().emit(record)


def _access_line(entry: AccessEntry) -> str:
    """The JSON line of one access entry (see `access`)."""
    created, method, path, status, ms, request_id, fields = entry
    shown = redact(path)  # the one part a credential could be in (the id is the edge's)
    out: dict[str, Any] = {
        "time": _time_of(created),
        "level": "info",
        "logger": "swarmdesk.access",
        "message": f"{method} {shown} {status} {ms:.1f}ms request_id={request_id}",
        "request_id": request_id,
        **(fields or _NONE),
        "method": method,
        "path": shown,
        "status": status,
        "duration_ms": ms,
    }
    return orjson.dumps(out).decode()


_ours: list[JsonLines | None] = [None]  # the JSON handler `configure` installed
_access = logging.getLogger("swarmdesk.access")


def access(method: str, path: str, status: int, ms: float, request_id: str) -> None:
    """The access line of one request (logger `swarmdesk.access`, INFO), as the JSON
    formatter would write it. Measured (`python bench/telemetry.py`): a line through
    `logging` costs ~12 us; handed to the installed JSON handler as its fields (formatted
    there with others, `JsonLines`) ~1 us on the request's path and ~3 us in all. The
    direct path is taken when that handler is on the root logger and the access
    logger has no handler or filter of its own; any other handler on the root (a test's
    capture) still gets the record; without the JSON handler (text format, another
    configuration) the line goes through `logging` as any other."""
    if not _access.isEnabledFor(logging.INFO):
        return
    ours = _ours[0]
    handlers = logging.root.handlers
    if (
        ours is None
        or ours not in handlers
        or _access.handlers
        or _access.filters
        or ours.filters
        or ours.level > logging.INFO
    ):
        shown = redact(path)
        message = f"{method} {shown} {status} {ms:.1f}ms request_id={request_id}"
        _access.info(message, extra=_extra(method, shown, status, ms))
        return
    fields = _FIELDS.get()
    ours.gathered((time.time(), method, path, status, ms, request_id, fields and fields.copy()))
    if len(handlers) > 1:  # others beside ours (a test's capture): they get the record
        shown = redact(path)
        record = _access.makeRecord(
            _access.name,
            logging.INFO,
            "(edge)",
            0,
            f"{method} {shown} {status} {ms:.1f}ms request_id={request_id}",
            (),
            None,
            extra=_extra(method, shown, status, ms),
        )
        for handler in handlers:
            if handler is not ours and record.levelno >= handler.level:
                handler.handle(record)


_NONE: dict[str, str] = {}


def _extra(method: str, path: str, status: int, ms: float) -> dict[str, Any]:
    return {"method": method, "path": path, "status": status, "duration_ms": ms}


def configure(
    level: str = "info", fmt: LogFormat = "json", stream: TextIO | None = None
) -> logging.Handler:
    """Send every logger's records (the app's, uvicorn's, the access log) to one handler
    on the root logger at `level`, in `fmt`; that handler. Idempotent: it replaces its
    own handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    out = stream or sys.stderr
    handler: logging.StreamHandler = (  # type: ignore[type-arg]
        JsonLines(out) if fmt == "json" else logging.StreamHandler(out)
    )
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    _ours[0] = handler if isinstance(handler, JsonLines) else None
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Attributes no line shows (logging's documented optimisation): cheaper records.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()  # uvicorn's own config, if any ran: ours writes them
        logger.propagate = True
    # The edge writes the access log (`swarmdesk.access`); uvicorn's would repeat each
    # line with its query string, where a token can be.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    return handler

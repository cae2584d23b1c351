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
    return f"{_second[1]}.{int((created - whole) * 1000):03d}Z"


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


class JsonLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The JSON handler, with a direct path for the access log (`access`).

    Access lines written on an event loop are gathered and written once per turn of the
    loop (one `write` and one flush for every line of that turn, in a callback the first
    line schedules): a flush per line was a system call per request, about half of what
    the access log cost a command (`bench/http_commands.py --telemetry`, py-spy on the
    server). Any other record, `flush()` and `close()` write the gathered lines first, so
    the order of lines is kept; what a SIGKILL can lose is the current turn's lines.
    Outside a running loop a line is written at once."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []

    def line(self, text: str) -> None:
        """Write one formatted line as `emit` would (under the handler's lock)."""
        self.acquire()
        try:
            pending = self._pending
            if pending:
                pending.append(text)
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.stream.write(text + self.terminator)
                self.stream.flush()
                return
            pending.append(text)
            loop.call_soon(self.flush)
        finally:
            self.release()

    def _drain(self) -> None:
        """Write the gathered lines (the caller holds the lock)."""
        if self._pending:
            terminator = self.terminator
            self.stream.write(terminator.join(self._pending) + terminator)
            self._pending.clear()

    def flush(self) -> None:
        self.acquire()
        try:
            if self.stream:
                self._drain()
                if hasattr(self.stream, "flush"):
                    self.stream.flush()
        finally:
            self.release()

    def emit(self, record: logging.LogRecord) -> None:
        if self._pending:
            self.acquire()
            try:
                self._drain()
            finally:
                self.release()
        super().emit(record)


_ours: list[JsonLines | None] = [None]  # the JSON handler `configure` installed
_access = logging.getLogger("swarmdesk.access")


def access(method: str, path: str, status: int, ms: float, request_id: str) -> None:
    """The access line of one request (logger `swarmdesk.access`, INFO), as the JSON
    formatter would write it. Measured: a line through `logging` cost ~25 us of a
    ~350 us command (7%); written directly by the installed JSON handler it costs about a
    tenth of that. The direct path is taken when that handler is on the root logger and
    the access logger has no handler or filter of its own; any other handler on the root
    (a test's capture) still gets the record; without the JSON handler (text format,
    another configuration) the line goes through `logging` as any other."""
    if not _access.isEnabledFor(logging.INFO):
        return
    shown = redact(path)  # the one part a credential could be in (the id is the edge's)
    message = f"{method} {shown} {status} {ms:.1f}ms request_id={request_id}"
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
        _access.info(message, extra=_extra(method, path, status, ms))
        return
    fields = _FIELDS.get()
    out: dict[str, Any] = {
        "time": _time_of(time.time()),
        "level": "info",
        "logger": "swarmdesk.access",
        "message": message,
        **(fields or _NONE),
        "method": method,
        "path": shown,
        "status": status,
        "duration_ms": ms,
    }
    ours.line(orjson.dumps(out).decode())
    if len(handlers) > 1:  # others beside ours (a test's capture): they get the record
        record = _access.makeRecord(
            _access.name,
            logging.INFO,
            "(edge)",
            0,
            message,
            (),
            None,
            extra=_extra(method, path, status, ms),
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

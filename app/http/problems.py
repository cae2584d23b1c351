"""RFC 9457 problem details: the one table from errors to HTTP status, problem type and
WebSocket close code.

`kind_of(exc)` walks the exception's MRO and takes the first class listed in `TABLE`, so
a subclass is mapped like its base unless listed itself. Routes, the fast dispatcher,
push sockets and the event stream all answer errors through `problem_of`; an error no
class of which is listed is not a problem (a 500 for HTTP, 1011 for a socket).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth.callers import CrossSiteRefused
from app.auth.tokens import AuthError
from app.service.articles import ArticleExists, ArticleNotFound
from app.service.errors import (
    ApplicationError,
    CaseNotFound,
    CommandTimedOut,
    InvalidParameter,
    NotPermitted,
    PolicyNotFound,
    ResourceNotFound,
    VersionMismatch,
    ViewBehind,
)
from app.store import (
    EventDecodeError,
    IdempotencyKeyReused,
    SchemaMissing,
    StoreUnavailable,
    VersionConflict,
)
from domain.errors import DomainError, InvalidInput, NotFoundInCase

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Kind:
    slug: str
    title: str
    status: int
    close_code: int  # WebSocket close code for the same failure


NOT_AUTHENTICATED = Kind("not-authenticated", "Not authenticated", 401, 4401)
FORBIDDEN = Kind("forbidden", "Forbidden", 403, 4403)
CROSS_SITE = Kind("cross-site-request", "Cross-site request refused", 403, 4403)
TOO_LARGE = Kind("too-large", "Request too large", 413, 1009)
TOO_MANY = Kind("too-many-requests", "Too many requests", 429, 1013)
HEADERS_TOO_LARGE = Kind("headers-too-large", "Request header fields too large", 431, 1008)
RULE_VIOLATED = Kind("rule-violated", "Rule violated", 403, 4403)
NOT_FOUND = Kind("not-found", "Not found", 404, 4404)
VERSION_CONFLICT = Kind("version-conflict", "Version conflict", 409, 4409)
PRECONDITION_FAILED = Kind("precondition-failed", "Precondition failed", 412, 4412)
VALIDATION = Kind("validation-error", "Invalid request", 422, 4422)
IDEMPOTENCY_REUSED = Kind("idempotency-key-reused", "Idempotency key reused", 422, 4422)
UNAVAILABLE = Kind("store-unavailable", "Service unavailable", 503, 1013)
VIEW_BEHIND = Kind("view-behind", "View not caught up yet", 503, 1013)  # ?min_position
TIMED_OUT = Kind("command-timed-out", "Command timed out", 503, 1013)
CORRUPT = Kind("corrupt-event", "Stored event unreadable", 500, 1011)
INTERNAL = Kind("internal", "Internal error", 500, 1011)


class Problem(Exception):
    """An HTTP-level problem (framework errors: 405, 413, ...); `extra` adds members."""

    def __init__(self, kind: Kind, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.extra = extra


def _ids(exc: DomainError) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("case_id", "actor_id", "offending_id"):
        value = getattr(exc, name, None)
        if value is not None:
            out[name] = str(value)
    return out


def _extra(exc: Any) -> dict[str, Any]:
    return dict(exc.extra)


def _conflict(exc: VersionConflict) -> dict[str, Any]:
    return {"case_id": str(exc.originator_id), "current_version": exc.current_version}


def _corrupt(exc: EventDecodeError) -> dict[str, Any]:
    return {
        "case_id": str(exc.originator_id),
        "version": exc.originator_version,
        "position": exc.position,
    }


def _none(exc: BaseException) -> dict[str, Any]:
    return {}


Extra = Callable[[Any], dict[str, Any]]

#: The one table: error class -> (kind, the extra members it carries).
TABLE: dict[type[BaseException], tuple[Kind, Extra]] = {
    AuthError: (NOT_AUTHENTICATED, _none),
    CrossSiteRefused: (CROSS_SITE, _none),
    NotPermitted: (FORBIDDEN, _extra),
    CaseNotFound: (NOT_FOUND, _extra),
    ResourceNotFound: (NOT_FOUND, _extra),
    ArticleNotFound: (NOT_FOUND, _extra),
    ArticleExists: (VERSION_CONFLICT, _extra),
    PolicyNotFound: (NOT_FOUND, _extra),
    VersionMismatch: (PRECONDITION_FAILED, _extra),
    ViewBehind: (VIEW_BEHIND, _extra),
    CommandTimedOut: (TIMED_OUT, _extra),
    InvalidParameter: (VALIDATION, _extra),
    ApplicationError: (VALIDATION, _extra),
    VersionConflict: (VERSION_CONFLICT, _conflict),
    IdempotencyKeyReused: (IDEMPOTENCY_REUSED, lambda e: {"idempotency_key": e.key}),
    NotFoundInCase: (NOT_FOUND, _ids),
    InvalidInput: (VALIDATION, _ids),
    DomainError: (RULE_VIOLATED, lambda e: {"code": e.code, **_ids(e)}),
    SchemaMissing: (UNAVAILABLE, _none),
    StoreUnavailable: (UNAVAILABLE, _none),
    EventDecodeError: (CORRUPT, _corrupt),
}


def mapped(exc: BaseException) -> tuple[Kind, Extra] | None:
    """The table's entry for `exc`, along its MRO; None when no class of it is listed."""
    for cls in type(exc).__mro__:
        entry = TABLE.get(cls)
        if entry is not None:
            return entry
    return None


#: Details that never repeat the error's own text (it may quote a database driver).
FIXED_DETAIL = {
    UNAVAILABLE: "the event store is unavailable; retry later",
}


def problem_of(exc: BaseException) -> Problem:
    """The problem for a known error; `TypeError` for one the table does not list. A
    server-side failure's own text goes to the log, never into the problem."""
    if isinstance(exc, Problem):
        return exc
    entry = mapped(exc)
    if entry is None:
        raise TypeError(f"no problem mapping for {type(exc).__name__}")
    kind, extra = entry
    detail = FIXED_DETAIL.get(kind)
    if detail is not None:
        log.warning("%s: %s", kind.slug, exc)
        return Problem(kind, detail, **extra(exc))
    return Problem(kind, str(exc), **extra(exc))


def problem_body(problem: Problem, instance: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:swarmdesk:problem:{problem.kind.slug}",
        "title": problem.kind.title,
        "status": problem.kind.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    body.update(problem.extra)
    return body


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    headers: dict[str, str] = {}
    if problem.kind.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if problem.kind is VIEW_BEHIND or problem.kind is TIMED_OUT or problem.kind is UNAVAILABLE:
        headers["Retry-After"] = "1"
    return JSONResponse(
        problem_body(problem, instance),
        status_code=problem.kind.status,
        media_type=PROBLEM_JSON,
        headers=headers or None,
    )


_HTTP_KINDS = {
    400: Kind("bad-request", "Bad request", 400, 1008),
    401: NOT_AUTHENTICATED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: Kind("method-not-allowed", "Method not allowed", 405, 1008),
    406: Kind("not-acceptable", "Not acceptable", 406, 1008),
    413: TOO_LARGE,
    415: Kind("unsupported-media-type", "Unsupported media type", 415, 1003),
}


def _allowed(app: FastAPI, path: str) -> list[str]:
    """Methods the OpenAPI document lists for `path` (routes of one path may live in
    several routers, so Starlette's own 405 names only the first router's)."""
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods.update(method.upper() for method in operations)
    return sorted(methods)


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    """The 422 for pydantic/FastAPI validation errors (`errors` lists field paths)."""
    listed = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    fields = ", ".join(".".join(e["loc"]) for e in listed)
    return Problem(VALIDATION, f"invalid fields: {fields}", errors=listed)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every listed error into problem+json."""

    async def on_known(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(problem_of(exc), request.url.path)

    for cls in (Problem, *TABLE):
        if isinstance(cls, type) and issubclass(cls, Exception):
            app.add_exception_handler(cls, on_known)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(list(exc.errors())), request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = _HTTP_KINDS.get(
            exc.status_code, Kind("http-error", "HTTP error", exc.status_code, 1008)
        )
        response = problem_response(Problem(kind, str(exc.detail)), request.url.path)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: every method of the resource, all routers
            response.headers["Allow"] = ", ".join(_allowed(app, request.url.path))
        return response

    async def on_unhandled(request: Request, exc: Exception) -> JSONResponse:
        """Answer problem+json (Starlette then re-raises: the edge logs it, once)."""
        rid = request.scope.get("swarmdesk.request_id", b"")
        detail = "internal error" + (f"; quote request id {rid.decode()}" if rid else "")
        return problem_response(Problem(INTERNAL, detail), request.url.path)

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unhandled)


# -- OpenAPI: the problem schema and the responses a route declares ----------------
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; ids involved are added as extra members.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "case_id": {"type": "string"},
        "current_version": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    400: "the body cannot be read at all (not UTF-8, or not the declared content type)",
    401: "missing, malformed, expired or forged bearer token",
    403: "the caller's role or relation to the case does not permit this",
    404: "no such case (or not visible to the caller), or no such element in it",
    409: "another command changed the case first; `current_version` says where it is",
    412: "`If-Match` names a version other than the case's current one",
    422: "invalid body, path or header (`errors` lists the fields), or a reused idempotency key",
    503: "the event store is unavailable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given statuses, as problem+json."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }

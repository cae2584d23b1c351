"""RFC 9457 problem details: the one table from errors to HTTP status and WebSocket code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth import AuthError
from app.store import (
    EventDecodeError,
    IdempotencyKeyReused,
    SchemaMissing,
    StoreUnavailable,
    VersionConflict,
)
from domain.errors import DomainError, InvalidInput, NotFoundInCase

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Kind:
    slug: str
    title: str
    status: int
    close_code: int  # WebSocket close code for the same failure


NOT_AUTHENTICATED = Kind("not-authenticated", "Not authenticated", 401, 4401)
FORBIDDEN = Kind("forbidden", "Forbidden", 403, 4403)
RULE_VIOLATED = Kind("rule-violated", "Rule violated", 403, 4403)
NOT_FOUND = Kind("not-found", "Not found", 404, 4404)
VERSION_CONFLICT = Kind("version-conflict", "Version conflict", 409, 4409)
PRECONDITION_FAILED = Kind("precondition-failed", "Precondition failed", 412, 4412)
VALIDATION = Kind("validation-error", "Invalid request", 422, 4422)
IDEMPOTENCY_REUSED = Kind("idempotency-key-reused", "Idempotency key reused", 422, 4422)
UNAVAILABLE = Kind("store-unavailable", "Service unavailable", 503, 1013)
VIEW_BEHIND = Kind("view-behind", "View not caught up yet", 503, 1013)  # ?min_position
CORRUPT = Kind("corrupt-event", "Stored event unreadable", 500, 1011)


class Problem(Exception):
    """An error the API reports as problem details; `extra` adds members (ids...)."""

    def __init__(self, kind: Kind, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.extra = extra


def problem_of(exc: BaseException) -> Problem:
    """Map any known error to its problem; unknown errors are not mapped here."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, AuthError):
        return Problem(NOT_AUTHENTICATED, str(exc))
    if isinstance(exc, VersionConflict):
        return Problem(
            VERSION_CONFLICT,
            str(exc),
            case_id=str(exc.originator_id),
            current_version=exc.current_version,
        )
    if isinstance(exc, IdempotencyKeyReused):
        return Problem(IDEMPOTENCY_REUSED, str(exc), idempotency_key=exc.key)
    if isinstance(exc, NotFoundInCase):
        return Problem(NOT_FOUND, str(exc), **_ids(exc))
    if isinstance(exc, InvalidInput):
        return Problem(VALIDATION, str(exc), **_ids(exc))
    if isinstance(exc, DomainError):
        return Problem(RULE_VIOLATED, str(exc), code=exc.code, **_ids(exc))
    if isinstance(exc, SchemaMissing | StoreUnavailable):
        return Problem(UNAVAILABLE, str(exc))
    if isinstance(exc, EventDecodeError):
        return Problem(
            CORRUPT,
            str(exc),
            case_id=str(exc.originator_id),
            version=exc.originator_version,
            position=exc.position,
        )
    raise TypeError(f"no problem mapping for {type(exc).__name__}")


def _ids(exc: DomainError) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("case_id", "actor_id", "offending_id"):
        value = getattr(exc, name, None)
        if value is not None:
            out[name] = str(value)
    return out


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:swarmdesk:problem:{problem.kind.slug}",
        "title": problem.kind.title,
        "status": problem.kind.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    body.update(problem.extra)
    headers = {"WWW-Authenticate": "Bearer"} if problem.kind.status == 401 else None
    return JSONResponse(
        body, status_code=problem.kind.status, media_type=PROBLEM_JSON, headers=headers
    )


_HTTP_KINDS = {
    400: Kind("bad-request", "Bad request", 400, 1008),
    401: NOT_AUTHENTICATED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: Kind("method-not-allowed", "Method not allowed", 405, 1008),
    406: Kind("not-acceptable", "Not acceptable", 406, 1008),
    413: Kind("too-large", "Request too large", 413, 1009),
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


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    mapped: tuple[type[Exception], ...] = (
        Problem,
        AuthError,
        VersionConflict,
        IdempotencyKeyReused,
        DomainError,
        SchemaMissing,
        StoreUnavailable,
        EventDecodeError,
    )

    async def on_known(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(problem_of(exc), request.url.path)

    for cls in mapped:
        app.add_exception_handler(cls, on_known)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        fields = ", ".join(".".join(e["loc"]) for e in errors)
        return problem_response(
            Problem(VALIDATION, f"invalid fields: {fields}", errors=errors), request.url.path
        )

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

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)

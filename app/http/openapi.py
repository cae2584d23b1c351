"""`/openapi.json` finished: what FastAPI generates, made to say what the service answers.

- Operation ids are readable: a command's is its name (`app.service.commands`), any
  other route's is its function's name (`get_case`, `read_events`).
- One problem schema, `#/components/schemas/Problem` (RFC 9457), for every error status
  of every operation; FastAPI's `HTTPValidationError` (never answered: a 422 is
  problem+json) is gone.
- Every status a route can answer is declared: 401 on every protected operation, 403
  where a role is required, 404 where a path names a case, 422 where it takes input,
  503 where it reads the store or the views, and 500 everywhere (an unhandled error,
  `app.edge`).
- Response headers are declared: `X-Request-ID` on every response, `Location` on a
  created case, `Swarmdesk-Next-Position`/`Swarmdesk-Head-Position` on the event feed,
  `WWW-Authenticate` on a 401, `Retry-After` on a 503.

The document passes `openapi-spec-validator` (an e2e test runs it on the served one).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from app.http.problems import PROBLEM_JSON, PROBLEM_SCHEMA, problem_responses

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_UNUSED = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "patch")

HEADERS: dict[str, dict[str, Any]] = {
    "XRequestId": {
        "description": "The request's id: the caller's `X-Request-ID`, else the trace id "
        "of its `traceparent`, else a new one; quote it when reporting a problem.",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The created case's URL.",
        "required": True,
        "schema": {"type": "string"},
    },
    "SwarmdeskNextPosition": {
        "description": "Resume with `after` set to this (it moves past filtered-out events).",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "SwarmdeskHeadPosition": {
        "description": "The log's last committed position when the page was read.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWWAuthenticate": {"description": "`Bearer`", "schema": {"type": "string"}},
    "RetryAfter": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    },
}
_NAMES = {
    "XRequestId": "X-Request-ID",
    "Location": "Location",
    "SwarmdeskNextPosition": "Swarmdesk-Next-Position",
    "SwarmdeskHeadPosition": "Swarmdesk-Head-Position",
    "WWWAuthenticate": "WWW-Authenticate",
    "RetryAfter": "Retry-After",
}
#: Headers of particular responses, by operation id and status.
_RESPONSE_HEADERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("open_case", "201"): ("Location",),
    ("read_events", "200"): ("SwarmdeskNextPosition", "SwarmdeskHeadPosition"),
}
_MORE_DESCRIPTIONS = {
    500: "an unexpected error (logged with the request id, which `detail` quotes)",
    503: "the event store or the views are unavailable, or not caught up yet (`Retry-After`)",
}


def operation_id(route: APIRoute) -> str:
    """A route's operation id: its declared one (commands), else its function's name."""
    return route.operation_id or route.name


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every `APIRoute` of `routes`, those of included routers too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            yield from api_routes(included.routes)


def _needs_role(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if "require_role" in getattr(dependant.call, "__qualname__", ""):
            return True
        pending.extend(dependant.dependencies)
    return False


def _statuses(path: str, operation: dict[str, Any], role: bool) -> list[int]:
    statuses = [500]
    if not path.startswith("/api/"):
        return statuses
    statuses.append(503)
    if operation.get("security"):
        statuses.append(401)
    if role:
        statuses.append(403)
    if "{case_id}" in path:
        statuses.append(404)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    return statuses


def _description(status: int) -> str:
    try:
        text: str = problem_responses(status)[status]["description"]
    except KeyError:
        text = _MORE_DESCRIPTIONS.get(status, "a problem")
    return text


def _problem(status: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    description = (existing or {}).get("description") or _description(status)
    if description == "Validation Error":  # FastAPI's, for the 422 it never answers
        description = _description(422)
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"$ref": "#/components/headers/WWWAuthenticate"}}
    if status == 503:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
    return response


def finish(doc: dict[str, Any], roles: dict[str, bool]) -> dict[str, Any]:
    """`doc` (FastAPI's) with the shared problem schema, statuses and headers above;
    `roles` says which operation ids need a role."""
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _UNUSED:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    components["headers"] = HEADERS
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            op_id = operation.get("operationId", "")
            responses: dict[str, Any] = operation.setdefault("responses", {})
            wanted = _statuses(path, operation, roles.get(op_id, False))
            for key in list(responses):
                if key.isdigit() and int(key) >= 400:
                    wanted.append(int(key))
            for status in sorted(set(wanted)):
                responses[str(status)] = _problem(status, responses.get(str(status)))
            for key, response in responses.items():
                headers = response.setdefault("headers", {})
                names = ("XRequestId", *_RESPONSE_HEADERS.get((op_id, key), ()))
                for name in names:
                    headers[_NAMES[name]] = {"$ref": f"#/components/headers/{name}"}
    return doc


def install(app: FastAPI) -> None:
    """Serve the finished document (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            roles = {operation_id(route): _needs_role(route) for route in api_routes(app.routes)}
            app.openapi_schema = finish(doc, roles)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

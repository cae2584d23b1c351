"""A short path for command requests: the endpoint functions registered on the routers,
called without FastAPI's per-request machinery (middleware layers, routing over every
route, dependency solving, response re-validation).

Why: in `bench/http_commands.py` that machinery took about 60% of the server's CPU per
command and the command itself about 13% (py-spy, one `swarmdesk serve` process).

Contract:
- The short path takes a request only when it is sure the FastAPI app would reach the
  same endpoint call: a command route whose signature it understands (below), no
  `root_path`, path ids in canonical UUID form, a bearer token the issuer accepts, an
  `Idempotency-Key` and an `If-Match` that match their header patterns (each at most
  once), and, where the route takes a body, `Content-Type: application/json` with a body
  of at most `MAX_BODY` bytes that parses (`json.loads`, as Starlette) and that the
  route's model accepts. Anything else goes to the FastAPI app unchanged, the body
  replayed, so every 401 and 422 (and every other answer) still comes from one place.
- It then calls the route's own endpoint with what FastAPI would pass: the UUID path
  parameters, the validated body (or None for an optional body sent empty), a
  `Commander` and a `Response` whose headers (Location) are merged into the answer. The
  result is serialised with the route's response model and sent with the route's
  status code. A known error (`app.problems.problem_of`) is answered with its problem,
  exactly as the app's exception handlers do; an unknown one propagates (a 500).
- Which routes qualify is decided once, at the first request, from each route's
  endpoint signature: parameters annotated `UUID` (path ids), one `CommanderDep`, at
  most one body model (plain, `Annotated[..., Body()]` or `Model | None = None`), at
  most one `Response`, nothing else (no query parameters, no extra dependencies); and
  only if no earlier route of the same method could match its paths.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter

from app.auth import AuthError
from app.command_context import IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN
from app.composition import Container
from app.deps import bearer_token
from app.problems import problem_of, problem_response
from app.routes.commander import Commander, CommanderDep

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Larger bodies (no command model accepts one) take the FastAPI path.
MAX_BODY = 256 * 1024
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
_JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8"})
_SAMPLE_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True, slots=True)
class ShortRoute:
    """One command route the short path serves, from its endpoint's signature."""

    path: str
    endpoint: Callable[..., Awaitable[Any]]
    status_code: int
    response: TypeAdapter[Any]
    model_type: Any  # the response model itself
    ids: tuple[str, ...]  # path parameter names, in path order
    commander: str
    body: str | None = None
    model: type[BaseModel] | None = None
    body_optional: bool = False
    sub_response: str | None = None


def route_key(method: str, path: str) -> tuple[str, str, tuple[str, ...]] | None:
    """`(method, shape, ids)`: the path with each canonical UUID segment as `*`."""
    segments = path.split("/")
    ids: list[str] = []
    for i, segment in enumerate(segments):
        if len(segment) == 36 and _UUID.fullmatch(segment):
            ids.append(segment)
            segments[i] = "*"
    return method, "/".join(segments), tuple(ids)


def _body_model(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """`(model, optional)` for `Model`, `Annotated[Model, Body()]` or `Model | None`."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not NoneType]
        if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            return args[0], True
    return None


def short_route(route: APIRoute) -> ShortRoute | None:
    """The short form of `route`, or None when its signature has anything else."""
    if route.dependencies or route.response_model is None:
        return None
    hints = typing.get_type_hints(route.endpoint, include_extras=True)
    parameters = inspect.signature(route.endpoint).parameters
    ids = tuple(re.findall(r"{(\w+)}", route.path))
    fields: dict[str, Any] = {}
    for name, parameter in parameters.items():
        annotation = hints.get(name)
        if name in ids and annotation is UUID:
            continue
        if annotation == CommanderDep and "commander" not in fields:
            fields["commander"] = name
        elif annotation is Response and "sub_response" not in fields:
            fields["sub_response"] = name
        elif (found := _body_model(annotation)) is not None and "body" not in fields:
            optional = found[1]
            if optional != (parameter.default is None):
                return None
            fields.update(body=name, model=found[0], body_optional=optional)
        else:
            return None
    if "commander" not in fields or any(hints.get(i) is not UUID for i in ids):
        return None
    return ShortRoute(
        path=route.path,
        endpoint=route.endpoint,
        status_code=route.status_code or 200,
        response=TypeAdapter(route.response_model),
        model_type=route.response_model,
        ids=ids,
        **fields,
    )


def short_routes(routes: list[Any]) -> dict[tuple[str, str], ShortRoute]:
    """Every qualifying route of `routes` (in the app's order), keyed by method and shape.
    A route that an earlier route of the same method would shadow is left out, and so is
    every route after anything that is not a plain route (its matching is not known)."""
    table: dict[tuple[str, str], ShortRoute] = {}
    earlier: list[APIRoute] = []
    for route in routes:
        if not isinstance(route, APIRoute):
            if getattr(route, "path_regex", None) is None:
                break
            continue
        methods = sorted(route.methods or ())
        short = short_route(route) if len(methods) == 1 else None
        if short is not None:
            method = methods[0]
            sample = re.sub(r"{\w+}", _SAMPLE_ID, route.path)
            shadowed = any(
                method in (other.methods or ()) and other.path_regex.match(sample)
                for other in earlier
            )
            key = route_key(method, sample)
            if not shadowed and key is not None and key[2] == (_SAMPLE_ID,) * len(short.ids):
                table.setdefault((method, key[1]), short)
        earlier.append(route)
    return table


def command_routes() -> list[Any]:
    """The routes of every router `create_app` includes, in its order."""
    from app.routes import routers

    return [route for router in routers() for route in router.routes]


def _replaying(chunks: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives back `chunks` first, then whatever `receive` gives."""
    pending = list(chunks)

    async def again() -> Message:
        return pending.pop(0) if pending else await receive()

    return again


class CommandsFirst:
    """Wraps the FastAPI app: command requests it can serve go the short path."""

    def __init__(
        self, api: FastAPI, route_source: Callable[[], list[Any]] = command_routes
    ) -> None:
        self.api = api
        self._route_source = route_source
        self._table: dict[tuple[str, str], ShortRoute] | None = None
        self.served = 0  # command requests answered on the short path
        self.passed_on = 0  # command requests handed to the FastAPI app
        api.state.short_path = self  # its counters, for /metrics

    @property
    def table(self) -> dict[tuple[str, str], ShortRoute]:
        if self._table is None:
            self._table = short_routes(self._route_source())
        return self._table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            key = route_key(scope["method"], scope["path"])
            route = self.table.get(key[:2]) if key is not None else None
            if route is not None and key is not None:
                return await self._serve(route, key[2], scope, receive, send)
        await self.api(scope, receive, send)

    async def _serve(
        self, route: ShortRoute, ids: tuple[str, ...], scope: Scope, receive: Receive, send: Send
    ) -> None:
        chunks: list[Message] = []
        arguments = self._arguments(route, ids, scope)
        if arguments is not None and route.body is not None:
            body = await self._read_body(scope, receive, chunks)
            if body is None:
                if chunks and chunks[-1]["type"] == "http.disconnect":
                    return  # the client left before sending its body
                arguments = None
            else:
                arguments = self._with_body(route, scope, body, arguments)
        if arguments is None:
            self.passed_on += 1
            await self.api(scope, _replaying(chunks, receive), send)
            return
        self.served += 1
        try:
            result = await route.endpoint(**arguments)
        except Exception as exc:
            try:
                problem = problem_of(exc)
            except TypeError:
                raise exc from None
            await problem_response(problem, scope["path"])(scope, receive, send)
            return
        await self._respond(route, arguments, result, send)

    def _arguments(
        self, route: ShortRoute, ids: tuple[str, ...], scope: Scope
    ) -> dict[str, Any] | None:
        """The endpoint's arguments but the body, or None to take the FastAPI path."""
        authorization = idempotency_key = if_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is not None:
                    return None
                authorization = value
            elif name == b"idempotency-key":
                if idempotency_key is not None:
                    return None
                idempotency_key = value
            elif name == b"if-match":
                if if_match is not None:
                    return None
                if_match = value
        try:
            key = (idempotency_key or b"").decode("ascii")
            match = (if_match or b"").decode("ascii")
            token = bearer_token(authorization.decode("latin-1") if authorization else None)
        except (UnicodeDecodeError, AuthError):
            return None
        if not _IDEMPOTENCY_KEY.fullmatch(key) or not _IF_MATCH.fullmatch(match):
            return None
        container: Container = self.api.state.container
        try:
            principal = container.tokens.verify(token)
        except AuthError:
            return None
        commander = Commander(scope["method"], scope["path"], principal, container, key, match)
        arguments: dict[str, Any] = dict(zip(route.ids, map(UUID, ids), strict=True))
        arguments[route.commander] = commander
        if route.sub_response is not None:  # as FastAPI's own: no length, no status yet
            sub = Response()
            del sub.headers["content-length"]
            sub.status_code = None  # type: ignore[assignment]
            arguments[route.sub_response] = sub
        return arguments

    @staticmethod
    async def _read_body(scope: Scope, receive: Receive, chunks: list[Message]) -> bytes | None:
        """The whole body (read into `chunks` too), or None when it is too large or the
        client disconnected; `chunks` then holds what was read, for replaying."""
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY):
                return None
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                return None
            size += len(message.get("body", b""))
            if size > MAX_BODY:
                return None
            if not message.get("more_body", False):
                return b"".join(chunk.get("body", b"") for chunk in chunks)

    @staticmethod
    def _with_body(
        route: ShortRoute, scope: Scope, body: bytes, arguments: dict[str, Any]
    ) -> dict[str, Any] | None:
        assert route.body is not None
        assert route.model is not None
        if not body:
            if not route.body_optional:
                return None
            arguments[route.body] = None
            return arguments
        content_types = [v for n, v in scope["headers"] if n == b"content-type"]
        if len(content_types) != 1 or content_types[0].lower() not in _JSON_TYPES:
            return None
        try:
            arguments[route.body] = route.model.model_validate(json.loads(body))
        except Exception:  # malformed JSON, too deep, invalid: FastAPI answers it
            return None
        return arguments

    @staticmethod
    async def _respond(
        route: ShortRoute, arguments: dict[str, Any], result: Any, send: Send
    ) -> None:
        if type(result) is not route.model_type:  # as FastAPI: validated into the model
            result = route.response.validate_python(result, from_attributes=True)
        content = route.response.dump_json(result, by_alias=True)
        status = route.status_code
        headers = [
            (b"content-length", str(len(content)).encode()),
            (b"content-type", b"application/json"),
        ]
        if route.sub_response is not None:
            sub: Response = arguments[route.sub_response]
            status = sub.status_code or status
            headers.extend((k, v) for k, v in sub.raw_headers if k != b"content-length")
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

"""The fast dispatcher: command requests served from the declared table, past FastAPI's
per-request machinery (routing over every route, dependency solving, response
re-validation).

Why: in `bench/http_commands.py` that machinery took about 60% of the server's CPU per
command and the command itself about 13% (py-spy, one `swarmdesk serve` process).

Contract:
- It reads the same table the routes are generated from (`app.service.commands`), so
  there is no second registry and nothing to introspect. It sits inside the edge
  (`app.edge`), so request ids, access logs, CORS and limits apply to it as to every
  other path.
- It takes a request only when it is sure the FastAPI app would reach the same command
  call: no `root_path`, path ids in canonical UUID form, a bearer token the verifier
  accepts (a request with the session cookie and no bearer token, which needs the
  cross-site check, goes to FastAPI), an `Idempotency-Key` and an `If-Match` that match
  their header patterns (each at most once), a query string the command's query model
  accepts (if it has one), and, where the command takes a body, `Content-Type:
  application/json` with a body of at most `MAX_BODY` bytes that parses (`json.loads`,
  as Starlette) and that the body model accepts. Anything else goes to the FastAPI app
  unchanged, the body replayed, so every 401 and 422 (and every other answer) still
  comes from one place.
- It calls `CommandRunner.run` exactly as the generated route does and answers the
  result model with the command's status (and `Location`); a listed error is answered
  with its problem (`app.http.problems.problem_of`); an unlisted one propagates (a 500).
- A command whose path an earlier route of the same method would match is left to the
  FastAPI app (checked once, at the first request, against the app's own routes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.auth.tokens import AuthError, Principal, bearer_token
from app.http.app import app_routes
from app.http.deps import services_of
from app.http.problems import problem_of, problem_response
from app.service.commands import COMMANDS, Command
from app.service.context import IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN

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


def route_key(method: str, path: str) -> tuple[str, str, tuple[str, ...]]:
    """`(method, shape, ids)`: the path with each canonical UUID segment as `*`."""
    segments = path.split("/")
    ids: list[str] = []
    for i, segment in enumerate(segments):
        if len(segment) == 36 and _UUID.fullmatch(segment):
            ids.append(segment)
            segments[i] = "*"
    return method, "/".join(segments), tuple(ids)


def dispatch_table(
    commands: tuple[Command, ...], routes: list[Any]
) -> dict[tuple[str, str], Command]:
    """The commands the dispatcher serves, by method and path shape: every command whose
    generated route no earlier route of the same method shadows."""
    table: dict[tuple[str, str], Command] = {}
    by_name = {c.name: c for c in commands}
    earlier: list[APIRoute] = []
    for route in routes:
        if not isinstance(route, APIRoute):
            if getattr(route, "path_regex", None) is None:
                break  # a mount or the like: what it matches is not known
            continue
        command = by_name.get(route.name)
        if command is not None and route.path == command.path:
            sample = re.sub(r"{\w+}", _SAMPLE_ID, command.path)
            shadowed = any(
                command.method in (other.methods or ()) and other.path_regex.match(sample)
                for other in earlier
            )
            if not shadowed:
                table.setdefault(route_key(command.method, sample)[:2], command)
        earlier.append(route)
    return table


def _replaying(chunks: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives back `chunks` first, then whatever `receive` gives."""
    pending = list(chunks)

    async def again() -> Message:
        return pending.pop(0) if pending else await receive()

    return again


class Dispatcher:
    """Wraps the FastAPI app: command requests it can serve are served from the table."""

    def __init__(self, api: FastAPI, commands: tuple[Command, ...] = COMMANDS) -> None:
        self.api = api
        self.commands = commands
        self.routes: list[Any] = app_routes(api)
        self._table: dict[tuple[str, str], Command] | None = None
        self.served = 0  # command requests answered here
        self.passed_on = 0  # command requests handed to the FastAPI app
        api.state.dispatcher = self  # its counters, for /metrics

    @property
    def table(self) -> dict[tuple[str, str], Command]:
        if self._table is None:
            self._table = dispatch_table(self.commands, self.routes)
        return self._table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            method, shape, ids = route_key(scope["method"], scope["path"])
            command = self.table.get((method, shape))
            if command is not None:
                return await self._serve(command, ids, scope, receive, send)
        await self.api(scope, receive, send)

    async def _serve(
        self, command: Command, ids: tuple[str, ...], scope: Scope, receive: Receive, send: Send
    ) -> None:
        chunks: list[Message] = []
        call = self._headers(scope)
        body: BaseModel | None = None
        if call is not None and command.query is not None:
            body = self._query(command.query, scope)
            if body is None:
                call = None
        if call is not None and command.body is not None:
            raw = await self._read_body(scope, receive, chunks)
            if raw is None:
                if chunks and chunks[-1]["type"] == "http.disconnect":
                    return  # the client left before sending its body
                call = None
            else:
                parsed = self._body(command, scope, raw)
                if isinstance(parsed, bool):
                    call = None
                else:
                    body = parsed
        if call is None:
            self.passed_on += 1
            await self.api(scope, _replaying(chunks, receive), send)
            return
        self.served += 1
        principal, key, match = call
        try:
            answer = await services_of(self.api).commands.run(
                command,
                principal,
                path=scope["path"],
                ids=dict(zip(command.id_names, map(UUID, ids), strict=True)),
                body=body,
                idempotency_key=key,
                if_match=match,
            )
        except Exception as exc:
            try:
                problem = problem_of(exc)
            except TypeError:
                raise exc from None
            await problem_response(problem, scope["path"])(scope, receive, send)
            return
        content = answer.result.__pydantic_serializer__.to_json(answer.result, by_alias=True)
        headers = [
            (b"content-length", str(len(content)).encode()),
            (b"content-type", b"application/json"),
        ]
        if answer.location is not None:
            headers.append((b"location", answer.location.encode()))
        await send(
            {"type": "http.response.start", "status": command.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": content})

    def _headers(self, scope: Scope) -> tuple[Principal, str, str] | None:
        """The caller, key and If-Match, or None to take the FastAPI path."""
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
        try:
            principal = services_of(self.api).verifier.verify(token)
        except AuthError:
            return None
        return principal, key, match

    @staticmethod
    def _query(model: type[BaseModel], scope: Scope) -> BaseModel | None:
        """The query model from the query string (last value wins, as FastAPI), or None."""
        try:
            text = scope.get("query_string", b"").decode("latin-1")
            values = dict(parse_qsl(text, keep_blank_values=True))
            wanted = {k: v for k, v in values.items() if k in model.model_fields}
            return model.model_validate(wanted)
        except Exception:  # FastAPI answers it
            return None

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
    def _body(command: Command, scope: Scope, raw: bytes) -> BaseModel | bool | None:
        """The body model, None for an optional body sent empty, False for the FastAPI path."""
        assert command.body is not None
        if not raw:
            return False if command.body_required else None
        content_types = [v for n, v in scope["headers"] if n == b"content-type"]
        if len(content_types) != 1 or content_types[0].lower() not in _JSON_TYPES:
            return False
        try:
            return command.body.model_validate(json.loads(raw))
        except Exception:  # malformed JSON, too deep, invalid: FastAPI answers it
            return False

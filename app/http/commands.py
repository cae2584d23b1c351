"""The command routes, generated from the declared table (`app.service.commands`).

Each `Command` becomes one FastAPI route (and so one OpenAPI operation, named by the
command): its path ids as UUID path parameters, its body model (required or optional)
or its query model's fields, the `Idempotency-Key` and `If-Match` headers, the bearer
token. The endpoint parses, makes one call to `CommandRunner.run` and responds; every
error is answered by the one table in `app.http.problems`.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, Query, Request, Response

from app.auth.tokens import Principal
from app.http.deps import PrincipalDep, ServicesDep
from app.http.problems import problem_responses
from app.service.commands import COMMANDS, Command
from app.service.context import IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Retry-safe key (1-200 visible ASCII characters), scoped to the "
        "caller: the same key and body answer the first result again and append "
        "nothing; the same key with another body is a 422.",
        examples=["3f1e9a0c-retry-1"],
    ),
]
IfMatch = Annotated[
    str,
    Header(
        alias="If-Match",
        pattern=IF_MATCH_PATTERN,
        description='The version the caller expects (`3`, `"3"` or `W/"3"`); '
        "another current version is a 412.",
        examples=['"3"'],
    ),
]


ANNOTATED: Any = Annotated  # built from the table at run time, not a static type
_CONSTRAINTS = ("min_length", "max_length", "ge", "gt", "le", "lt", "pattern")


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    """A query model field's constraints (annotated-types objects) as `Query` arguments."""
    out: dict[str, Any] = {}
    for item in metadata:
        for name in _CONSTRAINTS:
            value = getattr(item, name, None)
            if value is not None:
                out[name] = value
    return out


def _endpoint(command: Command) -> Any:
    """The route's endpoint for `command`, with a signature FastAPI reads."""
    ids = command.id_names

    async def endpoint(
        request: Request, response: Response, services: Any, principal: Principal, **kw: Any
    ) -> Any:
        body = kw.pop("body", None)
        key, match = kw.pop("idempotency_key"), kw.pop("if_match")
        if command.query is not None:
            body = command.query(**{name: kw.pop(name) for name in command.query.model_fields})
        answer = await services.commands.run(
            command,
            principal,
            path=request.url.path,
            ids={name: kw[name] for name in ids},
            body=body,
            idempotency_key=key,
            if_match=match,
        )
        if answer.location is not None:
            response.headers["Location"] = answer.location
        return answer.result

    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("response", keyword, annotation=Response),
        inspect.Parameter("services", keyword, annotation=ServicesDep),
        inspect.Parameter("principal", keyword, annotation=PrincipalDep),
    ]
    params += [inspect.Parameter(name, keyword, annotation=UUID) for name in ids]
    if command.body is not None:
        if command.body_required:
            params.append(inspect.Parameter("body", keyword, annotation=command.body))
        else:
            optional = ANNOTATED[(command.body | None, Body())]
            params.append(inspect.Parameter("body", keyword, annotation=optional, default=None))
    if command.query is not None:
        for name, field in command.query.model_fields.items():
            query = Query(description=field.description, **_constraints(field.metadata))
            annotated = ANNOTATED[(field.annotation, query)]
            params.append(
                inspect.Parameter(name, keyword, annotation=annotated, default=field.default)
            )
    params += [
        inspect.Parameter("idempotency_key", keyword, annotation=IdempotencyKey, default=""),
        inspect.Parameter("if_match", keyword, annotation=IfMatch, default=""),
    ]
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = command.name
    endpoint.__doc__ = command.summary
    return endpoint


#: Statuses a command can answer besides its success (agents have no case to miss).
CASE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 412, 422, 503)
AGENT_PROBLEMS = problem_responses(400, 401, 403, 409, 412, 422, 503)


def command_router(commands: tuple[Command, ...] = COMMANDS) -> APIRouter:
    """One route per declared command, in the table's order."""
    router = APIRouter()
    for command in commands:
        router.add_api_route(
            command.path,
            _endpoint(command),
            methods=[command.method],
            response_model=command.result,
            status_code=command.status_code,
            operation_id=command.name,
            name=command.name,
            summary=command.summary.split(" (`")[0],
            description=command.summary,
            tags=[command.tag],
            responses=AGENT_PROBLEMS if command.target == "agent" else CASE_PROBLEMS,
        )
    return router


def command_of(route_name: str) -> Command | None:
    return next((c for c in COMMANDS if c.name == route_name), None)

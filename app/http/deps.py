"""Request-scoped collaborators, declared once as `Annotated` aliases for thin routes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.tokens import Principal, bearer_token
from app.bootstrap import Services
from app.service.errors import NotPermitted
from app.telemetry import logs
from domain.actors import Role

#: Documents bearer auth in OpenAPI only; `get_principal` does the real check (401).
BEARER = HTTPBearer(auto_error=False, description="`swarmdesk token SUBJECT --role ROLE`")


def services_of(app: Any) -> Services:
    """The services the lifespan built (`app.state.services`)."""
    services: Services = app.state.services
    return services


# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a
# worker thread, which cost a thread hand-off on every request (measured: about a fifth of
# the server's CPU per command in bench/http_commands.py).
async def get_services(request: Request) -> Services:
    return services_of(request.app)


async def get_principal(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    principal = services_of(request.app).tokens.verify(token)
    logs.bind(principal_id=principal.subject)
    return principal


def websocket_principal(websocket: WebSocket) -> Principal:
    """Authenticate a WebSocket (header or `?access_token=`); raises `AuthError`."""
    token = bearer_token(
        websocket.headers.get("authorization"), websocket.query_params.get("access_token")
    )
    return services_of(websocket.app).tokens.verify(token)


def require_role(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting only principals with one of `roles` (else 403)."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise NotPermitted(f"this needs one of the roles: {allowed}", role=principal.role)
        return principal

    return check


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ServicePrincipal = Annotated[Principal, Depends(require_role(Role.SERVICE, Role.ADMIN))]

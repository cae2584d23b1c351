"""Request-scoped collaborators, declared once as `Annotated` aliases for thin routes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.tokens import Principal
from app.bootstrap import Services
from app.service.errors import NotPermitted
from app.telemetry import logs
from domain.actors import Role

#: Documents bearer auth in OpenAPI only; `get_principal` does the real check (401).
BEARER = HTTPBearer(
    auto_error=False,
    description="`swarmdesk token SUBJECT --role ROLE`, or the OpenID provider's access "
    "token; browsers use the session cookie instead (`/auth/login`)",
)


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
    """The caller: bearer token or session cookie (`app.auth.callers`)."""
    callers = services_of(request.app).callers
    principal = await callers.principal(
        request.scope["headers"], scheme=request.url.scheme, method=request.method
    )
    logs.bind(principal_id=principal.subject)
    return principal


async def websocket_principal(websocket: WebSocket) -> Principal:
    """Authenticate a WebSocket: the `Authorization` header or the session cookie from
    one of our origins, never a token in the URL; raises `AuthError`/`CrossSiteRefused`."""
    callers = services_of(websocket.app).callers
    return await callers.principal(
        websocket.scope["headers"], scheme=websocket.url.scheme, method="WEBSOCKET"
    )


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

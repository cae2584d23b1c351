"""Request-scoped collaborators, declared once as `Annotated` aliases for thin routes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket

from app.auth import AuthError, Principal
from app.composition import Container
from app.problems import FORBIDDEN, Problem
from domain.actors import Role


# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a
# worker thread, which cost a thread hand-off on every request (measured: about a fifth of
# the server's CPU per command in bench/http_commands.py).
async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def bearer_token(authorization: str | None, query_token: str | None = None) -> str:
    """The token of an `Authorization: Bearer` header, else of `?access_token=`."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("the Authorization header must be 'Bearer <token>'")
        return token.strip()
    if query_token:
        return query_token
    raise AuthError("missing bearer token")


async def get_principal(request: Request) -> Principal:
    container: Container = request.app.state.container
    token = bearer_token(request.headers.get("authorization"))
    return container.tokens.verify(token)


def websocket_principal(websocket: WebSocket) -> Principal:
    """Authenticate a WebSocket (header or `?access_token=`); raises `AuthError`."""
    container: Container = websocket.app.state.container
    token = bearer_token(
        websocket.headers.get("authorization"), websocket.query_params.get("access_token")
    )
    return container.tokens.verify(token)


def require_role(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting only principals with one of `roles` (else 403)."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Problem(FORBIDDEN, f"this needs one of the roles: {allowed}", role=principal.role)
        return principal

    return check


ContainerDep = Annotated[Container, Depends(get_container)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ServicePrincipal = Annotated[Principal, Depends(require_role(Role.SERVICE, Role.ADMIN))]

"""Browser sessions: sign-in with the OpenID provider or a login link, sign-out.

Every way in ends the same: an HttpOnly, `SameSite=Lax` session cookie and a redirect to
the console at `/` (`app/http/console.py`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.auth.callers import cookie_value
from app.auth.tokens import AuthError, Principal
from app.http.deps import ServicesDep
from app.http.problems import NOT_FOUND, Problem

router = APIRouter(tags=["sessions"])
PENDING_COOKIE = "swarmdesk_login"


def _base(request: Request, services: ServicesDep) -> str:
    configured = services.settings.sessions.public_url.rstrip("/")
    return configured or str(request.base_url).rstrip("/")


def _secure(request: Request, services: ServicesDep) -> bool:
    setting = services.settings.sessions.secure_cookie
    return setting if setting is not None else _base(request, services).startswith("https:")


async def _signed_in(request: Request, services: ServicesDep, principal: Principal) -> Response:
    """Open a session for `principal`: the cookie, and on to the console."""
    cookie = await services.sessions.open(principal)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        services.settings.sessions.cookie_name,
        cookie,
        max_age=services.settings.sessions.max_seconds,
        path="/",
        secure=_secure(request, services),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(PENDING_COOKIE, path="/auth")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/auth/login", status_code=302, responses={404: {"description": "no provider"}})
async def login(request: Request, services: ServicesDep) -> Response:
    """Sign in with the OpenID provider (authorization code with PKCE)."""
    if services.oidc_login is None:
        raise Problem(NOT_FOUND, "no identity provider is configured: use `swarmdesk login-link`")
    url, pending = services.oidc_login.start(_base(request, services) + "/auth/callback")
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        PENDING_COOKIE,
        pending,
        max_age=600,
        path="/auth",
        secure=_secure(request, services),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/auth/callback", status_code=303)
async def callback(
    request: Request,
    services: ServicesDep,
    code: Annotated[str, Query(max_length=2000)] = "",
    state: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """Where the provider sends the browser back: a session cookie, then the console."""
    if services.oidc_login is None:
        raise Problem(NOT_FOUND, "no identity provider is configured")
    pending = cookie_value(request.scope["headers"], PENDING_COOKIE)
    if not code or not state or pending is None:
        raise AuthError("the sign-in was not started here, or the provider refused it")
    redirect_uri = _base(request, services) + "/auth/callback"
    principal = await services.oidc_login.finish(code, state, pending, redirect_uri)
    return await _signed_in(request, services, principal)


@router.get("/auth/link", status_code=303)
async def login_link(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, Query(max_length=4000)] = "",
) -> Response:
    """Open a login link (`swarmdesk login-link`): works once, within its short life."""
    principal = await services.login_links.redeem(token)
    return await _signed_in(request, services, principal)


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, services: ServicesDep) -> Response:
    """End this browser's session (from one of our origins only)."""
    headers = list(request.scope["headers"])
    name = services.settings.sessions.cookie_name
    cookie = cookie_value(headers, name)
    if cookie is not None:
        services.callers.check_origin(headers, request.url.scheme)
        await services.sessions.end(cookie)
    response = Response(status_code=204)
    response.delete_cookie(name, path="/", secure=_secure(request, services), httponly=True)
    return response

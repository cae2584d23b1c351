"""Who is calling, from a request's headers: a bearer token (services, scripts) or the
session cookie (browsers), and the cross-site check for the cookie.

Contract of `Callers.principal`:
- `Authorization: Bearer` wins; the verifier decides (`AuthError` when it refuses).
- Else the session cookie; a request it authenticates that can change something (any
  method but GET, HEAD, OPTIONS) and every WebSocket must come from one of our origins:
  its `Origin` is the request's own (`scheme://Host`) or a configured trusted one, else
  `CrossSiteRefused` (403). Browsers always send `Origin` with such requests; without
  one, a cookie is not enough. The cookie is also `SameSite=Lax`, so most browsers do not
  send it cross-site at all: this check is the second, independent guard.
- Neither: `AuthError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.auth.sessions import SessionStore
from app.auth.tokens import AuthError, Principal, Verifier, bearer_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Headers = Iterable[tuple[bytes, bytes]]


class CrossSiteRefused(Exception):
    """A cookie-authenticated request from an origin that is not ours."""


def cookie_value(headers: Headers, name: str) -> str | None:
    """The value of cookie `name` in the request's `Cookie` headers, None if absent."""
    wanted = name.encode()
    for header, value in headers:
        if header != b"cookie":
            continue
        for part in value.split(b";"):
            key, sep, found = part.strip().partition(b"=")
            if sep and key == wanted and found:
                return found.decode("latin-1")
    return None


@dataclass(frozen=True, slots=True)
class Callers:
    verifier: Verifier
    sessions: SessionStore
    cookie_name: str
    trusted_origins: frozenset[str]

    async def principal(self, headers: Headers, *, scheme: str, method: str) -> Principal:
        """The caller (see the module docstring); `method` is "WEBSOCKET" for sockets."""
        listed = list(headers)
        authorization = [v for n, v in listed if n == b"authorization"]
        if authorization:
            if len(authorization) > 1:
                raise AuthError("more than one Authorization header")
            return self.verifier.verify(bearer_token(authorization[0].decode("latin-1")))
        cookie = cookie_value(listed, self.cookie_name)
        if cookie is None:
            raise AuthError("missing bearer token or session cookie")
        if method not in SAFE_METHODS:
            self.check_origin(listed, scheme)
        return await self.sessions.principal(cookie)

    def check_origin(self, headers: list[tuple[bytes, bytes]], scheme: str) -> None:
        origins = [v.decode("latin-1") for n, v in headers if n == b"origin"]
        hosts = [v.decode("latin-1") for n, v in headers if n == b"host"]
        if len(origins) != 1:
            raise CrossSiteRefused("a request with the session cookie must name its Origin")
        web = {"ws": "http", "wss": "https"}.get(scheme, scheme)
        own = {f"{web}://{host}" for host in hosts[:1]}
        if origins[0] not in own and origins[0] not in self.trusted_origins:
            raise CrossSiteRefused(f"the session cookie is not accepted from {origins[0]}")

"""Bearer tokens from an OpenID provider: `OIDCVerifier`, and `Verifiers`, which sends
each token to the verifier of its algorithm (the local HS256 one or the provider's).

Contract of `OIDCVerifier.verify` (PyJWT does every signature check; nothing here is
cryptography):
- the signature, by a key of the provider's JWKS named by the token's `kid`, with an
  algorithm of `settings.algorithms` (asymmetric only: `none` and HS* never pass, so a
  token "signed" with the provider's public key as an HMAC secret is refused);
- `iss` equal to the issuer, `aud` containing the audience, `exp`, `iat` and `sub`
  present, `exp`/`nbf`/`iat` checked with `leeway_seconds`;
- a role: the values of `roles_claim` (a dotted path such as `realm_access.roles`; a
  string or a list), mapped through `role_map` (or taken as our role names when no map is
  configured); the highest-ranked one wins; none: refused.
- The JWKS is fetched at start and kept; a token naming an unknown `kid` fetches it again
  (the provider rotated its keys), at most once per `jwks_refetch_seconds`, so forged
  kids cannot make us hammer the provider. A token already verified is answered from a
  bounded cache until it expires (its signature cannot change).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

import jwt

from app.auth.tokens import VERIFIED_CACHE_SIZE, AuthError, Principal, TokenIssuer
from app.settings import OIDCSettings, comma_list
from domain.actors import Role

#: When several of a token's roles map, the first of these wins.
ROLE_RANK = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.SERVICE)
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"})


def fetch_json(url: str, timeout: float) -> dict[str, Any]:
    """GET a JSON document (the provider's discovery document or JWKS)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        document: dict[str, Any] = json.loads(response.read())
    return document


def discover(settings: OIDCSettings) -> dict[str, Any]:
    """The provider's discovery document; its `issuer` must be the configured one."""
    url = settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = fetch_json(url, settings.http_timeout_seconds)
    if document.get("issuer") != settings.issuer:
        raise ValueError(f"the discovery document names issuer {document.get('issuer')!r}")
    return document


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The claim at a dotted path (`realm_access.roles`), None when absent."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class OIDCVerifier:
    """Verifies the provider's JWTs (see the module docstring)."""

    def __init__(self, settings: OIDCSettings, discovery: dict[str, Any]) -> None:
        self.settings = settings
        self.jwks_uri = str(discovery["jwks_uri"])
        self.algorithms = [a for a in comma_list(settings.algorithms) if a in ASYMMETRIC]
        if not self.algorithms:
            raise ValueError("SWARMDESK_OIDC_ALGORITHMS names no asymmetric algorithm")
        self.role_map = settings.roles()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self._verified: dict[str, tuple[Principal, float]] = {}
        self.fetches = 0  # JWKS fetches so far (tests and metrics)

    def refresh(self) -> None:
        """Fetch the JWKS now (start-up; later only for an unknown kid)."""
        with self._lock:
            document = fetch_json(self.jwks_uri, self.settings.http_timeout_seconds)
            keys = jwt.PyJWKSet.from_dict(document).keys
            self._keys = {str(k.key_id): k for k in keys if k.key_id and k.public_key_use != "enc"}
            self._fetched_at = time.monotonic()
            self.fetches += 1

    def key_for(self, kid: str) -> jwt.PyJWK:
        """The provider's key `kid` (refetching the JWKS, rate-limited); `AuthError`."""
        key = self._keys.get(kid)
        if key is not None:
            return key
        if time.monotonic() - self._fetched_at >= self.settings.jwks_refetch_seconds:
            try:
                self.refresh()
            except (OSError, ValueError, jwt.PyJWKError) as exc:
                raise AuthError("the provider's keys cannot be fetched") from exc
            key = self._keys.get(kid)
        if key is None:
            raise AuthError("invalid token: unknown signing key")
        return key

    def cached(self, token: str) -> Principal | None:
        """The principal of a token verified before and not expired since, else None."""
        found = self._verified.get(token)
        if found is None or time.time() >= found[1] + self.settings.leeway_seconds:
            return None
        return found[0]

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() < expires + self.settings.leeway_seconds:
                return principal
            del self._verified[token]
            raise AuthError("the token has expired")
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms:
            raise AuthError(f"invalid token: algorithm {alg!r} not accepted")
        if not isinstance(kid, str):
            raise AuthError("invalid token: no kid")
        key = self.key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=self.algorithms,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        return self.principal(claims), float(claims["exp"])

    def principal(self, claims: dict[str, Any]) -> Principal:
        """The principal of verified claims (subject, display name, mapped role)."""
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 200:
            raise AuthError("invalid token: bad subject")
        role = self.role(claims)
        name = claim_at(claims, self.settings.name_claim)
        shown = name if isinstance(name, str) and name.strip() else subject
        return Principal(subject, shown.strip()[:200], role)

    def role(self, claims: dict[str, Any]) -> Role:
        raw = claim_at(claims, self.settings.roles_claim)
        values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        ours: set[Role] = set()
        for value in values:
            if not isinstance(value, str):
                continue
            name = self.role_map.get(value) if self.role_map else value
            if name is not None and name in Role._value2member_map_:
                ours.add(Role(name))
        for role in ROLE_RANK:
            if role in ours:
                return role
        raise AuthError(f"the token has no role we know in {self.settings.roles_claim!r}")


class Verifiers:
    """Local HS256 tokens (`swarmdesk token`, `local`) and the provider's (`oidc`), by
    the token's `alg`: one verifier never sees the other's tokens. A token either has
    verified before is answered from its cache first: reading the header alone costs
    10-30 us, several percent of a command (`bench/http_commands.py --oidc`)."""

    def __init__(self, local: TokenIssuer, oidc: OIDCVerifier) -> None:
        self.local = local
        self.oidc = oidc

    def verify(self, token: str) -> Principal:
        known = self.oidc.cached(token) or self.local.cached(token)
        if known is not None:
            return known
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        return (self.local if alg == "HS256" else self.oidc).verify(token)

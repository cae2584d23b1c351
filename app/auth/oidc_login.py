"""Browser sign-in with the OpenID provider: the service is the client (authorization
code with PKCE, S256) and keeps the provider's tokens to itself; the browser only ever
gets our session cookie ("backend for frontend").

Contract:
- `start(redirect_uri)` gives the provider's authorization URL and a `pending` value for
  a short-lived cookie: state, nonce and the PKCE verifier, signed (HS256 with a key
  derived from the service secret, PyJWT) so the callback can trust them without storage.
- `finish(code, state, pending, redirect_uri)` checks the state against the pending
  cookie, redeems the code at the token endpoint (client secret, the PKCE verifier),
  verifies the ID token (the provider's keys, `iss`, `aud` = our client id, the nonce)
  and answers its principal; the role comes from the ID token, else from the access
  token when that is a JWT for our audience. Any failure: `AuthError`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
import urllib.parse
import urllib.request
from typing import Any

import jwt

from app.auth.oidc import OIDCVerifier
from app.auth.tokens import AuthError, Principal
from app.settings import OIDCSettings

PENDING_SECONDS = 600
PENDING_TYPE = "oidc-login"


class OIDCLogin:
    def __init__(
        self,
        settings: OIDCSettings,
        discovery: dict[str, Any],
        verifier: OIDCVerifier,
        secret: str,
    ) -> None:
        if not settings.client_id:
            raise ValueError("SWARMDESK_OIDC_CLIENT_ID is needed for browser sign-in")
        self.settings = settings
        self.authorization_endpoint = str(discovery["authorization_endpoint"])
        self.token_endpoint = str(discovery["token_endpoint"])
        self.end_session_endpoint = discovery.get("end_session_endpoint")
        self.verifier = verifier
        self._key = hashlib.sha256(f"{PENDING_TYPE}:{secret}".encode()).hexdigest()

    def start(self, redirect_uri: str) -> tuple[str, str]:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if self.settings.audience:
            query["resource"] = self.settings.audience
        pending = jwt.encode(
            {
                "typ": PENDING_TYPE,
                "state": state,
                "nonce": nonce,
                "verifier": verifier,
                "exp": int(time.time()) + PENDING_SECONDS,
            },
            self._key,
            algorithm="HS256",
        )
        url = self.authorization_endpoint + "?" + urllib.parse.urlencode(query)
        return url, pending

    async def finish(self, code: str, state: str, pending: str, redirect_uri: str) -> Principal:
        try:
            expected = jwt.decode(pending, self._key, algorithms=["HS256"])
        except jwt.InvalidTokenError as exc:
            raise AuthError("the sign-in expired or was not started here") from exc
        if expected.get("typ") != PENDING_TYPE or not secrets.compare_digest(
            str(expected.get("state")), state
        ):
            raise AuthError("the sign-in's state does not match")
        tokens = await asyncio.to_thread(
            self._redeem, code, str(expected["verifier"]), redirect_uri
        )
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise AuthError("the provider answered no ID token")
        claims = self._id_claims(id_token, str(expected["nonce"]))
        try:
            return self.verifier.principal(claims)
        except AuthError:
            access = tokens.get("access_token")
            if isinstance(access, str) and access.count(".") == 2:
                return self.verifier.verify(access)
            raise

    def _redeem(self, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        if self.settings.audience:
            form["resource"] = self.settings.audience
        secret = self.settings.client_secret.get_secret_value()
        basic = base64.b64encode(
            f"{urllib.parse.quote(self.settings.client_id)}:{urllib.parse.quote(secret)}".encode()
        ).decode()
        request = urllib.request.Request(
            self.token_endpoint,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            timeout = self.settings.http_timeout_seconds
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer: dict[str, Any] = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise AuthError("the provider refused the sign-in code") from exc
        return answer

    def _id_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            if header.get("alg") not in self.verifier.algorithms:
                raise AuthError("the ID token's algorithm is not accepted")
            key = self.verifier.key_for(str(header.get("kid")))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=self.verifier.algorithms,
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid ID token: {exc}") from exc
        if not secrets.compare_digest(str(claims.get("nonce")), nonce):
            raise AuthError("the ID token's nonce does not match")
        return claims

"""A real OpenID provider for the tests: `oidc-provider` (npm) under node, on a free port.

`scripts/test.sh` installs it (`npm ci --prefix tests/oidc`); `Provider.start()` runs
`tests/oidc/provider.mjs`. Tokens come from the provider's own endpoints (authorization
code with PKCE, as a public client `tests`); `rotate()` restarts it with a new signing
key first (the old keys stay published, as a provider announces a rotation). Crafted
tokens for the refusal tests are signed with the provider's own private keys, read from
its key file (`sign`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import httpx
import jwt

from tests.e2e.server import free_port
from tests.support import IN_CI

HERE = Path(__file__).resolve().parent / "oidc"
AUDIENCE = "https://swarmdesk.test/api"
CLIENT_SECRET = "swarmdesk-test-client-secret-0123456789"
#: The roles claim and mapping the OIDC servers of the tests are configured with.
ROLES_CLAIM = "realm_access.roles"
ROLE_MAP = "swarm-admins=admin,swarm-agents=agent,swarm-supervisors=supervisor"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Provider:
    """The running provider; `issuer` is its URL."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def keys_file(self) -> Path:
        return self.workdir / "keys.json"

    @property
    def log_path(self) -> Path:
        return self.workdir / "provider.log"

    def start(self, rotate: bool = False) -> None:
        node = shutil.which("node")
        if node is None or not (HERE / "node_modules" / "oidc-provider").exists():
            raise RuntimeError("run `npm ci --prefix tests/oidc` (scripts/test.sh does) first")
        env = {
            "PATH": str(Path(node).parent),
            "PORT": str(self.port),
            "ISSUER": self.issuer,
            "AUDIENCE": AUDIENCE,
            "CLIENT_SECRET": CLIENT_SECRET,
            "KEYS_FILE": str(self.keys_file),
            "ROTATE": "1" if rotate else "0",
            "NODE_ENV": "test",
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [node, str(HERE / "provider.mjs")],
                cwd=HERE,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the provider exited:\n{self.log_path.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                url = f"{self.issuer}/.well-known/openid-configuration"
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the provider is not up in 20 s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def rotate(self) -> str:
        """Restart with a new signing key first; its kid."""
        self.stop()
        self.start(rotate=True)
        return self.signing_kid()

    def private_keys(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = json.loads(self.keys_file.read_text())["keys"]
        return keys

    def signing_kid(self) -> str:
        return str(self.private_keys()[0]["kid"])  # the first key signs

    def public_jwks(self) -> dict[str, Any]:
        response = httpx.get(f"{self.issuer}/jwks", timeout=5)
        response.raise_for_status()
        jwks: dict[str, Any] = response.json()
        return jwks

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, alg: str = "RS256") -> str:
        """`claims` signed with the provider's current private key of `alg` (or `kid`'s)."""
        keys = self.private_keys()
        key = next(k for k in keys if (kid is None and k["alg"] == alg) or k["kid"] == kid)
        private = jwt.PyJWK(key).key
        return jwt.encode(claims, private, algorithm=key["alg"], headers={"kid": key["kid"]})

    def claims(self, sub: str, roles: list[str], **extra: Any) -> dict[str, Any]:
        """Claims as the provider issues them (for crafted tokens)."""
        now = int(time.time())
        base = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": sub,
            "name": sub.title(),
            "iat": now,
            "exp": now + 600,
            "realm_access": {"roles": roles},
        }
        return base | extra

    def login(self, client: httpx.Client, authorize_url: str, sub: str, **account: str) -> str:
        """Follow an authorization request through the provider, signing in as `sub`
        (`name`, `roles` as comma-separated list); the redirect back to the client."""
        response = client.get(authorize_url)
        for _ in range(10):
            if not response.is_redirect:
                break
            location = urljoin(str(response.url), response.headers["location"])
            if urlparse(location).netloc != urlparse(self.issuer).netloc:
                return location
            if urlparse(location).path.startswith("/interaction/"):
                location += "?" + urlencode({"login": sub, **account})
            response = client.get(location)
        raise AssertionError(f"the provider answered {response.status_code}: {response.text}")

    def access_token(self, sub: str, roles: str = "swarm-agents", name: str = "") -> str:
        """An access token (JWT for AUDIENCE) from the provider's own code flow + PKCE."""
        verifier, challenge = pkce_pair()
        redirect = "http://127.0.0.1/cb"
        query = urlencode(
            {
                "client_id": "tests",
                "response_type": "code",
                "redirect_uri": redirect,
                "scope": "openid profile api",
                "resource": AUDIENCE,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": secrets.token_urlsafe(8),
            }
        )
        with httpx.Client(timeout=10) as client:
            back = self.login(
                client, f"{self.issuer}/auth?{query}", sub, name=name or sub, roles=roles
            )
            code = parse_qs(urlparse(back).query)["code"][0]
            response = client.post(
                f"{self.issuer}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect,
                    "client_id": "tests",
                    "code_verifier": verifier,
                    "resource": AUDIENCE,
                },
            )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


@contextlib.contextmanager
def running_provider(workdir: Path) -> Iterator[Provider]:
    provider = Provider(workdir, free_port())
    try:
        provider.start()
    except RuntimeError:
        if IN_CI:
            raise
        import pytest

        pytest.skip("the test OpenID provider is not installed (npm ci --prefix tests/oidc)")
    try:
        yield provider
    finally:
        provider.stop()

"""Identity against a real OpenID provider (oidc-provider under node, `tests/oidc`):
bearer tokens it issues, refusals, key rotation, browser sign-in (authorization code with
PKCE) to a session cookie, login links, the cross-site check, and no credential in the
server's output. Each runs on SQLite and PostgreSQL (sessions and links are stored)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt
import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from websockets.exceptions import ConnectionClosed

from app.auth.oidc import OIDCVerifier, discover
from app.auth.tokens import AuthError
from app.settings import OIDCSettings
from tests.e2e.server import Server
from tests.oidc_provider import AUDIENCE, ROLE_MAP, ROLES_CLAIM, Provider

OPEN = {"customer": "ACME", "subject": "Checkout fails"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def open_case(server: Server, headers: dict[str, str]) -> httpx.Response:
    key = uuid.uuid4().hex
    return httpx.post(
        f"{server.base_url}/api/cases",
        json=OPEN,
        headers={**headers, "Idempotency-Key": key},
        timeout=10,
    )


def test_provider_tokens_are_accepted_and_a_uuid_subject_is_the_agent_id(
    oidc_server: Server, oidc_provider: Provider
) -> None:
    subject = str(uuid.uuid4())
    token = oidc_provider.access_token(subject, "swarm-agents", name="Kim Lee")
    opened = open_case(oidc_server, bearer(token))  # the fast dispatcher's path
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    view = httpx.get(
        f"{oidc_server.base_url}/api/cases/{case_id}?min_position={opened.json()['position']}",
        headers=bearer(token),
        timeout=10,
    )
    assert view.status_code == 200, view.text
    assert view.json()["owner"] == {"id": subject, "name": "Kim Lee"}
    put = httpx.put(
        f"{oidc_server.base_url}/api/agents/me",
        json={"skills": {"saml": 4}},
        headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex},
        timeout=10,
    )
    assert put.status_code == 200, put.text
    position, cursor = put.json()["position"], subject[:-1]  # agents are paged by id
    agents = httpx.get(
        f"{oidc_server.base_url}/api/agents?min_position={position}&limit=1&cursor={cursor}",
        headers=bearer(token),
        timeout=10,
    ).json()["items"]
    assert [(a["agent_id"], a["subject"], a["name"]) for a in agents] == [
        (subject, subject, "Kim Lee")
    ]
    # the role comes from realm_access.roles through the map: swarm-admins -> admin
    admin = oidc_provider.access_token("root-" + uuid.uuid4().hex[:8], "swarm-admins")
    stream = httpx.get(f"{oidc_server.base_url}/api/events?limit=1", headers=bearer(admin))
    assert stream.status_code == 200, stream.text
    agent = httpx.get(f"{oidc_server.base_url}/api/events?limit=1", headers=bearer(token))
    assert agent.status_code == 403


def _hs256_with_public_key(provider: Provider, claims: dict[str, Any]) -> str:
    """The classic confusion attack: an HMAC "signed" with the provider's public key."""
    key = provider.public_jwks()["keys"][0]
    public = jwt.PyJWK(key).key
    assert isinstance(public, rsa.RSAPublicKey)
    public_pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key["kid"]}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def _refused_token(provider: Provider, case: str) -> str:
    now = int(time.time())
    good = provider.claims("eve-" + uuid.uuid4().hex[:6], ["swarm-agents"])
    if case == "expired":
        return provider.sign(good | {"iat": now - 900, "exp": now - 120})
    if case == "not yet valid":
        return provider.sign(good | {"nbf": now + 120})
    if case == "wrong issuer":
        return provider.sign(good | {"iss": "http://127.0.0.1:1/other"})
    if case == "wrong audience":
        return provider.sign(good | {"aud": "https://elsewhere.test/api"})
    if case == "no mapped role":
        return provider.sign(good | {"realm_access": {"roles": ["admin", "offline_access"]}})
    if case == "no role claim":
        return provider.sign({k: v for k, v in good.items() if k != "realm_access"})
    if case == "alg none":
        header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{header}.{b64(json.dumps(good).encode())}."
    if case == "HS256 with the public key":
        return _hs256_with_public_key(provider, good)
    if case == "unknown kid":
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(good, stranger, algorithm="RS256", headers={"kid": "not-published"})
    if case == "good":
        return provider.sign(good)
    if case == "good ES256":
        return provider.sign(good, alg="ES256")
    raise AssertionError(case)


REFUSED = [
    "expired",
    "not yet valid",
    "wrong issuer",
    "wrong audience",
    "no mapped role",
    "no role claim",
    "alg none",
    "HS256 with the public key",
    "unknown kid",
]


@pytest.mark.parametrize("case", [*REFUSED, "good", "good ES256"])
def test_refused_tokens(oidc_server: Server, oidc_provider: Provider, case: str) -> None:
    token = _refused_token(oidc_provider, case)
    command = open_case(oidc_server, bearer(token))
    query = httpx.get(f"{oidc_server.base_url}/api/cases", headers=bearer(token), timeout=10)
    if case.startswith("good"):  # the same construction, untampered, passes
        assert (command.status_code, query.status_code) == (201, 200), command.text
        return
    assert (command.status_code, query.status_code) == (401, 401), (command.text, query.text)
    assert command.headers["content-type"] == "application/problem+json"


def test_key_rotation_without_restart(oidc_server: Server, oidc_provider: Provider) -> None:
    before = oidc_provider.access_token("rot-" + uuid.uuid4().hex[:8])
    assert open_case(oidc_server, bearer(before)).status_code == 201
    old_kid = jwt.get_unverified_header(before)["kid"]
    new_kid = oidc_provider.rotate()
    assert new_kid != old_kid
    after = oidc_provider.access_token("rot-" + uuid.uuid4().hex[:8])
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    time.sleep(1.1)  # SWARMDESK_OIDC_JWKS_REFETCH_SECONDS=1 for this server
    answered = open_case(oidc_server, bearer(after))
    assert answered.status_code == 201, answered.text
    assert open_case(oidc_server, bearer(before)).status_code == 201  # old key still listed


def _sign_in(server: Server, provider: Provider, client: httpx.Client, sub: str) -> str:
    """The browser's way in: /auth/login, the provider, /auth/callback; the cookie."""
    start = client.get(f"{server.base_url}/auth/login")
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(provider.issuer + "/auth?")
    assert "code_challenge_method=S256" in authorize
    back = provider.login(client, authorize, sub, name="Bo", roles="swarm-supervisors")
    assert urlparse(back).path == "/auth/callback"
    landed = client.get(back)
    assert landed.status_code == 303, landed.text
    assert landed.headers["location"] == "/"
    set_cookie = landed.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    cookie = client.cookies.get("swarmdesk_session")
    assert cookie
    return cookie


def test_browser_sign_in_to_a_session_cookie_then_sign_out(
    oidc_server: Server, oidc_provider: Provider
) -> None:
    base = oidc_server.base_url
    with httpx.Client(timeout=10) as client:
        cookie = _sign_in(oidc_server, oidc_provider, client, "bo-" + uuid.uuid4().hex[:8])
        # no provider token reached the browser: only our opaque cookie
        assert cookie.count(".") == 0
        assert client.get(f"{base}/").status_code == 200  # the console's place
        listed = client.get(f"{base}/api/cases?owner=me")
        assert listed.status_code == 200, listed.text
        same_site = client.post(f"{base}/api/cases", json=OPEN, headers={"Origin": base})
        assert same_site.status_code == 201, same_site.text
        other = client.post(
            f"{base}/api/cases", json=OPEN, headers={"Origin": "https://evil.example"}
        )
        assert other.status_code == 403, other.text
        assert other.json()["type"].endswith("cross-site-request")
        no_origin = client.post(f"{base}/api/cases", json=OPEN)
        assert no_origin.status_code == 403
        out = client.post(f"{base}/auth/logout", headers={"Origin": base})
        assert out.status_code == 204
    after = httpx.get(
        f"{base}/api/cases?owner=me", cookies={"swarmdesk_session": cookie}, timeout=10
    )
    assert after.status_code == 401


def test_a_session_cookie_opens_sockets_from_our_origin_only(
    oidc_server: Server, oidc_provider: Provider
) -> None:
    with httpx.Client(timeout=10) as client:
        cookie = _sign_in(oidc_server, oidc_provider, client, "ws-" + uuid.uuid4().hex[:8])

    async def first(origin: str) -> str | int:
        headers = {"Cookie": f"swarmdesk_session={cookie}", "Origin": origin}
        url = f"{oidc_server.ws_url}/ws/inbox"
        async with websockets.connect(url, additional_headers=headers) as ws:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd is not None else 0
            return str(message["type"])

    assert asyncio.run(first(oidc_server.base_url)) == "snapshot"
    assert asyncio.run(first("https://evil.example")) == 4403


def login_link(server: Server, subject: str, ttl: int | None = None) -> str:
    env = dict(server.env)
    if ttl is not None:
        env["SWARMDESK_SESSIONS_LOGIN_LINK_SECONDS"] = str(ttl)
    printed = subprocess.run(
        [str(Path(sys.executable).parent / "swarmdesk"), "login-link", subject, "--role", "agent"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parsed = urlparse(printed)
    assert parsed.path == "/auth/link"
    return f"{server.base_url}{parsed.path}?{parsed.query}"


def test_login_links_work_once_expire_and_end_with_sign_out(oidc_server: Server) -> None:
    link = login_link(oidc_server, "lin-" + uuid.uuid4().hex[:8])
    with httpx.Client(timeout=10) as client:
        opened = client.get(link)
        assert opened.status_code == 303, opened.text
        assert opened.headers["location"] == "/"
        cookie = client.cookies["swarmdesk_session"]
        assert client.get(f"{oidc_server.base_url}/api/me/inbox").status_code == 200
        base = oidc_server.base_url
        assert client.post(f"{base}/auth/logout", headers={"Origin": base}).status_code == 204
    again = httpx.get(link, timeout=10)
    assert again.status_code == 401  # once only
    ended = httpx.get(
        f"{oidc_server.base_url}/api/me/inbox", cookies={"swarmdesk_session": cookie}, timeout=10
    )
    assert ended.status_code == 401  # signed out
    short = login_link(oidc_server, "lin-" + uuid.uuid4().hex[:8], ttl=1)
    time.sleep(2.1)
    assert httpx.get(short, timeout=10).status_code == 401  # expired


def test_no_credential_in_the_servers_output(oidc_server: Server, oidc_provider: Provider) -> None:
    used = [
        oidc_provider.access_token("log-" + uuid.uuid4().hex[:8]),
        oidc_server.token("log-local"),
        _refused_token(oidc_provider, "expired"),
    ]
    for token in used:
        open_case(oidc_server, bearer(token))
        httpx.get(f"{oidc_server.base_url}/api/cases?access_token={token}", timeout=10)

    async def socket(token: str) -> None:
        url = f"{oidc_server.ws_url}/ws/inbox?access_token={token}"
        async with websockets.connect(url) as ws:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)

    for token in used:
        asyncio.run(socket(token))
    link = login_link(oidc_server, "log-link")
    used.append(urlparse(link).query.removeprefix("token="))
    with httpx.Client(timeout=10) as client:
        client.get(link)
        used.append(client.cookies["swarmdesk_session"])
        client.get(f"{oidc_server.base_url}/api/me/inbox")
    time.sleep(0.3)  # let the access log reach the file
    output = oidc_server.log()
    assert "GET /api/me/inbox 200" in output  # the access log is on: the test can fail
    for credential in used:
        assert credential not in output
        assert credential.split(".")[-1] not in output  # not even a signature
    assert AUDIENCE  # the provider's tokens were for our audience


@pytest.mark.parametrize(("interval", "fetches"), [(60.0, 1), (0.0, 6)])
def test_unknown_kids_refetch_the_keys_at_most_once_per_interval(
    oidc_provider: Provider, interval: float, fetches: int
) -> None:
    settings = OIDCSettings(
        issuer=oidc_provider.issuer,
        audience=AUDIENCE,
        roles_claim=ROLES_CLAIM,
        role_map=ROLE_MAP,
        jwks_refetch_seconds=interval,
    )
    verifier = OIDCVerifier(settings, discover(settings))
    verifier.refresh()
    good = oidc_provider.access_token("kid-" + uuid.uuid4().hex[:6])
    assert verifier.verify(good).role.value == "agent"
    for _ in range(5):
        with pytest.raises(AuthError, match="unknown signing key"):
            verifier.verify(_refused_token(oidc_provider, "unknown kid"))
    assert verifier.fetches == fetches

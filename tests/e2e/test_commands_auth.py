"""Authentication of commands: missing, malformed, expired, forged or role-less tokens
are 401 problem+json with `WWW-Authenticate: Bearer`, and append nothing."""

from __future__ import annotations

import time

import jwt
import pytest

from app.auth.tokens import TokenIssuer
from tests.e2e.commands_support import api_for, assert_problem, unique
from tests.e2e.server import SECRET, Server


def _claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "mallory", "name": "M", "role": "agent", "iat": now, "exp": now + 600} | extra


BAD_AUTHORIZATION = {
    "missing": None,
    "bearer-only": "Bearer",
    "basic-scheme": "Basic bWFsbG9yeTpwdw==",
    "not-a-jwt": "Bearer not.a.jwt",
    "garbage": "Bearer " + "x" * 300,
    "expired": "Bearer " + TokenIssuer(SECRET).issue("mallory", "agent", ttl=-30),
    "forged": "Bearer " + TokenIssuer("another-secret-of-sufficient-length").issue("m", "admin"),
    "alg-none": "Bearer " + jwt.encode(_claims(), key="", algorithm="none"),
    "no-exp": "Bearer "
    + jwt.encode({k: v for k, v in _claims().items() if k != "exp"}, SECRET, algorithm="HS256"),
    "unknown-role": "Bearer " + jwt.encode(_claims(role="root"), SECRET, algorithm="HS256"),
    "no-subject": "Bearer "
    + jwt.encode({k: v for k, v in _claims().items() if k != "sub"}, SECRET, algorithm="HS256"),
}


@pytest.mark.parametrize("kind", list(BAD_AUTHORIZATION))
def test_bad_tokens_are_401(server: Server, kind: str) -> None:
    value = BAD_AUTHORIZATION[kind]
    headers = {} if value is None else {"Authorization": value}
    with api_for(server) as api:
        case = api.open_case(unique("owner"))
        before = api.position()
        for method, path, body in (
            ("POST", "/api/cases", {"customer": "c", "subject": "s"}),
            ("POST", f"/api/cases/{case}/context", {"kind": "symptom", "text": "t"}),
            ("PUT", "/api/agents/me", {"capacity": 1}),
        ):
            response = api.http.request(method, path, json=body, headers=headers)
            assert_problem(response, 401, "not-authenticated")
            assert response.headers["www-authenticate"] == "Bearer"
        assert api.position() == before

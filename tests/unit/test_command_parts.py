"""Unit checks of the command side's small parts: If-Match parsing, scoped keys and
derived ids, the aggregate cache, the verified-token cache, and OpenAPI examples on every
request model."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from pydantic import SecretStr

from app.auth.tokens import AuthError, Principal, TokenIssuer
from app.http.app import create_app
from app.service.cache import AggregateCache
from app.service.context import IF_MATCH_PATTERN, CommandContext, parse_if_match
from app.settings import Settings
from domain.actors import Actor, Role
from domain.case import Case


@pytest.mark.parametrize(("header", "version"), [("3", 3), ('"3"', 3), ('W/"12"', 12)])
def test_if_match_forms(header: str, version: int) -> None:
    assert re.fullmatch(IF_MATCH_PATTERN, header)
    assert parse_if_match(header) == version


@pytest.mark.parametrize("header", ["v3", '"3', "W/3x", "-1", "3.0", "1" * 10])
def test_if_match_pattern_refuses(header: str) -> None:
    assert not re.fullmatch(IF_MATCH_PATTERN, header)


def test_keys_are_scoped_and_ids_derive_from_them() -> None:
    alice, bob = (Principal(s, s, Role.AGENT) for s in ("alice", "bob"))

    def ctx(who: Principal, key: str) -> CommandContext:
        return CommandContext.of(who, method="post", path="/p", body={"a": 1}, idempotency_key=key)

    assert ctx(alice, "k").idempotency_key == "alice:k"
    assert ctx(alice, "k").new_id("insight") == ctx(alice, "k").new_id("insight")
    assert ctx(alice, "k").new_id("insight") != ctx(bob, "k").new_id("insight")
    assert ctx(alice, "k").new_id("insight") != ctx(alice, "k").new_id("proposal")
    no_key = CommandContext.of(alice, method="post", path="/p", body=None)
    assert no_key.idempotency_key is None
    assert no_key.new_id("x") != no_key.new_id("x")
    other_body = CommandContext.of(alice, method="post", path="/p", body={"a": 2})
    assert other_body.fingerprint != no_key.fingerprint


def test_aggregate_cache_hands_out_each_copy_once_and_evicts_lru() -> None:
    cache: AggregateCache[Case] = AggregateCache(capacity=2)
    actor = Actor(uuid.uuid4(), Role.AGENT, "A")
    cases = [Case.open(actor, customer="c", subject="s") for _ in range(3)]
    for case in cases:
        case.collect_events()
        cache.put(case)
    assert len(cache) == 2
    assert cache.take(cases[0].id) is None  # least recently used went first
    assert cache.take(cases[2].id) is cases[2]
    assert cache.take(cases[2].id) is None  # taken: never shared by two commands
    assert (cache.hits, cache.misses) == (1, 2)


def test_verified_tokens_are_cached_but_still_expire() -> None:
    issuer = TokenIssuer("unit-secret-key-that-is-long-enough-for-hs256")
    token = issuer.issue("carol", Role.AGENT, ttl=1)
    assert issuer.verify(token) == issuer.verify(token) == Principal("carol", "carol", Role.AGENT)
    time.sleep(1.05)
    with pytest.raises(AuthError, match="expired"):
        issuer.verify(token)
    with pytest.raises(AuthError):
        TokenIssuer("another-secret-key-that-is-long-enough-hs256").verify(
            issuer.issue("c", Role.AGENT)
        )


def test_every_command_request_body_has_an_example() -> None:
    app = create_app(
        Settings(
            secret_key=SecretStr("unit-secret-key-that-is-long-enough-for-hs256"),
            database_url="sqlite:///x",
        )
    )
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/api/") or method not in {"post", "put", "delete"}:
                continue
            if "agents/me" not in path and "commands" not in " ".join(operation.get("tags", [])):
                continue
            body = operation.get("requestBody")
            if body is None:
                continue
            schema = body["content"]["application/json"]["schema"]
            refs = [schema.get("$ref")] + [s.get("$ref") for s in schema.get("anyOf", [])]
            for ref in filter(None, refs):
                model = schemas[ref.rsplit("/", 1)[1]]
                assert model.get("examples"), f"{method.upper()} {path}: {ref} has no example"
                assert model.get("additionalProperties") is False, ref
                checked += 1
    assert checked >= 17

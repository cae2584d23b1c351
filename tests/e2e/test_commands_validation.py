"""Malformed input never reaches the domain: malformed JSON, wrong types, unknown fields,
too-long strings, bad UUIDs, bad headers -> 422 problem+json listing the field paths, and
the log is unchanged."""

# ruff: noqa: E501 - one table row per bad input reads better than wrapped rows
from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.commands_support import api_for, assert_problem, unique
from tests.e2e.server import Server

CASE = "{case}"
BAD: dict[str, tuple[str, str, Any, dict[str, str], list[str]]] = {
    # name: (method, path, body (str = raw bytes), extra headers, expected error loc)
    "malformed-json": ("POST", f"/api/cases/{CASE}/context", '{"kind": "symptom",', {}, ["body"]),
    "body-not-object": ("POST", f"/api/cases/{CASE}/context", "[1, 2]", {}, ["body"]),
    "missing-field": ("POST", f"/api/cases/{CASE}/context", {"kind": "symptom"}, {}, ["body", "text"]),
    "wrong-type": ("POST", f"/api/cases/{CASE}/context", {"kind": 5, "text": "t"}, {}, ["body", "kind"]),
    "unknown-enum": ("POST", f"/api/cases/{CASE}/insights", {"kind": "rumour", "text": "t"}, {}, ["body", "kind"]),
    "unknown-field": ("POST", f"/api/cases/{CASE}/context", {"kind": "symptom", "text": "t", "admin": True}, {}, ["body", "admin"]),
    "blank-text": ("POST", f"/api/cases/{CASE}/context", {"kind": "symptom", "text": "   "}, {}, ["body", "text"]),
    "too-long": ("POST", f"/api/cases/{CASE}/context", {"kind": "symptom", "text": "x" * 10_001}, {}, ["body", "text"]),
    "too-long-subject": ("POST", "/api/cases", {"customer": "c", "subject": "s" * 2_001}, {}, ["body", "subject"]),
    "bad-uuid-path": ("POST", "/api/cases/not-a-uuid/context", {"kind": "symptom", "text": "t"}, {}, ["path", "case_id"]),
    "bad-uuid-body": ("POST", f"/api/cases/{CASE}/invitations", {"expert_id": "bob", "reason": "r"}, {}, ["body", "expert_id"]),
    "bad-uuid-list": ("POST", f"/api/cases/{CASE}/insights", {"kind": "finding", "text": "t", "refers_to": ["x"]}, {}, ["body", "refers_to", "0"]),
    "too-many-items": ("POST", f"/api/cases/{CASE}/swarm", {"help_needed": "h", "skills_wanted": ["s"] * 51}, {}, ["body", "skills_wanted"]),
    "version-zero": ("POST", f"/api/cases/{CASE}/briefing-acks", {"version": 0}, {}, ["body", "version"]),
    "bad-skill-level": ("PUT", "/api/agents/me", {"skills": {"payments": 9}}, {}, ["body", "skills", "payments"]),
    "bad-if-match": ("POST", f"/api/cases/{CASE}/context", {"kind": "symptom", "text": "t"}, {"If-Match": "v3"}, ["header", "If-Match"]),
    "long-idempotency-key": ("POST", f"/api/cases/{CASE}/context", {"kind": "symptom", "text": "t"}, {"Idempotency-Key": "k" * 201}, ["header", "Idempotency-Key"]),
    "bad-leave-note": ("DELETE", f"/api/cases/{CASE}/participants/me?note={'n' * 2001}", None, {}, ["query", "note"]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_422_and_appends_nothing(server: Server, name: str) -> None:
    method, path, body, headers, loc = BAD[name]
    with api_for(server) as api:
        owner = unique("owner")
        case = api.open_case(owner)
        before = api.position()
        request_headers = api.auth(owner) | headers
        url = path.replace(CASE, str(case))
        if isinstance(body, str):
            request_headers["Content-Type"] = "application/json"
            response = api.http.request(method, url, content=body, headers=request_headers)
        else:
            response = api.http.request(method, url, json=body, headers=request_headers)
        problem = assert_problem(response, 422, "validation-error")
        locs = [error["loc"] for error in problem["errors"]]
        assert any(found[: len(loc)] == loc for found in locs), locs
        assert ".".join(loc) in problem["detail"] or loc == ["body"]
        assert api.position() == before
